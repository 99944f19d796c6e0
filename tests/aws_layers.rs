//! Lambda layers built from the service (`layers:`), deployed to a local moto as `updraft
//! deploy` deploys them (recording the deploy state before and after applying, as the deploy
//! command does): a function attaches a layer by `{Ref: {Key}LambdaLayer}` and runs with its
//! version's ARN, a second plan is a no-op, a changed file in the layer publishes a new version
//! that the function moves to while the old version is deleted, and remove deletes every
//! version; with `retain: true`, versions stay.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//!
//! Where moto differs from AWS, the tests work around it and say so:
//! - moto's ListLayerVersions also reports each version's `Content` (AWS does not); updraft
//!   reads the content hash with GetLayerVersion, as it must on AWS, so this changes nothing;
//! - moto reports an empty `LicenseInfo` for a version published without one (AWS leaves it
//!   out); updraft reads an empty license as none, as it reads an empty description.

#[allow(dead_code)]
#[path = "aws_triggers/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "aws_deploy/driver.rs"]
mod driver;
#[allow(dead_code, clippy::result_large_err)]
#[path = "aws_deploy/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "aws_deploy/proxy.rs"]
mod proxy;

use clients::Clients;
use driver::{fixture, Driver, Fixture};
use updraft::plan::{Action, DesiredState, Plan};
use updraft::provider::engine::Outcome;
use updraft::provider::{Backend, LockAttempt, LockHolder, Operation};

const HANDLER: &str = "exports.handle = async (event) => event;\n";

/// A service whose function `convert` attaches the layer `ffmpeg` (built from `layer/`, whose
/// binary holds `binary`) by its logical id.
fn service(binary: &str, retain: bool) -> Fixture {
    let manifest = format!(
        r#"service: media
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
functions:
  convert:
    handler: handler.handle
    layers:
      - {{Ref: FfmpegLambdaLayer}}
layers:
  ffmpeg:
    path: layer
    description: ffmpeg for the converter
    compatibleRuntimes: [nodejs20.x]
    retain: {retain}
"#
    );
    fixture(
        &manifest,
        &[("handler.js", HANDLER), ("layer/bin/ffmpeg", binary)],
    )
}

/// As `updraft deploy` applies a plan: under the lock (which makes the deployment bucket), the
/// deploy state records what is about to be made before anything changes (a layer's name,
/// since layers take no tags), and afterwards what the manifest names and what is live.
fn deploy(driver: &Driver, desired: &DesiredState) -> (Plan, Outcome) {
    let holder = LockHolder::for_this_process(Operation::Deploy, "test", "dev");
    match driver.runtime.block_on(driver.backend.lock(&holder)) {
        Ok(LockAttempt::Acquired) => {}
        other => panic!("the lock is free: {other:?}"),
    }
    let (plan, live) = driver.plan_against(desired);
    driver
        .runtime
        .block_on(driver.backend.record_intent(desired))
        .unwrap_or_else(|e| panic!("the deploy state is recorded: {e}"));
    let outcome = driver.apply(&plan, &live);
    assert!(
        outcome.succeeded(),
        "the deploy succeeds: failed {:?}, not started {:?}",
        outcome.failed,
        outcome.not_started
    );
    let live = driver.live();
    driver
        .runtime
        .block_on(driver.backend.record_outcome(desired, &live))
        .unwrap_or_else(|e| panic!("the outcome is recorded: {e}"));
    driver
        .runtime
        .block_on(driver.backend.unlock(&holder.id))
        .unwrap_or_else(|e| panic!("the lock is released: {e}"));
    (plan, outcome)
}

/// As `updraft remove` does it: delete what is live, then record what is left.
fn remove(driver: &Driver) -> Plan {
    let (plan, live) = driver.plan_against(&DesiredState::default());
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    let left = driver.live();
    driver
        .runtime
        .block_on(
            driver
                .backend
                .record_outcome(&DesiredState::default(), &left),
        )
        .unwrap_or_else(|e| panic!("the outcome is recorded: {e}"));
    plan
}

