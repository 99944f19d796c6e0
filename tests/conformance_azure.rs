//! The provider conformance kit against Azure: Resource Manager, the deployment endpoint and
//! the apps' host are the in-repo fake, which holds every request body to Azure's published API
//! descriptions; the blobs (the deploy lock, the deployment container) live in Azurite
//! (started by `bash scripts/test.sh`). Azure deploys a service's functions together, as one
//! Function App: the kit's "function" is the app. Each test gets its own fake and its own
//! service name, so its own lock blob.

#[path = "support/conformance.rs"]
mod conformance;

#[path = "support/azure_fake.rs"]
mod azure_fake;

#[path = "support/azurite.rs"]
mod azurite;

use std::sync::Arc;

use azure_fake::{AzureFake, SUBSCRIPTION};
use serde_json::json;
use updraft::manifest::model::Service;
use updraft::provider::azure::connection::Endpoints;
use updraft::provider::{Backend, Scope};

/// A service name for one test: unique per test and run, so each has its own lock blob.
fn service_for(test: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    test.hash(&mut hasher);
    std::process::id().hash(&mut hasher);
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .hash(&mut hasher);
    format!("kit{:08x}", hasher.finish() as u32)
}

struct Azure {
    fake: AzureFake,
    service: String,
    runtime: tokio::runtime::Runtime,
}

fn azure(test: &str) -> Azure {
    Azure {
        fake: AzureFake::start(0, &azurite::url()),
        service: service_for(test),
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime"),
    }
}

impl Azure {
    fn group(&self) -> String {
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/{}-dev-rg",
            self.service
        )
    }
}

impl Drop for Azure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(
                self.fake.violations(),
                Vec::<String>::new(),
                "bodies Azure would refuse"
            );
        }
    }
}

impl conformance::Cloud for Azure {
    fn fixture(&self) -> tempfile::TempDir {
        let manifest = format!(
            "service: {}\nprovider:\n  name: azure\n  subscriptionId: {SUBSCRIPTION}\n  region: West Europe\n  runtime: nodejs20\nfunctions:\n  one:\n    handler: handlers.one\n    events:\n      - http: true\n        route: one\n  two:\n    handler: handlers.two\n    events:\n      - timer: true\n        schedule: '0 */10 * * * *'\n",
            self.service
        );
        let dir = conformance::fixture_dir(&manifest, &[]);
        std::fs::write(
            dir.path().join("handlers.js"),
            "module.exports.one = async (context) => { context.res = { body: 'one' }; };\nmodule.exports.two = async () => {};\n",
        )
        .expect("the handlers are written");
        dir
    }

    fn connect(&self, service: &Service) -> Arc<dyn Backend> {
        let scope = Scope {
            service: service.name.clone(),
            stage: service.provider.stage.clone(),
            region: service.provider.region.clone(),
        };
        let endpoints = Endpoints {
            management: self.fake.url.clone(),
            scm: Some(format!("{}/scm", self.fake.url)),
            functions: Some(format!("{}/functions", self.fake.url)),
            insights: Some(format!("{}/insights", self.fake.url)),
        };
        let backend = updraft::provider::azure::connect_to(scope, service, endpoints)
            .unwrap_or_else(|e| panic!("connects to the fake: {e}"));
        Arc::new(backend)
    }

    /// The Function App holds the functions: deleting "a function" deletes the app.
    fn delete_function(&self, deployed_name: &str) {
        self.fake
            .remove(&format!("/providers/Microsoft.Web/sites/{deployed_name}"));
    }

    /// Someone else's app in a group of its own, named like the service's.
    fn create_unowned_function(&self, deployed_name: &str) {
        let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{deployed_name}-rg");
        self.fake.insert(
            &group,
            json!({"name": format!("{deployed_name}-rg"), "location": "westeurope", "tags": {}}),
        );
        self.fake.insert(
            &format!("{group}/providers/Microsoft.Web/sites/{deployed_name}"),
            json!({
                "name": deployed_name,
                "type": "Microsoft.Web/sites",
                "kind": "functionapp,linux",
                "location": "westeurope",
                "tags": {"team": "another"},
                "properties": {"state": "Running"}
            }),
        );
    }

    fn function_exists(&self, deployed_name: &str) -> bool {
        self.fake
            .resource(&format!("/providers/Microsoft.Web/sites/{deployed_name}"))
            .is_some()
    }

    fn owned(&self, service: &str, stage: &str) -> Vec<String> {
        self.fake.owned(service, stage)
    }

    fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    fn deployed_names(&self, loaded: &conformance::Loaded) -> Vec<String> {
        vec![format!(
            "{}-{}",
            loaded.service.name, loaded.service.provider.stage
        )]
    }
}

conformance_suite!(azure, #[ignore = "needs Azurite: bash scripts/test.sh runs it"]);

/// The group the fixture's app lives in is the service's own.
#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn the_fixture_lives_in_a_resource_group_of_its_own() {
    let cloud = azure("group-of-its-own");
    let loaded = conformance::load_fixture(conformance::Cloud::fixture(&cloud));
    conformance::deploy(&cloud, &loaded).unwrap_or_else(|e| panic!("the deploy succeeds: {e}"));
    assert!(cloud.fake.resource(&cloud.group()).is_some());
    conformance::remove(&cloud, &loaded).unwrap_or_else(|e| panic!("the remove succeeds: {e}"));
    assert!(cloud.fake.resource(&cloud.group()).is_none());
}
