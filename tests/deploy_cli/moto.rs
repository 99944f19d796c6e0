//! moto for the end-to-end deploy tests: one test at a time (its state is shared), reset and
//! configured for Lambda without Docker, and the environment the `updraft` binary gets to reach
//! it.

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

#[path = "../support/moto.rs"]
mod support;
// Not every test binary that includes this file starts a runtime of its own.
#[allow(unused_imports)]
pub use support::{owned, runtime};

/// moto's default account.
// Not every test binary that includes this file names it.
#[allow(dead_code)]
pub const ACCOUNT: &str = "123456789012";

/// A reset moto, held for one test.
pub struct Moto {
    pub url: String,
    _serial: MutexGuard<'static, ()>,
}

/// moto for one test, reset; panics when it is not configured or does not answer.
pub fn moto(test: &str) -> Moto {
    let taken = support::take(test);
    Moto {
        url: taken.url,
        _serial: taken.serial,
    }
}

impl Moto {
    /// What the binary needs to reach moto as a user would point it at an emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// An SDK configuration for checking moto's state from the test.
    pub fn sdk(&self, runtime: &tokio::runtime::Runtime) -> aws_config::SdkConfig {
        support::sdk_config(runtime, &self.url, "us-east-1")
    }
}

/// The example service (manifest and handlers) copied into a fresh directory, so packaging
/// walks only it.
pub fn example_service() -> (tempfile::TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let service = dir.path().to_path_buf();
    std::fs::copy(
        root.join("serverless.example.yml"),
        service.join("serverless.yml"),
    )
    .expect("the example manifest copies");
    for language in ["node", "python"] {
        let from = root.join("examples").join(language);
        let to = service.join("examples").join(language);
        std::fs::create_dir_all(&to).expect("the examples folder is created");
        for entry in std::fs::read_dir(&from).expect("the example handlers are there") {
            let entry = entry.expect("a readable entry");
            if entry.path().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).expect("a handler copies");
            }
        }
    }
    (dir, service)
}
