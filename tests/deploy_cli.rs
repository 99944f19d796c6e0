//! `plan`, `deploy`, `info`, `remove` and `unlock` end to end: the `updraft` binary against a
//! moto server, on the example service, checking what a user and a CI script see (exit codes,
//! the plan, endpoints) and what AWS then holds.

mod common;
#[path = "deploy_cli/moto.rs"]
mod moto;

use std::path::Path;

use serde_json::Value as Json;

fn run(service: &Path, moto: &moto::Moto, args: &[&str]) -> common::Run {
    let env = moto.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::updraft(service, args, &env)
}

fn deployed_functions(moto: &moto::Moto) -> Vec<String> {
    let runtime = moto::runtime();
    let lambda = aws_sdk_lambda::Client::new(&moto.sdk(&runtime));
    let listed = runtime
        .block_on(lambda.list_functions().send())
        .expect("moto lists functions");
    let mut names: Vec<String> = listed
        .functions()
        .iter()
        .filter_map(|f| f.function_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn plan_exits_2_before_a_deploy_and_0_after_it() {
    let moto = moto::moto("plan_exits_2_before_a_deploy_and_0_after_it");
    let (_dir, service) = moto::example_service();
    let before = run(&service, &moto, &["plan", "--detailed-exitcode"]);
    assert_eq!(before.status, Some(2), "{}{}", before.stdout, before.stderr);
    assert!(
        before
            .stdout
            .contains("+   aws.lambda.function updraft-example-dev-hello"),
        "{}",
        before.stdout
    );
    assert!(deployed_functions(&moto).is_empty(), "plan changed nothing");

    let deploy = run(&service, &moto, &["deploy", "--yes"]);
    assert_eq!(deploy.status, Some(0), "{}{}", deploy.stdout, deploy.stderr);
    assert_eq!(
        deployed_functions(&moto),
        vec![
            "updraft-example-dev-enqueue",
            "updraft-example-dev-hello",
            "updraft-example-dev-report",
            "updraft-example-dev-worker",
        ]
    );
    assert!(deploy.stdout.contains("endpoints:"), "{}", deploy.stdout);

    let after = run(&service, &moto, &["plan", "--detailed-exitcode"]);
    assert_eq!(after.status, Some(0), "{}{}", after.stdout, after.stderr);
    assert!(after.stdout.contains("No changes"), "{}", after.stdout);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn plan_json_lists_each_step_with_its_action() {
    let moto = moto::moto("plan_json_lists_each_step_with_its_action");
    let (_dir, service) = moto::example_service();
    let planned = run(&service, &moto, &["plan", "--json"]);
    assert_eq!(planned.status, Some(0), "{}", planned.stderr);
    let plan: Json = serde_json::from_str(&planned.stdout).expect("plan --json is JSON");
    assert_eq!(plan["changes"], Json::Bool(true));
    let steps = plan["steps"].as_array().expect("steps");
    let function = steps
        .iter()
        .find(|s| s["name"] == "updraft-example-dev-report")
        .expect("the report function is planned");
    assert_eq!(function["action"], "create");
    assert!(plan["counts"]["create"].as_u64().unwrap_or(0) >= 4);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_held_lock_refuses_a_deploy_with_exit_3_until_unlocked() {
    let moto = moto::moto("a_held_lock_refuses_a_deploy_with_exit_3_until_unlocked");
    let (_dir, service) = moto::example_service();
    let first = run(&service, &moto, &["deploy", "--yes"]);
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    // Another run's lock, as a deploy that was killed would leave it.
    let runtime = moto::runtime();
    let config = aws_sdk_s3::config::Builder::from(&moto.sdk(&runtime))
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let bucket = format!("updraft-deployments-{}-us-east-1", moto::ACCOUNT);
    let key = "updraft/updraft-example/dev/deploy.lock";
    let holder = r#"{"id":"0123456789abcdef","who":"ci","where":"runner-7","since":"2026-11-26T10:00:00Z","operation":"deploy","service":"updraft-example","stage":"dev"}"#;
    runtime
        .block_on(
            s3.put_object()
                .bucket(&bucket)
                .key(key)
                .body(holder.as_bytes().to_vec().into())
                .send(),
        )
        .expect("the lock object is written");

    let refused = run(&service, &moto, &["deploy", "--yes"]);
    assert_eq!(
        refused.status,
        Some(3),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    assert!(refused.stderr.contains("runner-7"), "{}", refused.stderr);
    // The help names the command and the id (a narrow terminal may wrap between them).
    assert!(
        refused.stderr.contains("updraft unlock"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.matches("0123456789abcdef").count() >= 2,
        "{}",
        refused.stderr
    );

    let shown = run(&service, &moto, &["unlock"]);
    assert_eq!(shown.status, Some(0));
    assert!(
        shown.stdout.contains("0123456789abcdef"),
        "{}",
        shown.stdout
    );
    let wrong = run(&service, &moto, &["unlock", "ffffffffffffffff", "--yes"]);
    assert_eq!(wrong.status, Some(1), "{}", wrong.stderr);
    let unlocked = run(&service, &moto, &["unlock", "0123456789abcdef", "--yes"]);
    assert_eq!(unlocked.status, Some(0), "{}", unlocked.stderr);

    let again = run(&service, &moto, &["deploy", "--yes"]);
    assert_eq!(again.status, Some(0), "{}", again.stderr);
    let objects = runtime
        .block_on(s3.list_objects_v2().bucket(&bucket).prefix(key).send())
        .expect("moto lists objects");
    assert!(
        objects.contents().is_empty(),
        "the deploy released its lock"
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn info_json_shows_the_deployed_functions_and_remove_deletes_them() {
    let moto = moto::moto("info_json_shows_the_deployed_functions_and_remove_deletes_them");
    let (_dir, service) = moto::example_service();
    assert_eq!(run(&service, &moto, &["deploy", "--yes"]).status, Some(0));
    let info = run(&service, &moto, &["info", "--json"]);
    assert_eq!(info.status, Some(0), "{}", info.stderr);
    let info: Json = serde_json::from_str(&info.stdout).expect("info --json is JSON");
    assert_eq!(info["stage"], "dev");
    assert_eq!(info["functions"].as_array().map(Vec::len), Some(4));

    let removed = run(&service, &moto, &["remove", "--yes"]);
    assert_eq!(
        removed.status,
        Some(0),
        "{}{}",
        removed.stdout,
        removed.stderr
    );
    assert!(deployed_functions(&moto).is_empty());
    let nothing = run(&service, &moto, &["remove", "--yes"]);
    assert_eq!(nothing.status, Some(0));
    assert!(
        nothing.stdout.contains("Nothing to remove"),
        "{}",
        nothing.stdout
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn an_unsupported_event_fails_at_plan_time_naming_its_place() {
    let moto = moto::moto("an_unsupported_event_fails_at_plan_time_naming_its_place");
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("handler.js"),
        "exports.main = async () => 'ok';\n",
    )
    .expect("the handler is written");
    std::fs::write(
        dir.path().join("serverless.yml"),
        "service: balanced\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  web:\n    handler: handler.main\n    events:\n      - kafka:\n          topic: orders\n          bootstrapServers: [broker:9092]\n          accessConfigurations:\n            saslScram512Auth: arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka\n",
    )
    .expect("the manifest is written");
    let deploy = run(dir.path(), &moto, &["deploy", "--yes"]);
    assert_eq!(deploy.status, Some(1), "{}{}", deploy.stdout, deploy.stderr);
    assert!(deploy.stderr.contains("kafka"), "{}", deploy.stderr);
    assert!(
        deploy.stderr.contains("serverless.yml:9"),
        "{}",
        deploy.stderr
    );
    assert!(deployed_functions(&moto).is_empty(), "nothing was deployed");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn deploy_function_updates_that_function_only() {
    let moto = moto::moto("deploy_function_updates_that_function_only");
    let (_dir, service) = moto::example_service();
    assert_eq!(run(&service, &moto, &["deploy", "--yes"]).status, Some(0));
    let handler = service.join("examples/node/handler.mjs");
    let mut code = std::fs::read_to_string(&handler).expect("the handler reads");
    code.push_str("\n// changed\n");
    std::fs::write(&handler, code).expect("the handler is written");

    let one = run(
        &service,
        &moto,
        &["deploy", "function", "-f", "hello", "--yes"],
    );
    assert_eq!(one.status, Some(0), "{}{}", one.stdout, one.stderr);
    assert!(
        one.stdout
            .contains("~   aws.lambda.function updraft-example-dev-hello"),
        "{}",
        one.stdout
    );
    assert!(
        !one.stdout.contains("updraft-example-dev-worker"),
        "{}",
        one.stdout
    );
    assert!(
        one.stderr.contains("wait for a full `updraft deploy`"),
        "{}",
        one.stderr
    );

    // The other functions share the artifact: a plan still shows them, and not hello.
    let plan = run(&service, &moto, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status, Some(2), "{}", plan.stderr);
    assert!(
        plan.stdout.contains("updraft-example-dev-worker"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("function updraft-example-dev-hello"),
        "{}",
        plan.stdout
    );

    let unknown = run(&service, &moto, &["deploy", "function", "-f", "nope"]);
    assert_eq!(unknown.status, Some(1));
    assert!(
        unknown.stderr.contains("hello, enqueue, worker, report"),
        "{}",
        unknown.stderr
    );
}
