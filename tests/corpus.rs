//! Parity with the Serverless Framework's own `print` on real services (`shared/corpus/`): updraft
//! must match at least 95% of them, and every case it does not match must be listed with its
//! reason in docs/compatibility.md.

mod common;

use std::path::Path;

/// The share of corpus services whose printed configuration must equal the Framework's.
const REQUIRED_MATCH_RATE: f64 = 0.95;

#[derive(Debug)]
struct Outcome {
    name: String,
    problem: Option<String>,
}

fn check_case(dir: &Path) -> Outcome {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let mut args: Vec<String> = vec!["print".into(), "--format".into(), "json".into()];
    args.extend(
        case["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(String::from)),
    );
    let config = case["config"].as_str().unwrap_or("serverless.yml");
    if config != "serverless.yml" {
        args.extend(["--config".into(), config.into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::updraft(dir, &args, &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]);
    let problem = if run.stderr.contains("panicked") || run.status.is_none() {
        Some(format!("crashed: {}", run.stderr))
    } else if case["expect"] == "error" {
        match run.status {
            Some(0) => Some("the Framework fails here, updraft printed a configuration".into()),
            _ if run.stderr.trim().is_empty() => Some("failed without a message".into()),
            _ => None,
        }
    } else if run.status != Some(0) {
        Some(format!(
            "exit {:?}: {}",
            run.status,
            first_lines(&run.stderr)
        ))
    } else {
        let mut expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        if let Some(package) = expected.get_mut("package").and_then(|p| p.as_object_mut()) {
            package.remove("artifactsS3KeyDirname");
            if package.is_empty() {
                expected.as_object_mut().unwrap().remove("package");
            }
        }
        match serde_json::from_str::<serde_json::Value>(&run.stdout) {
            Err(error) => Some(format!("stdout is not JSON: {error}")),
            Ok(actual) => common::json_difference(&actual, &expected, ""),
        }
    };
    Outcome { name, problem }
}

fn first_lines(text: &str) -> String {
    text.lines().take(12).collect::<Vec<_>>().join("\n")
}

#[test]
fn corpus_prints_as_the_framework_does() {
    let cases = common::cases("corpus/serverless-examples");
    let outcomes: Vec<Outcome> = cases.iter().map(|dir| check_case(dir)).collect();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.problem.is_some()).collect();
    let passed = outcomes.len() - failed.len();
    for outcome in &failed {
        eprintln!(
            "MISMATCH {}: {}",
            outcome.name,
            outcome.problem.as_deref().unwrap_or_default()
        );
    }
    eprintln!("corpus: {} passed, {} failed", passed, failed.len());

    let compatibility = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md"),
    )
    .unwrap_or_default();
    let undocumented: Vec<&str> = failed
        .iter()
        .map(|o| o.name.as_str())
        .filter(|name| !compatibility.contains(&format!("`{name}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "corpus cases that differ from the Framework but are not explained in docs/compatibility.md: {undocumented:?}"
    );
    let rate = passed as f64 / outcomes.len() as f64;
    assert!(
        rate >= REQUIRED_MATCH_RATE,
        "updraft matches the Framework on {passed} of {} corpus services ({:.1}%), below {:.0}%",
        outcomes.len(),
        rate * 100.0,
        REQUIRED_MATCH_RATE * 100.0
    );
}
