//! Broken and hostile manifests (`shared/bad-manifests/`): each gets what its `case.json`
//! `updraft_expect` says (an error naming the place and the fix, a warning, or success), and
//! never a crash. Time and memory bounds are measured by `bench/bad_manifests.sh`, not here.

mod common;

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            // The reference data is read-only; the copy must be writable for gen.sh.
            let mut permissions = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&target, permissions).unwrap();
        }
    }
}

/// Runs one case in a scratch copy; returns a description of what is wrong, if anything.
fn check_case(case_dir: &Path) -> Option<String> {
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case_dir.join("case.json")).unwrap())
            .unwrap();
    let expect = case["updraft_expect"].as_str().unwrap_or("any");
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("case");
    copy_dir(case_dir, &dir);
    if dir.join("gen.sh").exists() {
        let status = Command::new("sh")
            .arg("gen.sh")
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "gen.sh failed in {}", case_dir.display());
    }
    let run = common::updraft(&dir, &["print", "--format", "json"], &[]);
    let code = run.status;
    if run.stderr.contains("panicked") || code.is_none() || code == Some(101) {
        return Some(format!("crashed ({code:?}): {}", run.stderr));
    }
    // A place is `serverless.yml:LINE:COL`, or the file name where the problem is the whole file.
    let names_place = run.stderr.contains("serverless.yml");
    match expect {
        "error" if code != Some(1) => Some(format!("expected exit 1, got {code:?}")),
        "error" if !names_place => Some(format!("error does not name the file: {}", run.stderr)),
        "error" if !run.stdout.is_empty() => Some("printed a configuration on error".into()),
        "warn" if code != Some(0) => Some(format!("expected exit 0, got {code:?}: {}", run.stderr)),
        "warn" if !run.stderr.contains("serverless.yml:") => Some(format!(
            "expected a warning naming serverless.yml:LINE:COL, got: {:?}",
            run.stderr
        )),
        "ok" if code != Some(0) => Some(format!("expected exit 0, got {code:?}: {}", run.stderr)),
        "any" if !matches!(code, Some(0) | Some(1)) => {
            Some(format!("expected exit 0 or 1, got {code:?}"))
        }
        _ => None,
    }
}

#[test]
fn bad_manifests_get_the_expected_outcome_and_never_crash() {
    let cases = common::cases("bad-manifests");
    let mut failures = Vec::new();
    for dir in &cases {
        if let Some(problem) = check_case(dir) {
            failures.push(format!(
                "{}: {problem}",
                dir.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    eprintln!(
        "bad-manifests: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
