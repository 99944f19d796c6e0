//! Deploying to AWS against a local moto: the library driven as `updraft deploy` drives it
//! (connect, desired state, live state, plan, apply under the lock) on services packaged for
//! real. Claims about calls are checked on the log of a recording proxy in front of moto.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! Without it they skip with a message; with it set but moto not answering they fail.

mod common;
#[allow(dead_code)]
#[path = "aws_deploy/driver.rs"]
mod driver;
#[path = "aws_deploy/moto.rs"]
mod moto;
#[path = "aws_deploy/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;

use driver::{example, fixture, Driver, Fixture};
use moto::moto;
use serde_json::json;
use updraft::plan::{Action, DesiredState, Planned};
use updraft::provider::aws::naming::kind;
use updraft::provider::{Backend, LockAttempt, LockHolder, Operation, ProviderError};

const HANDLER: &str = "exports.handle = async (event) => event;\n";

/// A service with these functions (key, memory) and one queue its functions are told about.
fn service_with(functions: &[(&str, u32)]) -> Fixture {
    let mut manifest = String::from(
        "service: five\n\
         provider:\n  name: aws\n  runtime: nodejs20.x\n  region: us-east-1\n  memorySize: 128\n  logRetentionInDays: 7\n  \
         environment:\n    QUEUE_URL:\n      Ref: WorkQueue\n  \
         iam:\n    role:\n      statements:\n        - Effect: Allow\n          Action: [sqs:SendMessage]\n          Resource:\n            Fn::GetAtt: [WorkQueue, Arn]\n\
         functions:\n",
    );
    for (key, memory) in functions {
        manifest.push_str(&format!(
            "  {key}:\n    handler: handler.handle\n    memorySize: {memory}\n"
        ));
    }
    manifest.push_str(
        "resources:\n  Resources:\n    WorkQueue:\n      Type: AWS::SQS::Queue\n      Properties:\n        QueueName: five-dev-work\n        VisibilityTimeout: 60\n",
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

fn five() -> Vec<(&'static str, u32)> {
    vec![
        ("one", 128),
        ("two", 128),
        ("three", 128),
        ("four", 128),
        ("five", 128),
    ]
}

fn actions(plan: &updraft::plan::Plan) -> BTreeMap<String, Action> {
    plan.steps
        .iter()
        .map(|step| (step.id.to_string(), step.action))
        .collect()
}

fn changed(plan: &updraft::plan::Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| format!("{} {}", s.action.name(), s.id))
        .collect()
}

fn function_names(driver: &Driver, moto: &moto::Moto) -> Vec<String> {
    let lambda = moto::lambda(&driver.runtime, moto);
    let answer = driver
        .runtime
        .block_on(lambda.list_functions().send())
        .expect("moto lists functions");
    let mut names: Vec<String> = answer
        .functions()
        .iter()
        .filter_map(|f| f.function_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn first_deploy_of_the_example_service_creates_everything() {
    let moto = moto("first_deploy_of_the_example_service_creates_everything");
    let service = example();
    let driver = Driver::connect(&service.service);
    let (plan, outcome) = driver.deploy(&driver.desired(&service));
    let counts = plan.counts();
    assert_eq!(
        (counts.update, counts.delete, counts.no_op),
        (0, 0, 0),
        "{:?}",
        changed(&plan)
    );
    let created = actions(&plan);
    for name in ["hello", "enqueue", "worker", "report"] {
        let function = format!("{} updraft-example-dev-{name}", kind::FUNCTION);
        assert_eq!(
            created.get(&function),
            Some(&Action::Create),
            "{function} in {created:?}"
        );
        let group = format!("{} /aws/lambda/updraft-example-dev-{name}", kind::LOG_GROUP);
        assert_eq!(created.get(&group), Some(&Action::Create), "{group}");
    }
    assert_eq!(
        created.get(&format!(
            "{} updraft-example-dev-us-east-1-lambdaRole",
            kind::ROLE
        )),
        Some(&Action::Create)
    );
    assert_eq!(
        created.get(&format!("{} updraft-example-dev-jobs", kind::QUEUE)),
        Some(&Action::Create)
    );
    assert_eq!(function_names(&driver, &moto).len(), 4);

    // What the functions got: the queue's URL in the environment, memory from params, the role.
    let lambda = moto::lambda(&driver.runtime, &moto);
    let enqueue = driver
        .runtime
        .block_on(
            lambda
                .get_function_configuration()
                .function_name("updraft-example-dev-enqueue")
                .send(),
        )
        .expect("the function exists");
    let queue_url = outcome
        .attributes
        .iter()
        .find(|(id, _)| id.kind == kind::QUEUE)
        .and_then(|(_, attributes)| attributes.get("url").cloned())
        .expect("the queue's url is known after apply");
    let variables = enqueue
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        variables.get("QUEUE_URL").map(|u| json!(u)),
        Some(queue_url)
    );
    assert_eq!(enqueue.memory_size(), Some(256));
    assert!(enqueue
        .role()
        .unwrap_or_default()
        .ends_with(":role/updraft-example-dev-us-east-1-lambdaRole"));
    let report = driver
        .runtime
        .block_on(
            lambda
                .get_function_configuration()
                .function_name("updraft-example-dev-report")
                .send(),
        )
        .expect("the function exists");
    assert_eq!(report.memory_size(), Some(128));
    assert_eq!(report.runtime().map(|r| r.as_str()), Some("python3.11"));

    // The role may send to the queue, by its ARN.
    let iam = moto::iam(&driver.runtime, &moto);
    let policy = driver
        .runtime
        .block_on(
            iam.get_role_policy()
                .role_name("updraft-example-dev-us-east-1-lambdaRole")
                .policy_name("updraft-example-dev-lambda")
                .send(),
        )
        .expect("the inline policy exists");
    assert!(
        policy
            .policy_document()
            .contains("updraft-example-dev-jobs"),
        "{}",
        policy.policy_document()
    );
    // Log groups keep 14 days.
    let logs = moto::logs(&driver.runtime, &moto);
    let groups = driver
        .runtime
        .block_on(
            logs.describe_log_groups()
                .log_group_name_prefix("/aws/lambda/updraft-example-dev-")
                .send(),
        )
        .expect("log groups list");
    assert_eq!(groups.log_groups().len(), 4);
    assert!(groups
        .log_groups()
        .iter()
        .all(|g| g.retention_in_days() == Some(14)));
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_no_op_deploy_plans_no_change_and_writes_only_the_lock() {
    let moto = moto("a_no_op_deploy_plans_no_change_and_writes_only_the_lock");
    let service = service_with(&five());
    let driver = Driver::connect(&service.service);
    let desired = driver.desired(&service);
    driver.deploy(&desired);

    moto.proxy.clear();
    let (plan, outcome) = driver.deploy(&desired);
    assert!(
        !plan.has_changes(),
        "a second deploy changes {:?}",
        changed(&plan)
    );
    assert!(outcome.applied.is_empty());
    let requests = moto.proxy.requests();
    let writes: Vec<String> = requests
        .iter()
        .filter(|r| !r.is_read())
        .map(|r| r.line())
        .collect();
    assert_eq!(
        writes.len(),
        2,
        "only the lock is written and released: {writes:#?}"
    );
    assert!(writes.iter().all(|w| w.contains("lock")), "{writes:#?}");
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for request in &requests {
        let key = match &request.operation {
            Some(operation) => operation.clone(),
            None => format!(
                "{} {}",
                request.method,
                request
                    .path
                    .split('/')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        };
        *by_kind.entry(key).or_default() += 1;
    }
    eprintln!(
        "calls of a no-op deploy of 5 functions: {} in all: {by_kind:#?}",
        requests.len()
    );
    assert!(
        requests.len() <= 20, // 15, plus one listing each of HTTP APIs, REST APIs, rules, mappings, subscriptions
        "a no-op deploy of 5 functions is a handful of calls: {by_kind:#?}"
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_memory_change_updates_only_that_function() {
    let moto = moto("a_memory_change_updates_only_that_function");
    let service = service_with(&five());
    let driver = Driver::connect(&service.service);
    driver.deploy(&driver.desired(&service));

    let mut functions = five();
    functions[2].1 = 512;
    let changed_service = service_with(&functions);
    moto.proxy.clear();
    let (plan, _) = driver.deploy(&driver.desired(&changed_service));
    assert_eq!(
        changed(&plan),
        vec![format!("update {} five-dev-three", kind::FUNCTION)]
    );
    let step = plan
        .steps
        .iter()
        .find(|s| s.action == Action::Update)
        .expect("one update");
    assert_eq!(step.changes.len(), 1, "{:?}", step.changes);
    assert_eq!(step.changes[0].field, "memory_size");
    assert_eq!(step.changes[0].old, Planned::Known(json!(128)));
    assert_eq!(step.changes[0].new, Planned::Known(json!(512)));
    let writes: Vec<String> = moto
        .proxy
        .requests()
        .iter()
        .filter(|r| !r.is_read())
        .map(|r| r.line())
        .collect();
    let function_writes: Vec<&String> = writes.iter().filter(|w| !w.contains("lock")).collect();
    assert_eq!(function_writes.len(), 1, "{writes:#?}");
    assert!(function_writes[0].contains("five-dev-three"), "{writes:#?}");
    let lambda = moto::lambda(&driver.runtime, &moto);
    let three = driver
        .runtime
        .block_on(
            lambda
                .get_function_configuration()
                .function_name("five-dev-three")
                .send(),
        )
        .expect("the function exists");
    assert_eq!(three.memory_size(), Some(512));
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_function_removed_from_the_manifest_is_deleted_with_its_log_group() {
    let moto = moto("a_function_removed_from_the_manifest_is_deleted_with_its_log_group");
    let service = service_with(&five());
    let driver = Driver::connect(&service.service);
    driver.deploy(&driver.desired(&service));

    let fewer = service_with(&five()[..4]);
    let (plan, _) = driver.deploy(&driver.desired(&fewer));
    let mut expected = vec![
        format!("delete {} five-dev-five", kind::FUNCTION),
        format!("delete {} /aws/lambda/five-dev-five", kind::LOG_GROUP),
    ];
    expected.sort();
    let mut found = changed(&plan);
    found.sort();
    assert_eq!(found, expected);
    assert!(!function_names(&driver, &moto).contains(&"five-dev-five".to_string()));
    let logs = moto::logs(&driver.runtime, &moto);
    let groups = driver
        .runtime
        .block_on(
            logs.describe_log_groups()
                .log_group_name_prefix("/aws/lambda/five-dev-five")
                .send(),
        )
        .expect("log groups list");
    assert!(groups.log_groups().is_empty());
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn drift_made_with_the_sdk_shows_as_an_update_from_the_live_value() {
    let moto = moto("drift_made_with_the_sdk_shows_as_an_update_from_the_live_value");
    let service = service_with(&five());
    let driver = Driver::connect(&service.service);
    let desired = driver.desired(&service);
    driver.deploy(&desired);

    let lambda = moto::lambda(&driver.runtime, &moto);
    driver
        .runtime
        .block_on(
            lambda
                .update_function_configuration()
                .function_name("five-dev-two")
                .timeout(30)
                .send(),
        )
        .expect("moto takes the change");
    let (plan, live) = driver.plan_against(&desired);
    assert_eq!(
        changed(&plan),
        vec![format!("update {} five-dev-two", kind::FUNCTION)]
    );
    let step = plan
        .steps
        .iter()
        .find(|s| s.action == Action::Update)
        .expect("one update");
    assert_eq!(step.changes[0].field, "timeout");
    assert_eq!(step.changes[0].old, Planned::Known(json!(30)));
    assert_eq!(step.changes[0].new, Planned::Known(json!(6)));
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded());
    assert!(!driver.plan_against(&desired).0.has_changes());
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn remove_leaves_an_unowned_function_alone() {
    let moto = moto("remove_leaves_an_unowned_function_alone");
    let service = service_with(&five());
    let driver = Driver::connect(&service.service);
    driver.deploy(&driver.desired(&service));
    // Someone else's function with the same name prefix, using the same code.
    let lambda = moto::lambda(&driver.runtime, &moto);
    let role = "arn:aws:iam::123456789012:role/five-dev-us-east-1-lambdaRole";
    let artifact = &service.artifacts[0];
    let bucket = "updraft-deployments-123456789012-us-east-1";
    let key = format!("updraft/five/dev/artifacts/{}.zip", artifact.sha256);
    driver
        .runtime
        .block_on(
            lambda
                .create_function()
                .function_name("five-dev-theirs")
                .role(role)
                .handler("handler.handle")
                .runtime(aws_sdk_lambda::types::Runtime::Nodejs20x)
                .code(
                    aws_sdk_lambda::types::FunctionCode::builder()
                        .s3_bucket(bucket)
                        .s3_key(&key)
                        .build(),
                )
                .send(),
        )
        .expect("moto creates the unowned function");

    let (plan, live) = driver.plan_against(&DesiredState::default());
    assert!(plan.steps.iter().all(|s| s.action == Action::Delete));
    assert!(
        !plan.steps.iter().any(|s| s.id.name.contains("theirs")),
        "{:?}",
        changed(&plan)
    );
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "{:?}", outcome.failed);
    assert_eq!(
        function_names(&driver, &moto),
        vec!["five-dev-theirs".to_string()]
    );
    assert!(
        driver.live().resources.is_empty(),
        "remove leaves nothing of ours"
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn the_lock_refuses_a_second_holder_until_released() {
    let _moto = moto("the_lock_refuses_a_second_holder_until_released");
    let service = service_with(&five()[..1]);
    let driver = Driver::connect(&service.service);
    let first = LockHolder::for_this_process(Operation::Deploy, "five", "dev");
    std::thread::sleep(std::time::Duration::from_millis(2));
    let second = LockHolder::for_this_process(Operation::Remove, "five", "dev");
    let lock = |holder: &LockHolder| {
        driver
            .runtime
            .block_on(driver.backend.lock(holder))
            .expect("the lock call works")
    };
    assert_eq!(lock(&first), LockAttempt::Acquired);
    assert_eq!(
        lock(&second),
        LockAttempt::Held(first.clone()),
        "If-None-Match: * keeps the first holder"
    );
    assert_eq!(
        driver
            .runtime
            .block_on(driver.backend.lock_holder())
            .expect("reads"),
        Some(first.clone())
    );
    let wrong = driver.runtime.block_on(driver.backend.unlock(&second.id));
    assert!(
        matches!(wrong, Err(ProviderError::NoSuchLock { .. })),
        "{wrong:?}"
    );
    driver
        .runtime
        .block_on(driver.backend.unlock(&first.id))
        .expect("the holder releases it");
    assert_eq!(lock(&second), LockAttempt::Acquired);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_deploy_stopped_half_way_converges_when_run_again() {
    let moto = moto("a_deploy_stopped_half_way_converges_when_run_again");
    let service = service_with(&five());
    let driver = Driver::connect(&service.service);
    let desired = driver.desired(&service);
    let (full, live) = driver.plan_against(&desired);
    // All but the last two steps (two function creates) are applied, as if the process died.
    let mut half = full.clone();
    half.steps.truncate(full.steps.len() - 2);
    assert!(
        half.steps.iter().any(|s| s.id.kind == kind::FUNCTION),
        "some functions exist"
    );
    let in_half: std::collections::BTreeSet<_> = half.steps.iter().map(|s| s.id.clone()).collect();
    for step in &mut half.steps {
        step.depends_on.retain(|d| in_half.contains(d));
    }
    assert!(driver.apply(&half, &live).succeeded());
    // Running the old plan again finds what exists and adopts it: no duplicates, no failure.
    let outcome = driver.apply(&full, &live);
    assert!(outcome.succeeded(), "{:?}", outcome.failed);
    assert_eq!(function_names(&driver, &moto).len(), 5);
    // And a fresh deploy has nothing left to do.
    let (after, _) = driver.plan_against(&desired);
    assert!(!after.has_changes(), "{:?}", changed(&after));
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_function_url_and_reserved_concurrency_deploy_then_plan_no_op() {
    let moto = moto("a_function_url_and_reserved_concurrency_deploy_then_plan_no_op");
    let manifest = "service: urls\nprovider:\n  name: aws\n  runtime: nodejs20.x\n\
                    functions:\n  api:\n    handler: handler.handle\n    url: true\n    reservedConcurrency: 3\n";
    let service = fixture(manifest, &[("handler.js", HANDLER)]);
    let driver = Driver::connect(&service.service);
    let desired = driver.desired(&service);
    let (plan, _) = driver.deploy(&desired);
    assert_eq!(
        actions(&plan).get(&format!("{} urls-dev-api", kind::FUNCTION_URL)),
        Some(&Action::Create)
    );
    let lambda = moto::lambda(&driver.runtime, &moto);
    let url = driver
        .runtime
        .block_on(
            lambda
                .get_function_url_config()
                .function_name("urls-dev-api")
                .send(),
        )
        .expect("the function has a URL");
    assert_eq!(url.auth_type().as_str(), "NONE");
    let concurrency = driver
        .runtime
        .block_on(
            lambda
                .get_function_concurrency()
                .function_name("urls-dev-api")
                .send(),
        )
        .expect("the concurrency reads");
    assert_eq!(concurrency.reserved_concurrent_executions(), Some(3));

    let (again, live) = driver.plan_against(&desired);
    assert!(!again.has_changes(), "{:?}", changed(&again));
    let info = driver.backend.info(&live);
    assert_eq!(info.functions.len(), 1);
    assert_eq!(info.endpoints.len(), 1);
    assert_eq!(info.endpoints[0].url, url.function_url());
}
