//! `updraft invoke` end to end: the binary against moto (whose Lambda without Docker answers
//! with the event it was sent, or with answers queued through its API) and against recorded AWS
//! answers for a function that fails, checking what a user and a CI script see: the payload on
//! stdout, byte for byte, the log on stderr, and the exit code.

mod common;
#[path = "deploy_cli/moto.rs"]
#[allow(dead_code, unused_imports)]
mod moto;
#[path = "invoke_cli/recorded.rs"]
mod recorded;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The two-function test service, copied into a fresh directory.
fn service() -> (tempfile::TempDir, PathBuf) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invoke_cli/service");
    let dir = tempfile::tempdir().expect("a temporary directory");
    for name in ["serverless.yml", "handler.js"] {
        std::fs::copy(from.join(name), dir.path().join(name)).expect("the service copies");
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn run(service: &Path, env: &[(&'static str, String)], args: &[&str]) -> common::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::updraft(service, args, &env)
}

/// moto with the test service deployed.
fn deployed(test: &str) -> (moto::Moto, tempfile::TempDir, PathBuf) {
    let moto = moto::moto(test);
    let (dir, service) = service();
    let deploy = run(&service, &moto.env(), &["deploy", "--yes"]);
    assert_eq!(deploy.status, Some(0), "{}{}", deploy.stdout, deploy.stderr);
    (moto, dir, service)
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn data_is_sent_and_the_payload_printed_byte_for_byte() {
    let (moto, _dir, service) = deployed("data_is_sent_and_the_payload_printed_byte_for_byte");
    let event = r#"{"name": "Ada",  "list": [1, 2]}"#;
    let invoked = run(
        &service,
        &moto.env(),
        &["invoke", "-f", "echo", "--data", event],
    );
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    // Not a terminal: the bytes exactly as they came, without a newline added.
    assert_eq!(invoked.stdout, event);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn text_data_that_is_not_json_is_sent_as_a_json_string() {
    let (moto, _dir, service) = deployed("text_data_that_is_not_json_is_sent_as_a_json_string");
    let invoked = run(
        &service,
        &moto.env(),
        &["invoke", "-f", "echo", "-d", "hello"],
    );
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, r#""hello""#);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn path_sends_the_file_as_the_event() {
    let (moto, _dir, service) = deployed("path_sends_the_file_as_the_event");
    let event = "{\n  \"Records\": [{\"body\": \"from a file\"}]\n}\n";
    std::fs::write(service.join("event.json"), event).expect("the event file is written");
    let invoked = run(
        &service,
        &moto.env(),
        &["invoke", "-f", "echo", "--path", "event.json"],
    );
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, event);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn standard_input_is_the_event_when_no_flag_gives_one() {
    let (moto, _dir, service) = deployed("standard_input_is_the_event_when_no_flag_gives_one");
    let mut command = common::clean_command(env!("CARGO_BIN_EXE_updraft"), &service);
    command
        .args(["invoke", "-f", "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("updraft starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(br#"{"from":"stdin"}"#)
        .expect("the event is written");
    let output = child.wait_with_output().expect("updraft ends");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        r#"{"from":"stdin"}"#
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn the_functions_answer_is_printed_not_the_event() {
    let (moto, _dir, service) = deployed("the_functions_answer_is_printed_not_the_event");
    // moto answers the next call with this instead of the event.
    ureq::post(&format!(
        "{}/moto-api/static/lambda-simple/response",
        moto.url
    ))
    .send_string(r#"{"results": ["{\"statusCode\":200,\"body\":\"ok\"}"], "region": "us-east-1"}"#)
    .expect("moto queues the answer");
    let invoked = run(&service, &moto.env(), &["invoke", "-f", "echo", "-d", "{}"]);
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, r#"{"statusCode":200,"body":"ok"}"#);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn event_type_returns_at_once_without_a_payload() {
    let (moto, _dir, service) = deployed("event_type_returns_at_once_without_a_payload");
    let invoked = run(
        &service,
        &moto.env(),
        &[
            "invoke",
            "-f",
            "echo",
            "--type",
            "Event",
            "-d",
            r#"{"a":1}"#,
        ],
    );
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, "", "an event call has no answer to print");
    assert!(invoked.stderr.contains("Queued"), "{}", invoked.stderr);
    assert!(invoked.stderr.contains("status 202"), "{}", invoked.stderr);
    assert!(invoked.elapsed < Duration::from_secs(20));
}

#[test]
fn a_function_that_is_not_deployed_says_to_deploy_it() {
    // moto's Lambda without Docker answers for any name: this is AWS's recorded answer.
    let server = recorded::Recorded::start(recorded::InvokeAnswer {
        not_found: true,
        ..recorded::InvokeAnswer::default()
    });
    let (_dir, service) = service();
    let invoked = run(&service, &recorded_env(&server), &["invoke", "-f", "echo"]);
    assert_eq!(invoked.status, Some(1), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, "");
    assert!(
        invoked.stderr.contains("function invoke-test-dev-echo"),
        "{}",
        invoked.stderr
    );
    assert!(
        invoked.stderr.contains("it is not deployed in"),
        "{}",
        invoked.stderr
    );
    assert!(
        invoked.stderr.contains("updraft deploy"),
        "{}",
        invoked.stderr
    );
}

#[test]
fn an_unknown_function_is_an_error_naming_the_services_functions() {
    // Refused before any call: no cloud needed.
    let (_dir, service) = service();
    let invoked = common::updraft(&service, &["invoke", "-f", "ecko"], &[]);
    assert_eq!(invoked.status, Some(1), "{}", invoked.stderr);
    assert!(
        invoked
            .stderr
            .contains("function `ecko` is not in service `invoke-test`"),
        "{}",
        invoked.stderr
    );
    assert!(
        invoked.stderr.contains("did you mean `echo`?"),
        "{}",
        invoked.stderr
    );
    assert!(invoked.stderr.contains("echo, other"), "{}", invoked.stderr);
}

#[test]
fn a_client_context_that_is_not_an_object_is_refused_before_any_call() {
    let (_dir, service) = service();
    let invoked = common::updraft(&service, &["invoke", "-f", "echo", "--context", "[1]"], &[]);
    assert_eq!(invoked.status, Some(1), "{}", invoked.stderr);
    assert!(
        invoked.stderr.contains("not a JSON object"),
        "{}",
        invoked.stderr
    );
}

fn recorded_env(server: &recorded::Recorded) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", server.url.clone()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

#[test]
fn a_function_error_prints_the_error_object_and_exits_1() {
    let error = r#"{"errorType":"Error","errorMessage":"boom","trace":["Error: boom","    at Runtime.other (/var/task/handler.js:4:9)"]}"#;
    let server = recorded::Recorded::start(recorded::InvokeAnswer {
        not_found: false,
        function_error: Some("Unhandled".into()),
        log: Some(
            "START RequestId: 5a7a Version: $LATEST\nERROR\tboom\nEND RequestId: 5a7a\n".into(),
        ),
        payload: error.as_bytes().to_vec(),
    });
    let (_dir, service) = service();
    let invoked = run(
        &service,
        &recorded_env(&server),
        &[
            "invoke",
            "-f",
            "other",
            "--log",
            "--context",
            r#"{"custom":{"caller":"ci"}}"#,
        ],
    );
    assert_eq!(
        invoked.status,
        Some(1),
        "{}{}",
        invoked.stdout,
        invoked.stderr
    );
    assert_eq!(invoked.stdout, error, "the error object is the payload");
    assert!(
        invoked
            .stderr
            .contains("function `other` failed (Unhandled): Error: boom"),
        "{}",
        invoked.stderr
    );
    // `--log`: the decoded tail, on stderr.
    assert!(invoked.stderr.contains("ERROR\tboom"), "{}", invoked.stderr);
    assert!(
        invoked.stderr.contains("START RequestId: 5a7a"),
        "{}",
        invoked.stderr
    );

    let requests = server.requests();
    let call = requests
        .iter()
        .find(|r| r.path.contains("/functions/"))
        .expect("updraft called Invoke");
    assert_eq!(call.method, "POST");
    assert!(
        call.path
            .starts_with("/2015-03-31/functions/invoke-test-dev-other/invocations"),
        "{}",
        call.path
    );
    assert_eq!(call.header("x-amz-log-type"), Some("Tail"));
    let context = call
        .header("x-amz-client-context")
        .expect("the client context is sent");
    let decoded = aws_smithy_types::base64::decode(context).expect("it is base64");
    assert_eq!(decoded, br#"{"custom":{"caller":"ci"}}"#);
    assert_eq!(call.body, b"{}", "no input: the event is {{}}");
}

#[test]
fn a_successful_answer_with_a_log_tail_exits_0_and_keeps_stdout_clean() {
    let server = recorded::Recorded::start(recorded::InvokeAnswer {
        not_found: false,
        function_error: None,
        log: Some("START RequestId: 1 Version: $LATEST\nhello from the log\n".into()),
        payload: br#"{"ok":true}"#.to_vec(),
    });
    let (_dir, service) = service();
    let invoked = run(
        &service,
        &recorded_env(&server),
        &["invoke", "-f", "echo", "-l", "-q", "live"],
    );
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, r#"{"ok":true}"#);
    assert!(
        invoked.stderr.contains("hello from the log"),
        "{}",
        invoked.stderr
    );
    let requests = server.requests();
    let call = requests
        .iter()
        .find(|r| r.path.contains("/functions/"))
        .expect("updraft called Invoke");
    assert!(call.path.contains("Qualifier=live"), "{}", call.path);
}

#[test]
fn invoke_help_documents_every_flag() {
    let (_dir, service) = service();
    insta::assert_snapshot!(common::transcript(&service, &["invoke", "--help"], &[]));
}

#[test]
fn invoke_without_a_function_is_an_argument_error() {
    let (_dir, service) = service();
    insta::assert_snapshot!(common::transcript(&service, &["invoke"], &[]));
}

/// `updraft ARGS` with its stdout on a terminal (a pseudo-terminal from util-linux `script`);
/// Panics when `script` does not run: the check needs a terminal.
fn on_a_terminal(service: &Path, env: &[(&'static str, String)], args: &str) -> String {
    let line = format!("'{}' {args}", env!("CARGO_BIN_EXE_updraft"));
    let mut command = common::clean_command("script", service);
    command
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap_or_else(|error| {
        panic!("`script` (util-linux, for a pseudo-terminal) does not run: {error}; install util-linux")
    });
    String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n")
}

#[test]
fn a_terminal_gets_pretty_json_unless_raw_is_given() {
    let server = recorded::Recorded::start(recorded::InvokeAnswer {
        payload: br#"{"ok":true,"list":[1]}"#.to_vec(),
        ..recorded::InvokeAnswer::default()
    });
    let (_dir, service) = service();
    let env = recorded_env(&server);
    let pretty = on_a_terminal(&service, &env, "invoke -f echo");
    assert_eq!(pretty, "{\n  \"ok\": true,\n  \"list\": [\n    1\n  ]\n}\n");
    let raw = on_a_terminal(&service, &env, "invoke -f echo --raw");
    assert_eq!(raw, r#"{"ok":true,"list":[1]}"#);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn dry_run_checks_the_call_and_prints_no_payload() {
    let (moto, _dir, service) = deployed("dry_run_checks_the_call_and_prints_no_payload");
    let invoked = run(
        &service,
        &moto.env(),
        &["invoke", "-f", "echo", "-t", "DryRun"],
    );
    assert_eq!(invoked.status, Some(0), "{}", invoked.stderr);
    assert_eq!(invoked.stdout, "");
    assert!(invoked.stderr.contains("Dry run"), "{}", invoked.stderr);
    assert!(invoked.stderr.contains("status 204"), "{}", invoked.stderr);
}
