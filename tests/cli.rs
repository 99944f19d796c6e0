//! The command line's behaviour, pinned by snapshots of exit code, stdout and stderr: help, print,
//! and one case of each error class (user, argument).

mod common;

use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn help_lists_only_working_commands() {
    insta::assert_snapshot!(common::transcript(&fixture("service"), &["--help"], &[]));
}

#[test]
fn print_help_documents_every_flag() {
    insta::assert_snapshot!(common::transcript(
        &fixture("service"),
        &["print", "--help"],
        &[]
    ));
}

#[test]
fn print_shows_resolved_yaml_with_framework_defaults() {
    insta::assert_snapshot!(common::transcript(
        &fixture("service"),
        &["print", "--stage", "prod"],
        &[]
    ));
}

#[test]
fn print_json_path_selects_a_subtree() {
    insta::assert_snapshot!(common::transcript(
        &fixture("service"),
        &["print", "--format", "json", "--path", "functions.hello"],
        &[]
    ));
}

#[test]
fn print_transform_keys_lists_map_keys() {
    insta::assert_snapshot!(common::transcript(
        &fixture("service"),
        &[
            "print",
            "--format",
            "text",
            "--path",
            "provider",
            "--transform",
            "keys"
        ],
        &[]
    ));
}

#[test]
fn argument_error_exits_1_not_2_so_it_never_reads_as_changes_found() {
    insta::assert_snapshot!(common::transcript(
        &fixture("service"),
        &["print", "--frmat", "json"],
        &[]
    ));
}

#[test]
fn missing_manifest_is_a_user_error_with_a_hint() {
    let empty = tempfile::tempdir().unwrap();
    let text = common::transcript(empty.path(), &["print"], &[]);
    let text = text.replace(&empty.path().display().to_string(), "[TEMP]");
    insta::assert_snapshot!(text);
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    insta::assert_snapshot!(common::transcript(&fixture("yaml-error"), &["print"], &[]));
}

#[test]
fn unresolvable_variable_names_the_place_and_the_fix() {
    insta::assert_snapshot!(common::transcript(
        &fixture("unknown-variable"),
        &["print"],
        &[]
    ));
}

#[test]
fn completions_are_generated_for_bash() {
    let run = common::updraft(&fixture("service"), &["completions", "bash"], &[]);
    assert_eq!(run.status, Some(0));
    assert!(run.stdout.contains("_updraft()"), "{}", run.stdout);
    assert!(run.stdout.contains("print"));
}

#[test]
fn no_color_flag_and_env_keep_escape_codes_out() {
    let run = common::updraft(&fixture("yaml-error"), &["print", "--no-color"], &[]);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
}

#[test]
fn deploy_help_documents_the_change_options() {
    insta::assert_snapshot!(common::transcript(
        &fixture("service"),
        &["deploy", "--help"],
        &[]
    ));
}

#[test]
fn a_malformed_lock_timeout_is_an_argument_error_not_exit_2() {
    let run = common::updraft(
        &fixture("service"),
        &["deploy", "--lock-timeout", "5d"],
        &[],
    );
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("unknown unit `d`"), "{}", run.stderr);
}

/// `plan` reads the functions as Cloud Functions would get them: what Google would refuse is
/// named first, with its place; then, on a machine with no Google credentials, that is said at
/// once (not after minutes of asking a metadata server that is not there).
#[test]
fn plan_on_google_names_what_google_would_refuse_before_looking_for_credentials() {
    let dir = tempfile::tempdir().expect("scratch dir");
    std::fs::write(dir.path().join("index.js"), "exports.hello = () => {};\n").expect("code");
    let manifest = "service: shop\nprovider:\n  name: google\n  project: demo\n  runtime: nodejs20\nfunctions:\n  hello:\n    handler: hello\n    memorySize: 300\n";
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("manifest");
    insta::assert_snapshot!(
        "google_limit_before_credentials",
        common::transcript(dir.path(), &["plan"], &[])
    );
    let fixed = manifest.replace("    memorySize: 300\n", "");
    std::fs::write(dir.path().join("serverless.yml"), fixed).expect("manifest");
    let home = dir.path().join("home");
    let home = home.to_str().expect("a UTF-8 path");
    insta::assert_snapshot!(
        "google_without_credentials",
        common::transcript(
            dir.path(),
            &["plan"],
            &[
                ("HOME", home),
                ("GOOGLE_APPLICATION_CREDENTIALS", ""),
                ("CLOUDSDK_CONFIG", home),
                ("UPDRAFT_GCP_ENDPOINT", ""),
            ]
        )
    );
}

/// `plan` reads an Azure service as one Function App: functions that ask for settings Azure
/// keeps per app are named first, with their place; then, before any call, the subscription.
#[test]
fn plan_on_azure_names_what_one_function_app_cannot_hold_then_asks_for_the_subscription() {
    let dir = tempfile::tempdir().expect("scratch dir");
    std::fs::write(
        dir.path().join("index.js"),
        "module.exports.a = async () => ({});\n",
    )
    .expect("code");
    let manifest = "service: shop\nprovider:\n  name: azure\n  region: West US 2\n  runtime: nodejs20\nfunctions:\n  a:\n    handler: index.a\n    memorySize: 512\n    events:\n      - http: true\n  b:\n    handler: index.a\n    memorySize: 4096\n    events:\n      - http: true\n";
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("manifest");
    insta::assert_snapshot!(
        "azure_per_app_setting",
        common::transcript(dir.path(), &["plan"], &[])
    );
    let fixed = manifest.replace("    memorySize: 4096\n", "    memorySize: 512\n");
    std::fs::write(dir.path().join("serverless.yml"), fixed).expect("manifest");
    insta::assert_snapshot!(
        "azure_no_subscription",
        common::transcript(dir.path(), &["plan"], &[])
    );
}
