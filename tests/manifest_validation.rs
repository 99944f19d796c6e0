//! Validation as a user meets it through `updraft print`: the reference cases of broken
//! manifests that are about the schema and the manifest's structure, and the real-world corpus,
//! which must draw no warning about keys that the Framework knows.

mod common;

use std::path::Path;

/// The broken-manifest cases about the schema and structure, with the place the message must
/// name (`file:line:col`).
const CASES: &[(&str, &str)] = &[
    ("04-wrong-type-memorysize", "serverless.yml:9:17"),
    ("05-unknown-top-level-key", "serverless.yml:9:1"),
    ("06-unknown-function-key", "serverless.yml:9:5"),
    ("07-missing-service", "serverless.yml:1:1"),
    ("08-missing-provider", "serverless.yml:1:1"),
    ("09-provider-without-name", "serverless.yml:3:1"),
    ("10-unknown-provider-name", "serverless.yml:4:9"),
    ("11-function-without-handler", "serverless.yml:7:3"),
    ("12-handler-no-dot", "serverless.yml:8:14"),
    ("13-events-not-list", "serverless.yml:10:7"),
    ("14-unknown-event-type", "serverless.yml:10:9"),
    ("15-http-without-path", "serverless.yml:10:15"),
    ("16-memorysize-64", "serverless.yml:9:17"),
    ("17-memorysize-20000", "serverless.yml:9:17"),
    ("18-timeout-0", "serverless.yml:9:14"),
    ("19-timeout-901", "serverless.yml:9:14"),
    ("33-config-validation-mode-error", "serverless.yml:10:5"),
    ("34-functions-is-list", "serverless.yml:7:3"),
    ("35-framework-version-mismatch", "serverless.yml:2:19"),
    ("36-provider-null", "serverless.yml:3:1"),
    ("37-service-object-form", "serverless.yml:2:3"),
    ("38-http-bad-method", "serverless.yml:12:19"),
    ("39-unknown-runtime", "serverless.yml:5:12"),
    ("42-runtime-nodejs22", ""),
];

fn expectation(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("case.json")).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    json["updraft_expect"].as_str().unwrap_or("").to_string()
}

#[test]
fn broken_manifests_warn_or_fail_as_the_reference_says_naming_the_place() {
    let shared = common::shared_dir();
    for (name, place) in CASES {
        let dir = shared.join("bad-manifests").join(name);
        let expect = expectation(&dir);
        let run = common::updraft(&dir, &["print", "--format", "json"], &[]);
        let context = format!("{name} (expect {expect}):\n{}", run.stderr);
        match expect.as_str() {
            "ok" => {
                assert_eq!(run.status, Some(0), "{context}");
                assert!(!run.stderr.contains('⚠'), "{context}");
            }
            "warn" => {
                assert_eq!(run.status, Some(0), "{context}");
                assert!(run.stderr.contains('⚠'), "{context}");
            }
            "error" => assert_eq!(run.status, Some(1), "{context}"),
            other => panic!("{name}: unexpected expectation {other:?}"),
        }
        assert!(
            run.stderr.contains(place),
            "{name} does not name {place}:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{context}");
    }
}

#[test]
fn config_validation_mode_error_turns_a_warning_into_a_failure() {
    let shared = common::shared_dir();
    let source = shared.join("bad-manifests/04-wrong-type-memorysize/serverless.yml");
    let text = std::fs::read_to_string(source).unwrap_or_default();
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("serverless.yml"),
        format!("configValidationMode: error\n{text}"),
    )
    .expect("write the manifest");
    let run = common::updraft(dir.path(), &["print"], &[]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("must be an integer"), "{}", run.stderr);
}

/// Mistakes that are really in the corpus's manifests (the Framework warns about them too).
const TRUE_MISTAKES: &[&str] = &[
    // `request.paths` instead of `request.parameters.paths`.
    "unknown key `paths` under `functions.",
    // `request.parameter` instead of `request.parameters`.
    "unknown key `parameter` under `functions.",
];

