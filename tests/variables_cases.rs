//! Runs `updraft print --format json` on every variable-resolution case of the reference data
//! (recorded from the Serverless Framework v3) and checks the contract of its README: an `ok`
//! case prints the Framework's JSON, an `error` case exits non-zero with a message that names
//! what the Framework's names, without a panic.

mod common;

use std::path::Path;

use serde_json::Value as Json;

/// Cases where updraft knowingly does not do what the Framework does, each with a text its
/// output must hold instead. None at present: `47-file-js` runs its JavaScript with Node.js, as
/// the Framework does.
const DELIBERATE: &[(&str, &str)] = &[];

/// Cloud cases run against a closed local port so nothing leaves the machine. (How fast they
/// fail is measured by the benchmarks, not asserted here.)
const CLOSED_ENDPOINT: &str = "http://127.0.0.1:9";

#[test]
fn variables_resolve_as_the_framework_resolves_them() {
    let cases = common::cases("variables");
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in &cases {
        match check(case) {
            Ok(()) => passed += 1,
            Err(problem) => failures.push(format!("{}: {problem}", name(case))),
        }
    }
    for (case, _) in DELIBERATE {
        println!(
            "{case}: checked against updraft's deliberate difference, not the Framework's output"
        );
    }
    println!("variables: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} variable cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn name(case: &Path) -> String {
    case.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check(case: &Path) -> Result<(), String> {
    let read = |file: &str| std::fs::read_to_string(case.join(file));
    let spec: Json = serde_json::from_str(&read("case.json").map_err(|e| e.to_string())?)
        .map_err(|e| format!("case.json: {e}"))?;
    let mut args = vec!["print".to_string(), "--format".into(), "json".into()];
    args.extend(strings(&spec["args"]));
    let mut env: Vec<(String, String)> = vec![
        ("AWS_ACCESS_KEY_ID".into(), "x".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "y".into()),
        ("AWS_ENDPOINT_URL".into(), CLOSED_ENDPOINT.into()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
    ];
    if let Some(extra) = spec["env"].as_object() {
        env.extend(
            extra
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = common::updraft(case, &args, &env);
    let output = format!("{}{}", run.stdout, run.stderr);
    if output.contains("panicked") || run.status == Some(101) {
        return Err(format!("panicked:\n{}", run.stderr));
    }
    let case_name = name(case);
    if let Some((_, must_name)) = DELIBERATE.iter().find(|(n, _)| *n == case_name) {
        return if run.status != Some(0) && output.contains(must_name) {
            Ok(())
        } else {
            Err(format!(
                "expected a clear refusal naming {must_name}, got:\n{output}"
            ))
        };
    }
    match spec["expect"].as_str() {
        Some("ok") => {
            if run.status != Some(0) {
                return Err(format!("exit {:?}:\n{}", run.status, output));
            }
            let mut actual: Json = serde_json::from_str(&run.stdout)
                .map_err(|e| format!("stdout is not JSON ({e}):\n{}", run.stdout))?;
            let mut expected: Json =
                serde_json::from_str(&read("expected.json").map_err(|e| e.to_string())?)
                    .map_err(|e| format!("expected.json: {e}"))?;
            for path in strings(&spec["random_paths"]) {
                let value = pointer(&mut actual, &path)
                    .ok_or_else(|| format!("{path}: missing from updraft's output"))?;
                if value.as_str().is_none_or(str::is_empty) {
                    return Err(format!("{path}: {value} is not a non-empty string"));
                }
                *value = Json::Null;
                if let Some(value) = pointer(&mut expected, &path) {
                    *value = Json::Null;
                }
            }
            if common::json_equal(&actual, &expected) {
                Ok(())
            } else {
                Err(common::json_difference(&actual, &expected, "")
                    .unwrap_or_else(|| "outputs differ".into()))
            }
        }
        Some("error") => {
            if spec["updraft_may_differ"].as_bool() == Some(true) && run.status == Some(0) {
                return Ok(());
            }
            if run.status == Some(0) {
                return Err(format!(
                    "succeeded, but the Framework fails:\n{}",
                    run.stdout
                ));
            }
            // The Framework's message names the property (or the option, or the file) in
            // quotes: updraft's must name it too.
            let framework = spec["error_message"].as_str().unwrap_or_default();
            match first_quoted(framework) {
                Some(named) if !output.contains(&named) => {
                    Err(format!("the message does not name \"{named}\":\n{output}"))
                }
                _ => Ok(()),
            }
        }
        other => Err(format!("unknown expectation {other:?}")),
    }
}

fn strings(value: &Json) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn pointer<'a>(value: &'a mut Json, dotted: &str) -> Option<&'a mut Json> {
    value.pointer_mut(&format!("/{}", dotted.replace('.', "/")))
}

fn first_quoted(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let end = message[start..].find('"')? + start;
    Some(message[start..end].to_string())
}
