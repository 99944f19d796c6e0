//! Checks a resolved manifest against the schema of `serverless.yml` and the semantic rules
//! (handler format, limits, event shapes), producing warnings and errors with positions.
//!
//! Three kinds of problems, treated differently:
//! - the skeleton (`service`, `provider.name`, `functions` as a map, `events` as a list): without
//!   it nothing else can be read, so these are always errors;
//! - schema violations (unknown keys, wrong types, out-of-range values, bad events): warnings by
//!   default, errors with `configValidationMode: error`, silent with `off`, as in the Framework;
//! - problems that would make every deploy fail (a function without code, a handler that is not
//!   `file.export`) are errors, and notes (plugins are not run) always warnings.
//!
//! The schema itself lives in [`aws`] (as Rust data, see [`schema`] for why) and is written out
//! as `schemas/serverless.schema.json` for editors; Google and Azure services have their own, in
//! [`google`] and [`azure`].

pub mod aws;
pub mod azure;
pub mod google;
mod rules;
pub mod schema;
mod suggest;
pub mod version;
mod walk;

use super::node::{Node, Value};
use super::source::SourceMap;
use schema::{any_map, list, open_object, prop, string, Keys, Shape};
use walk::{Issue, Walker};

/// How a schema violation is treated (`configValidationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Warn,
    Error,
    Off,
}

/// One finding, ready to show: a message, its place and a hint.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct Finding {
    pub message: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    pub source_code: crate::manifest::snippet::Snippet,
    #[label("{label}")]
    pub at: miette::SourceSpan,
    pub label: String,
    /// `file:line:col` of `at`.
    pub location: String,
}

/// Everything validation found; `errors` stop the command, `warnings` are shown and it goes on.
#[derive(Debug, Default)]
pub struct Report {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

/// How a problem counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// Always an error.
    Error,
    /// A schema violation: as `configValidationMode` says.
    Schema,
    /// Always a warning.
    Warning,
    /// A warning, an error under `configValidationMode: error`, never silenced (a manifest
    /// written for another Framework version reads differently whatever the mode).
    Version,
}

/// Validates a resolved (and normalised) manifest.
pub fn validate(root: &Node, sources: &SourceMap) -> Report {
    let mut found: Vec<(Severity, Issue)> = Vec::new();
    let mode = mode(root, &mut found);
    let (skeleton, provider) = rules::structure(root);
    let sound = skeleton.is_empty();
    found.extend(skeleton.into_iter().map(|i| (Severity::Error, i)));
    framework_version(root, &mut found);
    if let (true, Some(provider)) = (sound, provider) {
        if mode != Mode::Off {
            let mut walker = Walker::new();
            if provider == "aws" {
                walker.check(root, aws::root(), "");
            } else if provider == "google" {
                walker.check(root, google::root(), "");
            } else if provider == "azure" {
                azure::check(&mut walker, root);
            } else {
                walker.check(root, &other_provider_root(), "");
            }
            found.extend(walker.issues.into_iter().map(|i| (Severity::Schema, i)));
        }
        rules::semantics(root, &provider, sources, &mut found);
    }
    let mut report = Report::default();
    for (severity, issue) in found {
        let as_error = match severity {
            Severity::Error => true,
            Severity::Schema => match mode {
                Mode::Off => continue,
                Mode::Warn => false,
                Mode::Error => true,
            },
            Severity::Warning => false,
            Severity::Version => mode == Mode::Error,
        };
        let finding = finding(issue, sources);
        if as_error {
            report.errors.push(finding);
        } else {
            report.warnings.push(finding);
        }
    }
    report
}

fn finding(issue: Issue, sources: &SourceMap) -> Finding {
    Finding {
        message: issue.message,
        help: issue.help,
        source_code: sources.named_source(issue.span.file),
        at: issue.span.source_span(),
        label: issue.label,
        location: sources.location(issue.span),
    }
}

