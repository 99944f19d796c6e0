//! The provider conformance kit against AWS, emulated by moto on loopback: the example service
//! (REST and HTTP APIs, a schedule, a queue and its worker), deployed through the library's
//! sequences by a backend connected afresh for every step, as separate processes would.

#[path = "support/conformance.rs"]
mod conformance;
// Shared with the deploy tests, which use more of them.
#[allow(dead_code)]
#[path = "aws_deploy/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "aws_deploy/proxy.rs"]
mod proxy;

use std::io::Write;
use std::sync::Arc;

use updraft::manifest::model::Service;
use updraft::provider::{Backend, Scope};

struct AwsCloud {
    moto: moto::Moto,
    runtime: tokio::runtime::Runtime,
}

fn aws_cloud(test: &str) -> AwsCloud {
    AwsCloud {
        moto: moto::moto(test),
        runtime: moto::runtime(),
    }
}

impl AwsCloud {
    fn lambda(&self) -> aws_sdk_lambda::Client {
        moto::lambda(&self.runtime, &self.moto)
    }
}

/// A zip with one handler file, for a function made behind updraft's back.
fn handler_zip() -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut bytes);
        zip.start_file("index.js", zip::write::SimpleFileOptions::default())
            .expect("a zip entry");
        zip.write_all(b"exports.handler = async () => 'not ours';\n")
            .expect("the entry is written");
        zip.finish().expect("the zip is finished");
    }
    bytes.into_inner()
}

impl conformance::Cloud for AwsCloud {
    fn fixture(&self) -> tempfile::TempDir {
        let manifest = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("serverless.example.yml"),
        )
        .expect("the example manifest reads");
        conformance::fixture_dir(
            &manifest,
            &["examples/node/handler.mjs", "examples/python/handler.py"],
        )
    }

    fn connect(&self, service: &Service) -> Arc<dyn Backend> {
        let scope = Scope {
            service: service.name.clone(),
            stage: service.provider.stage.clone(),
            region: service.provider.region.clone(),
        };
        let backend = self
            .runtime
            .block_on(updraft::provider::aws::connect(scope, None, None, service))
            .unwrap_or_else(|e| panic!("connects to moto: {e}"));
        Arc::new(backend)
    }

    fn delete_function(&self, deployed_name: &str) {
        self.runtime
            .block_on(
                self.lambda()
                    .delete_function()
                    .function_name(deployed_name)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("moto deletes {deployed_name}: {e:?}"));
    }

    fn create_unowned_function(&self, deployed_name: &str) {
        let iam = moto::iam(&self.runtime, &self.moto);
        let lambda = self.lambda();
        self.runtime.block_on(async {
            let role = iam
                .create_role()
                .role_name("another-teams-role")
                .assume_role_policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                )
                .send()
                .await
                .expect("a role of another team");
            lambda
                .create_function()
                .function_name(deployed_name)
                .runtime(aws_sdk_lambda::types::Runtime::Nodejs20x)
                .handler("index.handler")
                .role(role.role().map(|r| r.arn()).unwrap_or_default())
                .code(
                    aws_sdk_lambda::types::FunctionCode::builder()
                        .zip_file(handler_zip().into())
                        .build(),
                )
                .send()
                .await
                .expect("a function without updraft's tags");
        });
    }

    fn function_exists(&self, deployed_name: &str) -> bool {
        self.runtime
            .block_on(
                self.lambda()
                    .get_function()
                    .function_name(deployed_name)
                    .send(),
            )
            .is_ok()
    }

    fn owned(&self, service: &str, stage: &str) -> Vec<String> {
        let config = moto::direct_config(&self.runtime, &self.moto);
        moto::owned(&self.runtime, &config, service, stage)
    }

    fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }
}

conformance_suite!(aws_cloud, #[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]);
