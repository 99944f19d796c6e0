//! The provider conformance kit against an in-memory cloud (`support/memory.rs`): the smallest
//! backend that passes it, and the reference for what a new cloud's backend must do
//! (resources carry ownership marks; live lists only those; deletes of what is gone succeed;
//! the lock excludes).

#[path = "support/conformance.rs"]
mod conformance;

#[path = "support/memory.rs"]
mod memory;

use std::sync::{Arc, Mutex};

use memory::{Memory, Store, FUNCTION};
use updraft::manifest::model::Service;
use updraft::plan::{Properties, ResourceId};
use updraft::provider::Backend;

#[derive(Clone)]
struct MemoryCloud {
    store: Arc<Mutex<Store>>,
    runtime: Arc<tokio::runtime::Runtime>,
}

fn memory_cloud(_test: &str) -> MemoryCloud {
    MemoryCloud {
        store: Arc::default(),
        runtime: Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime"),
        ),
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
        Arc::new(Memory::on(
            Arc::clone(&self.store),
            &service.name,
            &service.provider.stage,
        ))
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
        self.runtime.block_on(future)
    }
}

conformance_suite!(memory_cloud);
