//! `updraft logs` end to end: events written to moto's CloudWatch Logs with the SDK
//! (`PutLogEvents`) and read back through the binary, filtered, from a start time, as JSON, and
//! followed with `--tail` while new events arrive, until SIGINT.

mod common;
#[path = "deploy_cli/moto.rs"]
#[allow(dead_code, unused_imports)]
mod moto;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

const GROUP: &str = "/aws/lambda/invoke-test-dev-echo";

fn service() -> (tempfile::TempDir, PathBuf) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invoke_cli/service");
    let dir = tempfile::tempdir().expect("a temporary directory");
    for name in ["serverless.yml", "handler.js"] {
        std::fs::copy(from.join(name), dir.path().join(name)).expect("the service copies");
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn run(service: &Path, moto: &moto::Moto, args: &[&str]) -> common::Run {
    let env = moto.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::updraft(service, args, &env)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Writes to the function's log as Lambda would, through the SDK.
struct Log {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_cloudwatchlogs::Client,
}

impl Log {
    fn create(moto: &moto::Moto) -> Log {
        let runtime = moto::runtime();
        let client = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk(&runtime));
        runtime
            .block_on(client.create_log_group().log_group_name(GROUP).send())
            .expect("the log group is created");
        Log { runtime, client }
    }

    fn write(&self, stream: &str, events: &[(i64, &str)]) {
        let created = self.runtime.block_on(
            self.client
                .create_log_stream()
                .log_group_name(GROUP)
                .log_stream_name(stream)
                .send(),
        );
        // The stream may exist from an earlier write.
        if let Err(error) = created {
            let text = format!("{error:?}");
            assert!(text.contains("ResourceAlreadyExists"), "{text}");
        }
        let events: Vec<InputLogEvent> = events
            .iter()
            .map(|(timestamp, message)| {
                InputLogEvent::builder()
                    .timestamp(*timestamp)
                    .message(*message)
                    .build()
                    .expect("a complete event")
            })
            .collect();
        self.runtime
            .block_on(
                self.client
                    .put_log_events()
                    .log_group_name(GROUP)
                    .log_stream_name(stream)
                    .set_log_events(Some(events))
                    .send(),
            )
            .expect("the events are written");
    }
}

const REQUEST: &str = "8f5a3c2e-1111-4222-8333-444455556666";

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn events_are_read_back_one_line_each_with_time_and_request_id() {
    let moto = moto::moto("events_are_read_back_one_line_each_with_time_and_request_id");
    let (_dir, service) = service();
    let log = Log::create(&moto);
    let now = now_ms();
    log.write(
        "2026/11/26/[$LATEST]aaaa",
        &[
            (
                now - 3_000,
                &format!("START RequestId: {REQUEST} Version: $LATEST\n"),
            ),
            (
                now - 2_000,
                &format!("2026-11-26T09:30:00.000Z\t{REQUEST}\tINFO\tprocessing order 42\n"),
            ),
            (now - 1_000, &format!("END RequestId: {REQUEST}\n")),
        ],
    );
    let read = run(&service, &moto, &["logs", "-f", "echo"]);
    assert_eq!(read.status, Some(0), "{}", read.stderr);
    let lines: Vec<&str> = read.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", read.stdout);
    assert!(lines[0].ends_with(&format!(
        "{REQUEST} START RequestId: {REQUEST} Version: $LATEST"
    )));
    assert!(
        lines[1].ends_with(&format!("{REQUEST} INFO\tprocessing order 42")),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("END RequestId"), "{}", lines[2]);
    // Each line starts with its time in UTC.
    assert!(
        lines.iter().all(|l| l.len() > 24 && &l[23..25] == "Z "),
        "{}",
        read.stdout
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn filter_and_start_time_choose_the_events() {
    let moto = moto::moto("filter_and_start_time_choose_the_events");
    let (_dir, service) = service();
    let log = Log::create(&moto);
    let now = now_ms();
    log.write(
        "2026/11/26/[$LATEST]bbbb",
        &[
            (now - 50 * 60_000, "an old ERROR from before\n"),
            (now - 60_000, "a recent ERROR\n"),
            (now - 30_000, "a recent success\n"),
        ],
    );
    // Default: the last 10 minutes.
    let recent = run(&service, &moto, &["logs", "-f", "echo"]);
    assert_eq!(recent.status, Some(0), "{}", recent.stderr);
    assert!(!recent.stdout.contains("old ERROR"), "{}", recent.stdout);
    assert_eq!(recent.stdout.lines().count(), 2, "{}", recent.stdout);

    let hour = run(
        &service,
        &moto,
        &["logs", "-f", "echo", "--startTime", "1h"],
    );
    assert_eq!(hour.stdout.lines().count(), 3, "{}", hour.stdout);

    let errors = run(
        &service,
        &moto,
        &[
            "logs",
            "-f",
            "echo",
            "--startTime",
            "1h",
            "--filter",
            "ERROR",
        ],
    );
    assert_eq!(errors.status, Some(0), "{}", errors.stderr);
    let lines: Vec<&str> = errors.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", errors.stdout);
    assert!(
        lines.iter().all(|l| l.contains("ERROR")),
        "{}",
        errors.stdout
    );

    // An absolute start in epoch milliseconds, between the two recent events.
    let since = (now - 45_000).to_string();
    let last = run(
        &service,
        &moto,
        &["logs", "-f", "echo", "--startTime", &since],
    );
    assert_eq!(last.stdout.lines().count(), 1, "{}", last.stdout);
    assert!(last.stdout.contains("a recent success"), "{}", last.stdout);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn json_gives_one_object_per_event() {
    let moto = moto::moto("json_gives_one_object_per_event");
    let (_dir, service) = service();
    let log = Log::create(&moto);
    let now = now_ms();
    log.write(
        "2026/11/26/[$LATEST]cccc",
        &[
            (
                now - 2_000,
                &format!("START RequestId: {REQUEST} Version: $LATEST\n"),
            ),
            (now - 1_000, "no request here\n"),
        ],
    );
    let read = run(&service, &moto, &["logs", "-f", "echo", "--json"]);
    assert_eq!(read.status, Some(0), "{}", read.stderr);
    let events: Vec<serde_json::Value> = read
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect();
    assert_eq!(events.len(), 2, "{}", read.stdout);
    assert_eq!(events[0]["requestId"], REQUEST);
    assert_eq!(events[0]["timestamp"], now - 2_000);
    assert_eq!(events[0]["stream"], "2026/11/26/[$LATEST]cccc");
    assert_eq!(events[1]["requestId"], serde_json::Value::Null);
    assert_eq!(events[1]["message"], "no request here");
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn a_function_that_never_ran_has_no_log_yet() {
    let moto = moto::moto("a_function_that_never_ran_has_no_log_yet");
    let (_dir, service) = service();
    let read = run(&service, &moto, &["logs", "-f", "echo"]);
    assert_eq!(read.status, Some(0), "{}", read.stderr);
    assert_eq!(read.stdout, "");
    assert!(
        read.stderr.contains("No log for invoke-test-dev-echo yet"),
        "{}",
        read.stderr
    );
}

/// Lines of the child's stdout, as they come.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// Waits for lines until one contains `text`; all lines read are kept in `seen`.
fn wait_for(lines: &mpsc::Receiver<String>, seen: &mut Vec<String>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.iter().any(|l| l.contains(text)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("`{text}` never came; got:\n{}", seen.join("\n")),
        }
    }
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn tail_follows_new_events_once_each_and_stops_on_sigint() {
    let moto = moto::moto("tail_follows_new_events_once_each_and_stops_on_sigint");
    let (_dir, service) = service();
    let log = Log::create(&moto);
    let start = now_ms();
    log.write(
        "2026/11/26/[$LATEST]dddd",
        &[(start - 1_000, "before the tail\n")],
    );

    let mut command = common::clean_command(env!("CARGO_BIN_EXE_updraft"), &service);
    command
        .args(["logs", "-f", "echo", "--tail", "--interval", "200"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("updraft starts");
    let lines = lines_of(child.stdout.take().expect("stdout is piped"));
    let mut seen = Vec::new();
    wait_for(&lines, &mut seen, "before the tail");

    // Written after the tail started: two in the same millisecond as the event already
    // printed (the boundary a moving start time reads again), one later, in another stream.
    log.write(
        "2026/11/26/[$LATEST]dddd",
        &[
            (start - 1_000, "same millisecond one\n"),
            (start - 1_000, "same millisecond two\n"),
        ],
    );
    log.write("2026/11/26/[$LATEST]eeee", &[(now_ms(), "a later event\n")]);
    wait_for(&lines, &mut seen, "a later event");
    wait_for(&lines, &mut seen, "same millisecond two");
    // Several more polls: nothing may come twice.
    std::thread::sleep(Duration::from_millis(1_200));

    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let status = child.wait().expect("updraft ends");
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
        seen.push(line);
    }
    assert_eq!(status.code(), Some(130), "Ctrl-C ends a tail with 130");
    for message in [
        "before the tail",
        "same millisecond one",
        "same millisecond two",
        "a later event",
    ] {
        let count = seen.iter().filter(|l| l.ends_with(message)).count();
        assert_eq!(
            count,
            1,
            "`{message}` printed {count} times:\n{}",
            seen.join("\n")
        );
    }
    assert_eq!(seen.len(), 4, "{}", seen.join("\n"));
}

#[test]
fn logs_help_documents_every_flag() {
    let (_dir, service) = service();
    insta::assert_snapshot!(common::transcript(&service, &["logs", "--help"], &[]));
}

#[test]
fn a_malformed_start_time_is_an_argument_error() {
    let (_dir, service) = service();
    let read = common::updraft(
        &service,
        &["logs", "-f", "echo", "--startTime", "yesterday"],
        &[],
    );
    assert_eq!(read.status, Some(1), "{}", read.stderr);
    assert!(read.stderr.contains("duration ago"), "{}", read.stderr);
}
