//! The provider conformance kit against Google Cloud: the control plane (Cloud Functions v2,
//! Cloud Scheduler, Cloud Run IAM) is the in-repo fake, which holds every request body to
//! Google's published discovery documents; the deploy lock lives in a real Cloud Storage
//! emulator (`scripts/gcs_emulator.py`, started by `bash scripts/test.sh`). Each test gets its
//! own fake and its own project, so its own lock bucket.

#[path = "support/conformance.rs"]
mod conformance;

#[path = "support/gcp_fake.rs"]
mod gcp_fake;

#[path = "support/gcs.rs"]
mod gcs;

use std::sync::Arc;

use gcp_fake::GcpFake;
use serde_json::json;
use updraft::manifest::model::Service;
use updraft::provider::gcp::clients::Endpoints;
use updraft::provider::{Backend, Scope};

const REGION: &str = "us-central1";

struct GoogleCloud {
    fake: GcpFake,
    project: String,
    storage: String,
    runtime: tokio::runtime::Runtime,
}

fn google_cloud(test: &str) -> GoogleCloud {
    GoogleCloud {
        fake: GcpFake::start(0),
        project: gcs::project_for(test),
        storage: gcs::url(),
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime"),
    }
}

impl GoogleCloud {
    fn function_name(&self, id: &str) -> String {
        format!(
            "projects/{}/locations/{REGION}/functions/{id}",
            self.project
        )
    }

    fn endpoints(&self) -> Endpoints {
        Endpoints {
            functions: self.fake.url.clone(),
            scheduler: self.fake.url.clone(),
            run: self.fake.url.clone(),
            storage: self.storage.clone(),
            logging: self.fake.url.clone(),
        }
    }
}

impl Drop for GoogleCloud {
    fn drop(&mut self) {
        // Every body updraft sent fits Google's published schemas.
        let violations = self.fake.violations();
        if !std::thread::panicking() {
            assert_eq!(
                violations,
                Vec::<String>::new(),
                "bodies Google would refuse"
            );
        }
    }
}

impl conformance::Cloud for GoogleCloud {
    fn fixture(&self) -> tempfile::TempDir {
        let manifest = format!(
            "service: kit\nprovider:\n  name: google\n  project: {}\n  region: {REGION}\n  runtime: nodejs20\nfunctions:\n  one:\n    handler: one\n    events:\n      - http: path\n  two:\n    handler: two\n    memorySize: 512\n    events:\n      - schedule: rate(10 minutes)\n",
            self.project
        );
        let dir = conformance::fixture_dir(&manifest, &[]);
        std::fs::write(
            dir.path().join("index.js"),
            "exports.one = (req, res) => res.send('one');\nexports.two = (req, res) => res.send('two');\n",
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
        let backend = self
            .runtime
            .block_on(updraft::provider::gcp::backend::connect_to(
                scope,
                service,
                std::path::Path::new("."),
                self.endpoints(),
            ))
            .unwrap_or_else(|e| panic!("connects to the fake: {e}"));
        Arc::new(backend)
    }

    fn delete_function(&self, deployed_name: &str) {
        self.fake
            .remove_function(&self.function_name(deployed_name));
    }

    fn create_unowned_function(&self, deployed_name: &str) {
        let name = self.function_name(deployed_name);
        self.fake.insert_function(
            &name,
            json!({
                "name": name,
                "state": "ACTIVE",
                "labels": {"team": "another"},
                "buildConfig": {"runtime": "nodejs20", "entryPoint": "handler"},
                "serviceConfig": {
                    "service": format!("projects/{}/locations/{REGION}/services/{deployed_name}", self.project),
                    "availableMemory": "256Mi",
                    "timeoutSeconds": 60
                }
            }),
        );
    }

    fn function_exists(&self, deployed_name: &str) -> bool {
        self.fake
            .functions()
            .contains_key(&self.function_name(deployed_name))
    }

    fn owned(&self, service: &str, stage: &str) -> Vec<String> {
        gcs::owned(&self.fake, service, stage)
    }

    fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }
}

conformance_suite!(google_cloud, #[ignore = "needs the Cloud Storage emulator: bash scripts/test.sh runs it"]);
