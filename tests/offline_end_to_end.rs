//! `updraft offline` as a user runs it: the binary on the example service (real Node and Python
//! handlers through the execution engine) and on a small fixture service for the error paths,
//! driven over real HTTP, stopped with Ctrl-C (SIGINT) with no function process left behind.

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;

use common::{call, json_body};
use offline_process::{alive, Offline};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn example_service_answers_on_its_routes_and_stops_clean_on_ctrl_c() {
    let mut offline = Offline::start(&repo(), "serverless.example.yml");
    assert!(offline
        .seen
        .iter()
        .any(|l| l.contains("/dev/hello") && l.contains("hello")));

    // REST API route under the stage, CORS from `cors: true`.
    let response = call(
        ureq::get(&offline.url("/dev/hello?name=Ada")).set("origin", "http://localhost:5173"),
        None,
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    let body = json_body(response);
    assert_eq!(body["message"], "hello, Ada from updraft-example (dev)");
    assert_eq!(body["stage"], "dev");

    // HTTP API route with a path parameter.
    let body = json_body(call(ureq::get(&offline.url("/hello/Grace")), None));
    assert_eq!(body["message"], "hello, Grace from updraft-example (dev)");

    // The Python handler through the HTTP API.
    let body = json_body(call(ureq::get(&offline.url("/report")), None));
    assert_eq!(body["title"], "updraft-example report");
    assert_eq!(body["trigger"], "GET");

    // Preflight.
    let preflight = call(
        ureq::request("OPTIONS", &offline.url("/dev/hello"))
            .set("origin", "http://localhost:5173")
            .set("access-control-request-method", "GET"),
        None,
    );
    assert_eq!(preflight.status(), 204);
    assert!(preflight
        .header("access-control-allow-methods")
        .is_some_and(|m| m.contains("GET")));

    // No route.
    let missing = call(ureq::get(&offline.url("/dev/nowhere")), None);
    assert_eq!(missing.status(), 404);

    // The request and the function's own log line are shown.
    assert!(offline.wait_for("GET /dev/hello -> hello 200"));
    assert!(offline.wait_for("REPORT RequestId"));

    let instances = offline.children();
    assert!(
        !instances.is_empty(),
        "warm instances are children of the emulator"
    );
    assert_eq!(
        offline.interrupt(),
        Some(0),
        "stderr:\n{}",
        offline.seen.join("\n")
    );
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<u32> = instances.into_iter().filter(|p| alive(*p)).collect();
    assert!(
        left.is_empty(),
        "function processes left after Ctrl-C: {left:?}"
    );
}

/// A harness (CI, a process manager, a test) may send Ctrl-C the moment `Server ready` appears;
/// the emulator must already be listening for it and stop clean with exit 0, not die by the
/// signal's default action.
#[test]
fn ctrl_c_the_moment_server_ready_appears_stops_clean() {
    for attempt in 1..=5 {
        let mut offline = Offline::start(&repo(), "serverless.example.yml");
        assert_eq!(
            offline.interrupt(),
            Some(0),
            "attempt {attempt}; stderr:\n{}",
            offline.seen.join("\n")
        );
    }
}

#[test]
fn handler_error_is_502_timeout_504_and_binary_round_trips() {
    let dir = repo().join("tests/fixtures/offline-errors");
    let offline = Offline::start(&dir, "serverless.yml");

    let failed = call(ureq::get(&offline.url("/fail")), None);
    assert_eq!(failed.status(), 502);
    assert_eq!(
        json_body(failed),
        json!({"message": "Internal server error"})
    );
    assert_eq!(
        call(ureq::get(&offline.url("/dev/fail")), None).status(),
        502
    );

    let started = Instant::now();
    let slow = call(ureq::get(&offline.url("/slow")), None);
    assert_eq!(slow.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the 1 s timeout ends it"
    );

    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    let response = call(
        ureq::post(&offline.url("/image")).set("content-type", "image/png"),
        Some(&bytes),
    );
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("image/png"));
    let mut received = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut received).expect("read");
    assert_eq!(received, bytes);

    let plain = call(ureq::get(&offline.url("/plain")), None);
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.header("content-type"), Some("application/json"));
    assert_eq!(plain.into_string().expect("body"), "just a string");
}

