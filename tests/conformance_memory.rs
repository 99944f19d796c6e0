//! The provider conformance kit against an in-memory cloud: the smallest backend that passes
//! it, and the reference for what a new cloud's backend must do (resources carry ownership
//! marks; live lists only those; deletes of what is gone succeed; the lock excludes).

#[path = "support/conformance.rs"]
mod conformance;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use updraft::manifest::model::Service;
use updraft::package::Artifact;
use updraft::plan::{Action, Desired, DesiredState, Live, LiveState, Properties, ResourceId, Step};
use updraft::provider::{
    Backend, LockAttempt, LockHolder, ProviderError, Scope, ServiceInfo, StepContext,
};

const FUNCTION: &str = "memory.function";

/// What the cloud holds: each resource with its owner (service, stage), or none.
#[derive(Default)]
struct Store {
    resources: BTreeMap<ResourceId, (Properties, Option<(String, String)>)>,
    lock: Option<LockHolder>,
}

#[derive(Clone, Default)]
struct MemoryCloud {
    store: Arc<Mutex<Store>>,
    runtime: Arc<Option<tokio::runtime::Runtime>>,
}

fn memory_cloud(_test: &str) -> MemoryCloud {
    MemoryCloud {
        store: Arc::default(),
        runtime: Arc::new(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime"),
        )),
    }
}

struct MemoryBackend {
    scope: Scope,
    store: Arc<Mutex<Store>>,
}

impl MemoryBackend {
    fn owner(&self) -> (String, String) {
        (self.scope.service.clone(), self.scope.stage.clone())
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn target(&self) -> String {
        "memory".into()
    }

    fn desired(
        &self,
        service: &Service,
        artifacts: &[Artifact],
    ) -> Result<DesiredState, ProviderError> {
        let mut state = DesiredState::default();
        for (key, function) in &service.functions {
            let code = artifacts
                .iter()
                .find(|a| a.functions.contains(key))
                .map(|a| a.sha256.clone())
                .unwrap_or_default();
            state.resources.push(Desired {
                id: ResourceId::new(FUNCTION, function.name.clone()),
                properties: Properties::from([
                    ("memory_size".into(), json!(function.memory_size)),
                    ("code_sha256".into(), json!(code)),
                ]),
                ..Desired::default()
            });
        }
        Ok(state)
    }

    async fn live(&self) -> Result<LiveState, ProviderError> {
        let store = self.store.lock().unwrap();
        let owner = Some(self.owner());
        Ok(LiveState {
            resources: store
                .resources
                .iter()
                .filter(|(_, (_, marks))| *marks == owner)
                .map(|(id, (properties, _))| Live {
                    id: id.clone(),
                    properties: properties.clone(),
                    ..Live::default()
                })
                .collect(),
            ..LiveState::default()
        })
    }

    async fn apply(
        &self,
        step: &Step,
        properties: &Properties,
        _: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let mut store = self.store.lock().unwrap();
        match step.action {
            // Gone already is deleted.
            Action::Delete => {
                store.resources.remove(&step.id);
            }
            _ => {
                store
                    .resources
                    .insert(step.id.clone(), (properties.clone(), Some(self.owner())));
            }
        }
        Ok(Properties::new())
    }

    async fn lock(&self, holder: &LockHolder) -> Result<LockAttempt, ProviderError> {
        let mut store = self.store.lock().unwrap();
        match &store.lock {
            Some(other) => Ok(LockAttempt::Held(other.clone())),
            None => {
                store.lock = Some(holder.clone());
                Ok(LockAttempt::Acquired)
            }
        }
    }

    async fn unlock(&self, id: &str) -> Result<(), ProviderError> {
        let mut store = self.store.lock().unwrap();
        if store.lock.as_ref().is_some_and(|holder| holder.id == id) {
            store.lock = None;
        }
        Ok(())
    }

    async fn lock_holder(&self) -> Result<Option<LockHolder>, ProviderError> {
        Ok(self.store.lock().unwrap().lock.clone())
    }

    fn info(&self, _: &LiveState) -> ServiceInfo {
        ServiceInfo::default()
    }
}

impl conformance::Cloud for MemoryCloud {
    fn fixture(&self) -> tempfile::TempDir {
        let dir = conformance::fixture_dir(
            "service: kit\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  one:\n    handler: handler.main\n  two:\n    handler: handler.main\n    memorySize: 256\n",
            &[],
        );
        std::fs::write(
            dir.path().join("handler.js"),
            "exports.main = async () => 'ok';\n",
        )
        .expect("the handler is written");
        dir
    }

    fn connect(&self, service: &Service) -> Arc<dyn Backend> {
        Arc::new(MemoryBackend {
            scope: Scope {
                service: service.name.clone(),
                stage: service.provider.stage.clone(),
                region: "memory-1".into(),
            },
            store: Arc::clone(&self.store),
        })
    }

    fn delete_function(&self, deployed_name: &str) {
        let mut store = self.store.lock().unwrap();
        store
            .resources
            .remove(&ResourceId::new(FUNCTION, deployed_name));
    }

    fn create_unowned_function(&self, deployed_name: &str) {
        let mut store = self.store.lock().unwrap();
        store.resources.insert(
            ResourceId::new(FUNCTION, deployed_name),
            (Properties::new(), None),
        );
    }

    fn function_exists(&self, deployed_name: &str) -> bool {
        let store = self.store.lock().unwrap();
        store
            .resources
            .contains_key(&ResourceId::new(FUNCTION, deployed_name))
    }

    fn owned(&self, service: &str, stage: &str) -> Vec<String> {
        let store = self.store.lock().unwrap();
        let owner = Some((service.to_string(), stage.to_string()));
        store
            .resources
            .iter()
            .filter(|(_, (_, marks))| *marks == owner)
            .map(|(id, _)| id.to_string())
            .collect()
    }

    fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime
            .as_ref()
            .as_ref()
            .expect("the runtime")
            .block_on(future)
    }
}

conformance_suite!(memory_cloud);
