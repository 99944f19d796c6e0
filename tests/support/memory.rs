//! A cloud in memory, for driving the library's sequences without any emulator: one resource
//! per function (its memory size and code hash), each carrying its owner's marks (service and
//! stage) or none; a lock; deletes of a chosen resource refused as a cloud that denies them
//! would. The smallest backend that passes the conformance kit.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use updraft::manifest::model::Service;
use updraft::package::Artifact;
use updraft::plan::{Action, Desired, DesiredState, Live, LiveState, Properties, ResourceId, Step};
use updraft::provider::{
    Backend, FunctionInfo, LockAttempt, LockHolder, ProviderError, Scope, ServiceInfo, StepContext,
};

pub const FUNCTION: &str = "memory.function";

/// What the cloud holds: each resource with its owner (service, stage), or none.
#[derive(Default)]
pub struct Store {
    pub resources: BTreeMap<ResourceId, (Properties, Option<(String, String)>)>,
    pub lock: Option<LockHolder>,
}

/// A backend for one service and stage over a store that other backends may share.
pub struct Memory {
    scope: Scope,
    pub store: Arc<Mutex<Store>>,
    /// Deletes of this resource name fail with an AccessDenied answer.
    pub refuse_delete: Option<String>,
    calls: Mutex<Vec<(Action, String)>>,
}

impl Memory {
    /// A backend for `svc` (stage `dev`) over a store of its own.
    pub fn new() -> Memory {
        Memory::on(Arc::default(), "svc", "dev")
    }

    /// A backend for `service` and `stage` over `store`.
    pub fn on(store: Arc<Mutex<Store>>, service: &str, stage: &str) -> Memory {
        Memory {
            scope: Scope {
                service: service.into(),
                stage: stage.into(),
                region: "memory-1".into(),
            },
            store,
            refuse_delete: None,
            calls: Mutex::new(Vec::new()),
        }
    }

    fn owner(&self) -> Option<(String, String)> {
        Some((self.scope.service.clone(), self.scope.stage.clone()))
    }

    /// The names of the resources this backend's service owns.
    pub fn names(&self) -> Vec<String> {
        let owner = self.owner();
        let store = self.store.lock().unwrap();
        store
            .resources
            .iter()
            .filter(|(_, (_, marks))| *marks == owner)
            .map(|(id, _)| id.name.clone())
            .collect()
    }

    /// A property of a resource, as the cloud holds it.
    pub fn property(&self, name: &str, field: &str) -> Option<Json> {
        let store = self.store.lock().unwrap();
        store
            .resources
            .get(&ResourceId::new(FUNCTION, name))
            .and_then(|(properties, _)| properties.get(field).cloned())
    }

    /// Every apply call: what and on which resource.
    pub fn calls(&self) -> Vec<(Action, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Backend for Memory {
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
        let owner = self.owner();
        let store = self.store.lock().unwrap();
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
        self.calls
            .lock()
            .unwrap()
            .push((step.action, step.id.name.clone()));
        let mut store = self.store.lock().unwrap();
        if step.action == Action::Delete {
            if self.refuse_delete.as_deref() == Some(step.id.name.as_str()) {
                return Err(ProviderError::Call {
                    operation: "memory:Delete".into(),
                    resource: step.id.to_string(),
                    message: "AccessDenied: not allowed to delete".into(),
                    help: "grant it".into(),
                });
            }
            // Gone already is deleted.
            store.resources.remove(&step.id);
        } else {
            store
                .resources
                .insert(step.id.clone(), (properties.clone(), self.owner()));
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

    fn info(&self, live: &LiveState) -> ServiceInfo {
        ServiceInfo {
            functions: live
                .resources
                .iter()
                .map(|r| FunctionInfo {
                    name: r.id.name.clone(),
                    runtime: None,
                    memory_size: r.properties.get("memory_size").and_then(Json::as_u64),
                    timeout: None,
                })
                .collect(),
            endpoints: Vec::new(),
        }
    }
}
