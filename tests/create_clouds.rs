//! The Google and Azure templates of `updraft create`, deployed as a user without an account
//! tries them: to the fakes of Google's and Azure's control planes (with the Cloud Storage
//! emulator and Azurite that `scripts/test.sh` starts). Each deploys its function, plans no
//! change right after, and removes everything it made.

mod common;

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
        let env: Vec<(&str, &str)> = environment
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        deploy_plan_remove(template, &service, &env, || fake.owned("shop", "dev"));
        assert_eq!(fake.violations(), Vec::<String>::new(), "{template}");
    }
}
