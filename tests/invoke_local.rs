//! `updraft invoke local` through the binary, on a service with Node, Python and Rust
//! (`lambda_runtime`, `provided.al2023`) functions: what a developer sees on stdout, stderr and
//! in the exit code for a success, a thrown error, a timeout, an init error and a 5 MB event.

mod common;
mod engine_support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use engine_support::{detached_pids, fixture, rust_bootstrap_dir, survivors_after_a_moment};
use serde_json::{json, Value};

const MANIFEST: &str = r#"service: local-fixture
provider:
  name: aws
  runtime: nodejs20.x
  region: eu-west-1
  memorySize: 256
  environment:
    GREETING: hello
functions:
  node:
    handler: handler.echo
    timeout: 1
  nodeBroken:
    handler: syntax_error.handler
  python:
    handler: handler.echo
    runtime: python3.12
    timeout: 1
  pythonBroken:
    handler: syntax_error.handler
    runtime: python3.12
  rust:
    handler: bootstrap
    runtime: provided.al2023
    timeout: 1
"#;

/// A service directory with the fixture handlers of every runtime and the Rust bootstrap.
fn service() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("service dir");
    for (from, files) in [
        ("runtime-node", &["handler.js", "syntax_error.js"][..]),
        ("runtime-python", &["handler.py", "syntax_error.py"][..]),
    ] {
        for file in files {
            std::fs::copy(fixture(from).join(file), dir.path().join(file)).expect("copy fixture");
        }
    }
    std::fs::copy(
        rust_bootstrap_dir().join("bootstrap"),
        dir.path().join("bootstrap"),
    )
    .expect("copy bootstrap");
    std::fs::write(dir.path().join("serverless.yml"), MANIFEST).expect("manifest");
    dir
}

fn invoke(dir: &Path, args: &[&str]) -> common::Run {
    let mut all = vec!["invoke", "local"];
    all.extend_from_slice(args);
    common::updraft(dir, &all, &[])
}

fn stdout_json(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    })
}

#[test]
fn success_prints_the_payload_and_the_log() {
    let dir = service();
    for function in ["node", "python", "rust"] {
        let run = invoke(
            dir.path(),
            &[
                "-f",
                function,
                "--data",
                r#"{"hello":"world"}"#,
                "--context",
                r#"{"custom":{"k":"v"}}"#,
            ],
        );
        assert_eq!(run.status, Some(0), "{function}: {}", run.stderr);
        let seen = stdout_json(&run);
        assert_eq!(seen["event"], json!({"hello": "world"}), "{function}");
        assert_eq!(
            seen["arn"],
            format!("arn:aws:lambda:eu-west-1:123456789012:function:local-fixture-dev-{function}")
        );
        assert_eq!(
            seen["clientContext"]["custom"],
            json!({"k": "v"}),
            "{function}"
        );
        let request_id = seen["requestId"].as_str().unwrap_or_default();
        assert!(
            run.stderr
                .contains(&format!("START RequestId: {request_id} Version: $LATEST")),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("REPORT RequestId: {request_id}")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("Memory Size: 256 MB"), "{}", run.stderr);
    }
}

