//! `updraft offline`'s command line, pinned by snapshots: its help and `offline emit`'s, and what
//! `emit` says when no emulator is running.

mod common;

use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offline-errors")
}

#[test]
fn offline_help_documents_every_flag() {
    insta::assert_snapshot!(common::transcript(&fixture(), &["offline", "--help"], &[]));
}

#[test]
fn offline_emit_help_documents_every_flag() {
    insta::assert_snapshot!(common::transcript(
        &fixture(),
        &["offline", "emit", "--help"],
        &[]
    ));
}

#[test]
fn emit_without_a_running_emulator_says_how_to_start_one() {
    // Port 9 (discard) on loopback: nothing listens there in a test environment.
    let run = common::updraft(
        &fixture(),
        &[
            "offline",
            "emit",
            "-f",
            "fail",
            "--event",
            "sqs",
            "--lambdaPort",
            "9",
        ],
        &[],
    );
    assert_eq!(run.status, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach the emulator"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("updraft offline"), "{}", run.stderr);
}