/// The layer's versions, newest first, as Lambda lists them.
fn versions(driver: &Driver, aws: &Clients) -> Vec<(i64, String)> {
    let answer = driver
        .runtime
        .block_on(aws.lambda.list_layer_versions().layer_name("ffmpeg").send())
        .unwrap_or_else(|e| panic!("moto lists the layer's versions: {e}"));
    answer
        .layer_versions()
        .iter()
        .map(|v| {
            (
                v.version(),
                v.layer_version_arn().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The layer version ARNs the function runs with.
fn function_layers(driver: &Driver, aws: &Clients) -> Vec<String> {
    let configuration = driver
        .runtime
        .block_on(
            aws.lambda
                .get_function_configuration()
                .function_name("media-dev-convert")
                .send(),
        )
        .unwrap_or_else(|e| panic!("the function exists: {e}"));
    configuration
        .layers()
        .iter()
        .filter_map(|layer| layer.arn().map(str::to_string))
        .collect()
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{} {}", s.action.name(), s.id))
        .collect()
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_layer_attached_by_ref_deploys_is_republished_only_when_changed_and_remove_deletes_its_versions(
) {
    let moto = moto::moto(
        "a_layer_attached_by_ref_deploys_is_republished_only_when_changed_and_remove_deletes_its_versions",
    );
    let first = service("ffmpeg 6.0\n", false);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);

    let (plan, _) = deploy(&driver, &driver.desired(&first));
    assert!(
        changes(&plan).contains(&"create aws.lambda.layer ffmpeg".to_string()),
        "{:?}",
        changes(&plan)
    );
    let published = versions(&driver, &aws);
    assert_eq!(published.len(), 1, "one version: {published:?}");
    let (_, first_arn) = published[0].clone();
    assert!(first_arn.ends_with(":layer:ffmpeg:1"), "{first_arn}");
    assert_eq!(function_layers(&driver, &aws), [first_arn]);
    let version = driver
        .runtime
        .block_on(
            aws.lambda
                .get_layer_version()
                .layer_name("ffmpeg")
                .version_number(1)
                .send(),
        )
        .expect("version 1 exists");
    assert_eq!(version.description(), Some("ffmpeg for the converter"));
    assert_eq!(
        version
            .compatible_runtimes()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
        ["nodejs20.x"]
    );

    // Nothing changed: nothing is published, nothing else changes.
    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    // A changed file: a new version, the function moves to it, the old version is gone.
    let second = service("ffmpeg 6.1\n", false);
    let (plan, _) = deploy(&driver, &driver.desired(&second));
    let layer = plan
        .steps
        .iter()
        .find(|s| s.id.kind == "aws.lambda.layer")
        .expect("the layer's step");
    assert_eq!(layer.action, Action::Replace);
    let function = plan
        .steps
        .iter()
        .find(|s| s.id.kind == "aws.lambda.function")
        .expect("the function's step");
    assert_eq!(function.action, Action::Update);
    assert_eq!(
        function
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>(),
        ["layers"]
    );
    let published = versions(&driver, &aws);
    assert_eq!(published.len(), 1, "only the new version: {published:?}");
    let (number, second_arn) = published[0].clone();
    assert_eq!(number, 2);
    assert_eq!(function_layers(&driver, &aws), [second_arn]);
    let (again, _) = driver.plan_against(&driver.desired(&second));
    assert!(changes(&again).is_empty(), "{:?}", changes(&again));

    // Remove: no version is left, and nothing of the service.
    let plan = remove(&driver);
    assert!(
        changes(&plan).contains(&"delete aws.lambda.layer ffmpeg".to_string()),
        "{:?}",
        changes(&plan)
    );
    assert!(
        versions(&driver, &aws).is_empty(),
        "no layer version is left"
    );
    assert!(driver.live().resources.is_empty(), "nothing is left");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_retained_layer_keeps_its_versions_on_a_new_version_and_on_remove() {
    let moto = moto::moto("a_retained_layer_keeps_its_versions_on_a_new_version_and_on_remove");
    let first = service("ffmpeg 6.0\n", true);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    deploy(&driver, &driver.desired(&first));
    let second = service("ffmpeg 6.1\n", true);
    deploy(&driver, &driver.desired(&second));
    let kept: Vec<i64> = versions(&driver, &aws).iter().map(|(n, _)| *n).collect();
    assert_eq!(kept, [2, 1], "the old version is kept");
    let (_, newest) = versions(&driver, &aws)[0].clone();
    assert_eq!(function_layers(&driver, &aws), [newest]);

    // Remove deletes the function and keeps the layer, which the service then lets go.
    let plan = remove(&driver);
    assert!(
        !changes(&plan)
            .iter()
            .any(|c| c.contains("aws.lambda.layer")),
        "{:?}",
        changes(&plan)
    );
    assert_eq!(versions(&driver, &aws).len(), 2, "both versions are kept");
    assert!(
        driver.live().resources.is_empty(),
        "the service owns nothing"
    );
}
