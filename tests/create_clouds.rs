//! The Google and Azure templates of `updraft create`, tried as a user without an account tries
//! them: run locally (`invoke local` and `updraft offline`, which call each function the way its
//! cloud's runtime does), and deployed to the fakes of Google's and Azure's control planes (with
//! the Cloud Storage emulator and Azurite that `scripts/test.sh` starts). Each deploys its
//! function, plans no change right after, and removes everything it made.

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;

#[path = "support/azure_fake.rs"]
mod azure_fake;
#[path = "support/azurite.rs"]
mod azurite;
#[path = "support/gcp_fake.rs"]
mod gcp_fake;
#[path = "support/gcs.rs"]
mod gcs;

use std::path::{Path, PathBuf};

use azure_fake::AzureFake;
use gcp_fake::GcpFake;
use offline_process::Offline;

/// The four templates, where `updraft offline` serves each one's function, and what its
/// runtime needs: the azure-python handler imports `azure.functions` (its requirements).
const LOCAL: [(&str, &str); 4] = [
    ("google-nodejs", "/hello"),
    ("google-python", "/hello"),
    ("azure-nodejs", "/api/hello"),
    ("azure-python", "/api/hello"),
];

fn runtime_environment(template: &str) -> Vec<(&'static str, String)> {
    if template == "azure-python" {
        let python = common::python_with("azure.functions", "UPDRAFT_TEST_PYTHON");
        vec![("UPDRAFT_PYTHON", python.display().to_string())]
    } else {
        Vec::new()
    }
}

fn borrowed<'a>(environment: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// The greeting each template's function answers.
fn assert_greets(template: &str, body: &serde_json::Value, name: &str) {
    assert_eq!(
        body["message"],
        format!("hello, {name}"),
        "{template}: {body}"
    );
    assert_eq!(body["service"], "shop", "{template}: {body}");
    assert_eq!(body["stage"], "dev", "{template}: {body}");
}

#[test]
#[ignore = "needs azure-functions in .venv: bash scripts/test.sh installs it"]
fn google_and_azure_templates_answer_invoke_local_as_written() {
    for (template, _) in LOCAL {
        let (_root, service) = created(template);
        let environment = runtime_environment(template);
        let env = borrowed(&environment);
        let invoked = common::updraft(&service, &["invoke", "local", "-f", "hello"], &env);
        assert_eq!(invoked.status, Some(0), "{template}: {}", invoked.stderr);
        let response: serde_json::Value = serde_json::from_str(invoked.stdout.trim())
            .unwrap_or_else(|error| panic!("{template}: {error}: {}", invoked.stdout));
        assert_eq!(response["statusCode"], 200, "{template}: {response}");
        let content_type = response["headers"]["content-type"].as_str().unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{template}: {response}"
        );
        let body: serde_json::Value =
            serde_json::from_str(response["body"].as_str().unwrap_or_default())
                .unwrap_or_else(|error| panic!("{template}: {error}: {response}"));
        assert_greets(template, &body, "world");
    }
}

#[test]
#[ignore = "needs azure-functions in .venv: bash scripts/test.sh installs it"]
fn google_and_azure_templates_serve_their_function_under_offline() {
    for (template, path) in LOCAL {
        let (_root, service) = created(template);
        let environment = runtime_environment(template);
        let env = borrowed(&environment);
        let mut offline = Offline::launch(&service, &["offline"], "serverless.yml", &[], &env);
        assert!(
            offline.seen.iter().any(|line| line.contains(path)),
            "{template}: the route is listed at {path}:\n{}",
            offline.seen.join("\n")
        );
        let body = offline.get_json(&format!("{path}?name=Ada"));
        assert_greets(template, &body, "Ada");
        assert_eq!(
            offline.interrupt(),
            Some(0),
            "{template}: {}",
            offline.seen.join("\n")
        );
    }
}

/// `updraft create --template NAME --path shop` in a scratch directory.
fn created(template: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("a scratch directory");
    let run = common::updraft(
        root.path(),
        &["create", "--template", template, "--path", "shop"],
        &[],
    );
    assert_eq!(run.status, Some(0), "create {template}: {}", run.stderr);
    let service = root.path().join("shop");
    (root, service)
}

/// Deploy, a plan that finds nothing to change, remove; `owned` lists what the fake holds of
/// the service.
fn deploy_plan_remove(
    template: &str,
    service: &Path,
    env: &[(&str, &str)],
    owned: impl Fn() -> Vec<String>,
) {
    let step = |args: &[&str]| common::updraft(service, args, env);
    let deploy = step(&["deploy", "--yes"]);
    assert_eq!(
        deploy.status,
        Some(0),
        "{template}: {}\n{}",
        deploy.stdout,
        deploy.stderr
    );
    assert!(!owned().is_empty(), "{template}: the deploy made nothing");
    let plan = step(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status,
        Some(0),
        "{template}: a plan right after the deploy changes nothing:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
    let remove = step(&["remove", "--yes"]);
    assert_eq!(remove.status, Some(0), "{template}: {}", remove.stderr);
    assert_eq!(
        owned(),
        Vec::<String>::new(),
        "{template}: remove leaves nothing"
    );
}

#[test]
#[ignore = "needs the Cloud Storage emulator: bash scripts/test.sh starts it"]
fn google_templates_deploy_to_the_fake_plan_no_change_and_remove_clean() {
    for template in ["google-nodejs", "google-python"] {
        let fake = GcpFake::start(0);
        let project = gcs::project_for(template);
        let storage = gcs::url();
        let (_root, service) = created(template);
        let env = [
            ("UPDRAFT_GCP_ENDPOINT", fake.url.as_str()),
            ("UPDRAFT_GCP_STORAGE_ENDPOINT", storage.as_str()),
            ("GOOGLE_CLOUD_PROJECT", project.as_str()),
        ];
        deploy_plan_remove(template, &service, &env, || {
            gcs::owned(&fake, "shop", "dev")
        });
        assert_eq!(fake.violations(), Vec::<String>::new(), "{template}");
    }
}

#[test]
#[ignore = "needs Azurite: bash scripts/test.sh starts it"]
fn azure_templates_deploy_to_the_fake_plan_no_change_and_remove_clean() {
    for template in ["azure-nodejs", "azure-python"] {
        let fake = AzureFake::start(0, &azurite::url());
        let (_root, service) = created(template);
        let environment = fake.environment();
        deploy_plan_remove(template, &service, &borrowed(&environment), || {
            fake.owned("shop", "dev")
        });
        assert_eq!(fake.violations(), Vec::<String>::new(), "{template}");
    }
}