#[test]
fn invoke_api_runs_real_handlers_and_reports_function_errors() {
    let dir = repo().join("tests/fixtures/offline-errors");
    let offline = Offline::start(&dir, "serverless.yml");
    let url = |name: &str| format!("{}/2015-03-31/functions/{name}/invocations", offline.lambda);

    let plain = call(ureq::post(&url("plain")), Some(b"{}"));
    assert_eq!(plain.status(), 200);
    assert_eq!(json_body(plain), json!("just a string"));

    let failed = call(
        ureq::post(&url("offline-errors-dev-fail")).set("x-amz-log-type", "Tail"),
        Some(b"{}"),
    );
    assert_eq!(failed.status(), 200);
    assert_eq!(failed.header("x-amz-function-error"), Some("Unhandled"));
    let log = failed
        .header("x-amz-log-result")
        .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok())
        .map(|l| String::from_utf8_lossy(&l).into_owned())
        .unwrap_or_default();
    assert!(log.contains("REPORT RequestId"), "log tail: {log}");
    let error = json_body(failed);
    assert_eq!(error["errorMessage"], "this handler always fails");
    assert_eq!(error["errorType"], "Error");
}

/// `updraft invoke` (the remote command) pointed at the emulator's Invoke API with
/// `AWS_ENDPOINT_URL_LAMBDA`, as a user checks a function before deploying it: the payload on
/// stdout and exit 0, and for a handler that throws, Lambda's error object and exit 1. The
/// account lookup goes to moto (the emulator serves Lambda only).
#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn updraft_invoke_against_the_emulator_exits_1_on_a_function_error() {
    let moto = std::env::var("UPDRAFT_TEST_MOTO_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect(
            "this test needs the moto emulator and UPDRAFT_TEST_MOTO_URL is not set: run \
             `bash scripts/test.sh`",
        );
    let dir = repo().join("tests/fixtures/offline-errors");
    let offline = Offline::start(&dir, "serverless.yml");
    let env = [
        ("AWS_ENDPOINT_URL", moto.as_str()),
        ("AWS_ENDPOINT_URL_LAMBDA", offline.lambda.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];

    let plain = common::updraft(&dir, &["invoke", "-f", "plain", "--data", "{}"], &env);
    assert_eq!(plain.status, Some(0), "{}", plain.stderr);
    assert_eq!(plain.stdout.trim(), "\"just a string\"");

    let failed = common::updraft(&dir, &["invoke", "-f", "fail", "--log"], &env);
    assert_eq!(failed.status, Some(1), "{}", failed.stderr);
    let error: Value = serde_json::from_str(failed.stdout.trim())
        .unwrap_or_else(|e| panic!("the error object on stdout ({e}): {}", failed.stdout));
    assert_eq!(error["errorMessage"], "this handler always fails");
    assert!(
        failed.stderr.contains("REPORT RequestId"),
        "--log prints the log tail on stderr: {}",
        failed.stderr
    );
}

#[test]
fn env_flag_overrides_the_environment_and_silences_the_reference_warning() {
    let offline = Offline::start_with(
        &repo(),
        "serverless.example.yml",
        &[
            "--env",
            "GREETING=howdy",
            "--env",
            "QUEUE_URL=http://queue.local",
        ],
    );
    let answer = json_body(call(ureq::get(&offline.url("/dev/hello")), None));
    assert_eq!(
        answer["message"], "howdy, world from updraft-example (dev)",
        "{answer}"
    );
    // Warnings are printed before `Server ready`, so every one is in `seen` by now.
    assert!(
        !offline
            .seen
            .iter()
            .any(|line| line.contains("QUEUE_URL is a CloudFormation reference")),
        "no warning for a variable given with --env: {}",
        offline.seen.join("\n")
    );
}

