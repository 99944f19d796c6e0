//! The example service (`serverless.example.yml`) and the service templates (`templates/`) are
//! what a new user runs first: they must print, follow stages and parameters as the README says,
//! and every function they declare must point at a handler that exists.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `updraft print --format json ARGS` in `dir`, parsed; fails the test with updraft's stderr.
fn print_json(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Json {
    let mut all = vec!["print", "--format", "json"];
    all.extend_from_slice(args);
    let run = common::updraft(dir, &all, env);
    assert_eq!(
        run.status,
        Some(0),
        "updraft {all:?} failed in {}:\n{}",
        dir.display(),
        run.stderr
    );
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
        panic!(
            "updraft {all:?} did not print JSON ({error}):\n{}",
            run.stdout
        )
    })
}

fn at<'a>(value: &'a Json, path: &str) -> &'a Json {
    path.split('.').fold(value, |node, key| match node {
        Json::Array(items) => key
            .parse::<usize>()
            .ok()
            .and_then(|index| items.get(index))
            .unwrap_or(&Json::Null),
        _ => node.get(key).unwrap_or(&Json::Null),
    })
}

fn example(args: &[&str], env: &[(&str, &str)]) -> Json {
    let mut all = vec!["--config", "serverless.example.yml"];
    all.extend_from_slice(args);
    print_json(&repo_root(), &all, env)
}

#[test]
fn example_service_prints_with_default_stage_params_and_env_fallback() {
    let printed = example(&[], &[]);
    assert_eq!(at(&printed, "service"), "updraft-example");
    assert_eq!(at(&printed, "provider.region"), "us-east-1");
    assert_eq!(at(&printed, "provider.memorySize"), 256);
    let environment = at(&printed, "provider.environment");
    assert_eq!(at(environment, "SERVICE_NAME"), "updraft-example");
    assert_eq!(at(environment, "STAGE"), "dev");
    assert_eq!(at(environment, "LOG_LEVEL"), "debug");
    assert_eq!(at(environment, "GREETING"), "hello");
    assert_eq!(
        at(&printed, "functions.hello.environment.GREETING_SUFFIX"),
        "from updraft-example (dev)"
    );
    assert_eq!(
        at(&printed, "functions.worker.name"),
        "updraft-example-dev-worker"
    );
    assert_eq!(at(&printed, "functions.worker.events.0.sqs.batchSize"), 5);
    assert_eq!(
        at(
            &printed,
            "resources.Resources.JobsQueue.Properties.QueueName"
        ),
        "updraft-example-dev-jobs"
    );
}

#[test]
fn example_service_follows_stage_region_params_and_environment() {
    let printed = example(
        &[
            "--stage",
            "prod",
            "--region",
            "eu-west-1",
            "--param",
            "logLevel=warn",
        ],
        &[("GREETING", "hi")],
    );
    assert_eq!(at(&printed, "provider.region"), "eu-west-1");
    // `params.prod` wins over `params.default`, and `--param` over both.
    assert_eq!(at(&printed, "provider.memorySize"), 512);
    assert_eq!(at(&printed, "provider.environment.LOG_LEVEL"), "warn");
    assert_eq!(at(&printed, "provider.environment.STAGE"), "prod");
    assert_eq!(at(&printed, "provider.environment.GREETING"), "hi");
    assert_eq!(at(&printed, "functions.worker.events.0.sqs.batchSize"), 10);
    assert_eq!(
        at(&printed, "functions.hello.name"),
        "updraft-example-prod-hello"
    );
}

#[test]
fn example_service_has_http_httpapi_schedule_and_sqs_events() {
    let printed = example(&[], &[]);
    let mut kinds: Vec<String> = Vec::new();
    for function in at(&printed, "functions")
        .as_object()
        .into_iter()
        .flat_map(|f| f.values())
    {
        for event in at(function, "events").as_array().into_iter().flatten() {
            kinds.extend(
                event
                    .as_object()
                    .into_iter()
                    .flat_map(|e| e.keys().cloned()),
            );
        }
    }
    for kind in ["http", "httpApi", "schedule", "sqs"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no `{kind}` event in {kinds:?}"
        );
    }
}

/// `dir/handler.export`: a file `dir/handler.{mjs,js,cjs,ts,py}` that defines `export`.
fn assert_handler_exists(service_dir: &Path, function: &str, handler: &str) {
    let (module, export) = handler
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("{function}: handler `{handler}` has no `.export` part"));
    let found = ["mjs", "js", "cjs", "ts", "py"]
        .iter()
        .map(|extension| service_dir.join(format!("{module}.{extension}")))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{function}: no file for handler `{handler}`"));
    let source = std::fs::read_to_string(&found).unwrap_or_default();
    let defined = [
        format!("export const {export} "),
        format!("export async function {export}("),
        format!("export function {export}("),
        format!("exports.{export} "),
        format!("def {export}("),
    ]
    .iter()
    .any(|definition| source.contains(definition.as_str()));
    assert!(
        defined,
        "{function}: {} does not define `{export}`",
        found.display()
    );
}

fn assert_handlers_exist(service_dir: &Path, printed: &Json) {
    let functions = at(printed, "functions")
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        !functions.is_empty(),
        "no functions in {}",
        service_dir.display()
    );
    for (name, function) in &functions {
        let handler = at(function, "handler").as_str().unwrap_or_default();
        assert_handler_exists(service_dir, name, handler);
    }
}

#[test]
fn example_service_handlers_exist() {
    assert_handlers_exist(&repo_root(), &example(&[], &[]));
}

#[test]
fn every_template_prints_and_its_handlers_exist() {
    let templates = repo_root().join("templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&templates)
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path();
        if !dir.join("serverless.yml").is_file() {
            continue;
        }
        let printed = print_json(&dir, &[], &[]);
        assert_eq!(at(&printed, "provider.stage"), "dev", "{}", dir.display());
        // Handlers named `file.export`: the AWS Node.js and Python templates. (The others name a
        // program or an export only; tests/create.rs runs and deploys every template.)
        let runtime = at(&printed, "provider.runtime")
            .as_str()
            .unwrap_or_default();
        if at(&printed, "provider.name") == "aws"
            && (runtime.starts_with("nodejs") || runtime.starts_with("python"))
        {
            assert_handlers_exist(&dir, &printed);
        }
        checked += 1;
    }
    assert!(checked > 0, "no templates found in {}", templates.display());
}