#[test]
fn env_flags_override_the_configured_environment_and_path_and_stdin_give_the_event() {
    let dir = service();
    std::fs::write(dir.path().join("event.json"), r#"{"from": "file"}"#).expect("event");
    let run = invoke(
        dir.path(),
        &[
            "-f",
            "node",
            "--path",
            "event.json",
            "--env",
            "GREETING=overridden",
        ],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let seen = stdout_json(&run);
    assert_eq!(seen["event"], json!({"from": "file"}));
    assert_eq!(seen["env"]["greeting"], "overridden");
    assert_eq!(seen["env"]["isOffline"], "true");

    let mut child = common::clean_command(env!("CARGO_BIN_EXE_updraft"), dir.path())
        .args(["invoke", "local", "-f", "python"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("updraft runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"from": "stdin"}"#)
        .expect("write stdin");
    let output = child.wait_with_output().expect("updraft ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(seen["event"], json!({"from": "stdin"}));
    assert_eq!(seen["env"]["greeting"], "hello");
}

#[test]
fn a_thrown_error_exits_1_with_lambdas_error_object() {
    let dir = service();
    for (function, error_type) in [
        ("node", "TypeError"),
        ("python", "ValueError"),
        ("rust", "FixtureError"),
    ] {
        let run = invoke(
            dir.path(),
            &["-f", function, "--data", r#"{"action":"fail"}"#],
        );
        assert_eq!(run.status, Some(1), "{function}: {}", run.stderr);
        let error = stdout_json(&run);
        assert_eq!(error["errorType"], error_type, "{function}: {error}");
        assert!(
            error["errorMessage"]
                .as_str()
                .unwrap_or_default()
                .contains("failed on purpose"),
            "{function}: {error}"
        );
        assert!(
            run.stderr
                .contains(&format!("function `{function}` failed: {error_type}")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_timeout_exits_1_and_says_so() {
    let dir = service();
    for function in ["node", "python", "rust"] {
        let run = invoke(
            dir.path(),
            &["-f", function, "--data", r#"{"action":"sleep","ms":5000}"#],
        );
        assert_eq!(run.status, Some(1), "{function}: {}", run.stderr);
        assert!(
            run.stderr.contains("Task timed out after 1.00 seconds"),
            "{function}: {}",
            run.stderr
        );
        assert!(
            run.elapsed < std::time::Duration::from_secs(4),
            "{function}: took {:?}",
            run.elapsed
        );
    }
}

#[test]
fn init_errors_exit_1_naming_the_cause() {
    let dir = service();
    for function in ["nodeBroken", "pythonBroken"] {
        let run = invoke(dir.path(), &["-f", function]);
        assert_eq!(run.status, Some(1), "{function}: {}", run.stderr);
        let error = stdout_json(&run);
        assert_eq!(
            error["errorType"], "Runtime.UserCodeSyntaxError",
            "{function}: {error}"
        );
        assert!(
            run.stderr
                .contains(&format!("function `{function}` could not start")),
            "{}",
            run.stderr
        );
    }
    let run = invoke(dir.path(), &["-f", "nope"]);
    assert_eq!(run.status, Some(1));
    assert!(
        run.stderr.contains("function `nope` is not in service"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nodeBroken"),
        "names the service's functions: {}",
        run.stderr
    );
}

#[test]
fn processes_a_handler_detached_end_when_invoke_local_does() {
    let dir = service();
    for function in ["node", "python"] {
        let run = invoke(
            dir.path(),
            &["-f", function, "--data", r#"{"action":"detach"}"#],
        );
        assert_eq!(run.status, Some(0), "{function}: {}", run.stderr);
        let pids = detached_pids(&stdout_json(&run));
        assert_eq!(
            survivors_after_a_moment(&pids),
            Vec::<u32>::new(),
            "{function}: detached processes outlived `invoke local`"
        );
    }
}

#[test]
fn a_five_megabyte_event_goes_through() {
    let dir = service();
    let data = "z".repeat(5 * 1024 * 1024);
    std::fs::write(
        dir.path().join("big.json"),
        json!({ "data": data }).to_string(),
    )
    .expect("event");
    for function in ["node", "python", "rust"] {
        let run = invoke(dir.path(), &["-f", function, "--path", "big.json"]);
        assert_eq!(run.status, Some(0), "{function}: {}", run.stderr);
        let seen = stdout_json(&run);
        assert_eq!(
            seen["event"]["data"].as_str().map(str::len),
            Some(data.len()),
            "{function}"
        );
    }
}

#[test]
fn event_flag_sends_the_sample_event_shipped_in_templates() {
    let dir = service();
    let run = invoke(dir.path(), &["-f", "node", "--event", "sqs"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let shipped: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/events/sqs.json"),
        )
        .expect("templates/events/sqs.json is there"),
    )
    .expect("the sample is JSON");
    assert_eq!(stdout_json(&run)["event"], shipped);
    assert_eq!(shipped["Records"][0]["eventSource"], "aws:sqs");

    let unknown = invoke(dir.path(), &["-f", "node", "--event", "kinesis"]);
    assert_eq!(unknown.status, Some(1), "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("apigw-v2") && unknown.stderr.contains("schedule"),
        "the error lists the sample events: {}",
        unknown.stderr
    );
}