/// Handlers that start processes outside their process group (Node's `detached: true`,
/// Python's `start_new_session` and a double-forked daemon): Ctrl-C ends them too.
#[test]
fn ctrl_c_ends_the_processes_handlers_detached() {
    let dir = tempfile::tempdir().expect("service dir");
    let fixtures = repo().join("tests/fixtures");
    std::fs::copy(
        fixtures.join("runtime-node/handler.js"),
        dir.path().join("handler.js"),
    )
    .expect("copy");
    std::fs::copy(
        fixtures.join("runtime-python/handler.py"),
        dir.path().join("handler.py"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("serverless.yml"),
        "service: detach\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  node:\n    \
         handler: handler.echo\n  python:\n    handler: handler.echo\n    runtime: python3.12\n",
    )
    .expect("manifest");
    let mut offline = Offline::start(dir.path(), "serverless.yml");
    let mut pids = Vec::new();
    for function in ["node", "python"] {
        let url = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            offline.lambda
        );
        let response = json_body(call(ureq::post(&url), Some(br#"{"action":"detach"}"#)));
        let detached = response["detached"]
            .as_array()
            .unwrap_or_else(|| panic!("{function}: {response}"));
        pids.extend(detached.iter().filter_map(|pid| pid.as_u64()));
    }
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(pids.iter().all(|&pid| alive(pid as u32)));
    assert_eq!(offline.interrupt(), Some(0), "{}", offline.seen.join("\n"));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut left: Vec<u64> = pids.clone();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left.retain(|&pid| alive(pid as u32));
    }
    assert!(left.is_empty(), "processes left after Ctrl-C: {left:?}");
}

#[test]
fn alb_events_route_by_priority_and_conditions_on_their_own_port() {
    let dir = repo().join("tests/fixtures/offline-alb");
    let offline = Offline::start_with(&dir, "serverless.yml", &["--albPort", "0"]);
    let alb = offline
        .seen
        .iter()
        .find_map(|line| line.strip_prefix("ALB: "))
        .unwrap_or_else(|| panic!("no ALB line:\n{}", offline.seen.join("\n")))
        .trim()
        .to_string();

    let items = call(
        ureq::get(&format!("{alb}/items/7?q=a%20b")).set("accept", "text/plain"),
        None,
    );
    assert_eq!(items.status(), 200);
    assert_eq!(items.header("x-target"), Some("items"));
    let echoed = json_body(items);
    assert_eq!(echoed["path"], "/items/7");
    assert_eq!(echoed["method"], "GET");
    assert_eq!(
        echoed["query"],
        json!({"q": "a%20b"}),
        "ALB leaves the query encoded"
    );
    assert_eq!(echoed["accept"], "text/plain");
    assert!(echoed["targetGroupArn"]
        .as_str()
        .is_some_and(|arn| arn.starts_with("arn:aws:elasticloadbalancing:")));

    // Priority 1 wins when all its conditions hold; otherwise priority 2 takes it.
    let special = call(
        ureq::post(&format!("{alb}/items/special?tag=x&tag=y")).set("x-env", "prod"),
        Some(b"payload"),
    );
    assert_eq!(special.status(), 201);
    let cookies: Vec<&str> = special.all("set-cookie");
    assert_eq!(cookies, ["a=1", "b=2"]);
    let body = json_body(special);
    assert_eq!(body["body"], "payload");
    assert_eq!(body["env"], json!(["prod"]));
    assert_eq!(body["query"], json!({"tag": ["x", "y"]}));
    let without_header = call(ureq::post(&format!("{alb}/items/special")), Some(b"x"));
    assert_eq!(without_header.header("x-target"), Some("items"));

    let broken = call(ureq::get(&format!("{alb}/broken")), None);
    assert_eq!(broken.status(), 502, "a result without statusCode");
    assert!(broken
        .into_string()
        .is_ok_and(|page| page.contains("502 Bad Gateway")));
    let missing = call(ureq::get(&format!("{alb}/nothing")), None);
    assert_eq!(missing.status(), 404);
    assert!(json_body(missing)["message"]
        .as_str()
        .is_some_and(|m| m.contains("GET /nothing")));
}