#[test]
fn the_corpus_draws_no_warning_about_keys_the_framework_knows() {
    let mut checked = 0;
    for dir in common::cases("corpus/serverless-examples") {
        let text = std::fs::read_to_string(dir.join("case.json")).unwrap_or_default();
        let case: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if case["expect"] != "ok" {
            continue;
        }
        let mut args = vec!["print".to_string(), "--format".into(), "json".into()];
        if let Some(extra) = case["args"].as_array() {
            args.extend(extra.iter().filter_map(|a| a.as_str().map(str::to_string)));
        }
        if let Some(config) = case["config"].as_str().filter(|c| *c != "serverless.yml") {
            args.extend(["--config".to_string(), config.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = common::updraft(&dir, &args, &[]);
        checked += 1;
        for line in run.stderr.lines().filter(|l| l.contains("⚠ unknown key")) {
            assert!(
                TRUE_MISTAKES.iter().any(|m| line.contains(m)),
                "{}: {line}\n{}",
                dir.display(),
                run.stderr
            );
        }
        assert!(
            !run.stderr.contains("unknown event type"),
            "{}: {}",
            dir.display(),
            run.stderr
        );
    }
    assert!(checked > 50, "only {checked} corpus cases ran");
}

#[test]
fn every_corpus_service_reads_into_the_model() {
    use updraft::manifest::model::{Service, Trigger};
    use updraft::manifest::{Node, Span};
    let mut read = 0;
    for dir in common::cases("corpus/serverless-examples") {
        let Ok(text) = std::fs::read_to_string(dir.join("expected.json")) else {
            continue;
        };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let root = Node::from_json(&json, Span::default());
        let service = match Service::from_tree(&root) {
            Ok(service) => service,
            Err(error) => panic!("{}: {error}", dir.display()),
        };
        let functions = json["functions"].as_object().map(|f| f.len()).unwrap_or(0);
        assert_eq!(service.functions.len(), functions, "{}", dir.display());
        for (key, function) in &service.functions {
            assert_eq!(
                function.name,
                json["functions"][key]["name"],
                "{}",
                dir.display()
            );
            let written = json["functions"][key]["events"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            assert!(function.events.len() >= written, "{}: {key}", dir.display());
            for event in &function.events {
                if event.kind == "http" || event.kind == "httpApi" {
                    assert!(
                        matches!(event.trigger, Trigger::Http(_)),
                        "{}: {:?}",
                        dir.display(),
                        event
                    );
                }
            }
        }
        read += 1;
    }
    assert!(read > 50, "only {read} corpus services read");
}

/// A minified `serverless.json` (1,500 functions on one line of 136 KB) reads whole, and a
/// problem at its end is reported at its true line and column with a short quote of the line.
/// Column lookups used to start from the line's start for every node, and a label past column
/// 65,535 made the snippet's formatting panic.
#[test]
fn a_minified_json_manifest_reports_the_place_of_a_problem_at_the_end_of_its_one_line() {
    let dir = tempfile::tempdir().expect("scratch dir");
    let functions: serde_json::Map<String, serde_json::Value> = (0..1500)
        .map(|index| {
            let mut function = serde_json::json!({
                "handler": format!("src/h{index}.handler"),
                "events": [{"http": {"path": format!("p{index}"), "method": "get"}}],
            });
            if index == 1499 {
                function["memorySize"] = "lots".into();
            }
            (format!("fn{index}"), function)
        })
        .collect();
    let text = serde_json::json!({
        "service": "minified",
        "provider": {"name": "aws", "runtime": "nodejs20.x"},
        "functions": functions,
    })
    .to_string();
    assert!(!text.contains('\n'));
    std::fs::write(dir.path().join("serverless.json"), &text).expect("manifest");
    let column = text.find("\"lots\"").expect("the bad value") + 1;

    let run = common::updraft(dir.path(), &["print", "--format", "json"], &[]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(
        printed["functions"].as_object().map(|f| f.len()),
        Some(1500)
    );
    assert!(
        run.stderr.contains(&format!("serverless.json:1:{column}")),
        "names line 1, column {column}:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\"memorySize\":\"lots\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.len() < 2_000,
        "quotes a window of the line, not all of it ({} bytes)",
        run.stderr.len()
    );
}