/// `configValidationMode`, defaulting (with a warning when it is not a mode) to `warn`.
fn mode(root: &Node, found: &mut Vec<(Severity, Issue)>) -> Mode {
    let Some(node) = root.get("configValidationMode") else {
        return Mode::Warn;
    };
    match node.as_str() {
        Some("warn") => Mode::Warn,
        Some("error") => Mode::Error,
        Some("off") => Mode::Off,
        _ => {
            found.push((
                Severity::Warning,
                Issue {
                    span: node.span,
                    message: format!(
                        "`configValidationMode` is {}, not a mode; using `warn`",
                        walk::describe_value(node)
                    ),
                    label: "not a mode".into(),
                    help: Some("use `warn` (the default), `error` or `off`".into()),
                },
            ));
            Mode::Warn
        }
    }
}

fn framework_version(root: &Node, found: &mut Vec<(Severity, Issue)>) {
    let Some(node) = root.get("frameworkVersion") else {
        return;
    };
    let text = match &node.value {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => return,
    };
    let (message, label, help) = match version::check(&text) {
        version::Verdict::V3 => return,
        version::Verdict::Other => (
            format!("`frameworkVersion: '{text}'` asks for another Serverless Framework than v3; updraft reads v3 manifests"),
            "not a v3 range",
            "check the service against the Framework v3 upgrade notes, then set `frameworkVersion: '3'`",
        ),
        version::Verdict::Unreadable => (
            format!("`frameworkVersion: '{text}'` is not a version range updraft can read"),
            "not a semver range",
            "write a semver range such as '3' or '^3.38.0'",
        ),
    };
    found.push((
        Severity::Version,
        Issue {
            span: node.span,
            message,
            label: label.into(),
            help: Some(help.into()),
        },
    ));
}

/// For a provider without a schema of its own only the Framework's own keys are checked: the
/// provider and function settings belong to its Framework plugin.
fn other_provider_root() -> Shape {
    let provider = open_object(vec![prop("name", string(), "")]);
    let function = open_object(vec![
        prop("handler", string(), ""),
        prop("events", list(Shape::Any), ""),
    ]);
    let mut root = aws::root_keys_for(provider, function);
    if let Shape::Object(object) = &mut root {
        for property in &mut object.properties {
            if property.name == "functions" {
                property.shape = Shape::Map {
                    keys: Keys::Any,
                    values: Box::new(open_object(vec![])),
                };
            }
            if property.name == "resources" || property.name == "layers" {
                property.shape = any_map();
            }
        }
    }
    root
}

/// The JSON Schema (draft-07) of `serverless.yml`, as committed in `schemas/`.
pub fn json_schema() -> serde_json::Value {
    titled(
        aws::root(),
        "serverless.yml (Serverless Framework v3, AWS provider)",
    )
}

/// The JSON Schema of a `provider.name: google` service, as committed in `schemas/`.
pub fn google_json_schema() -> serde_json::Value {
    titled(
        google::root(),
        "serverless.yml (Serverless Framework v3, Google provider, deployed by updraft to Cloud Functions 2nd gen)",
    )
}

/// The JSON Schema of a `provider.name: azure` service, as committed in `schemas/`.
pub fn azure_json_schema() -> serde_json::Value {
    titled(
        azure::root(),
        "serverless.yml (Serverless Framework v3, Azure provider, deployed by updraft to Azure Functions Flex Consumption)",
    )
}

fn titled(shape: &Shape, title: &str) -> serde_json::Value {
    let mut schema = shape.to_json_schema();
    if let serde_json::Value::Object(map) = &mut schema {
        let mut head = serde_json::Map::new();
        head.insert(
            "$schema".into(),
            "http://json-schema.org/draft-07/schema#".into(),
        );
        head.insert("title".into(), title.into());
        head.insert(
            "description".into(),
            "Generated by updraft from the schema it validates with; do not edit by hand.".into(),
        );
        head.append(map);
        *map = head;
    }
    schema
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod azure_tests;
