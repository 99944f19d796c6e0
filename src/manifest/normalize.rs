//! Adds what the Serverless Framework v3 adds to a resolved AWS manifest before anything reads it:
//! `provider.stage`, `provider.region`, `provider.versionFunctions`, and each function's `name`
//! and `events`. `print` shows the result, so these follow the Framework exactly, quirks included.

use indexmap::IndexMap;

use super::node::{Node, Value};

/// The stage when neither `--stage` nor `provider.stage` gives one.
pub const DEFAULT_STAGE: &str = "dev";
/// The AWS region when neither `--region` nor `provider.region` gives one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The stage a command acts on: `--stage`, then `provider.stage`, then `dev`.
pub fn effective_stage(root: &Node, options: &IndexMap<String, serde_json::Value>) -> String {
    option_str(options, "stage")
        .or_else(|| {
            root.get_path(["provider", "stage"])
                .and_then(Node::scalar_text)
        })
        .unwrap_or_else(|| DEFAULT_STAGE.to_string())
}

/// The region a command acts on: `--region`, then `provider.region`, then `us-east-1`.
pub fn effective_region(root: &Node, options: &IndexMap<String, serde_json::Value>) -> String {
    option_str(options, "region")
        .or_else(|| {
            root.get_path(["provider", "region"])
                .and_then(Node::scalar_text)
        })
        .unwrap_or_else(|| DEFAULT_REGION.to_string())
}

fn option_str(options: &IndexMap<String, serde_json::Value>, key: &str) -> Option<String> {
    match options.get(key)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Applies the Framework's additions in place. Only AWS services get them, as only the
/// Framework's AWS provider adds them; a tree that is not a map is left alone.
pub fn apply(root: &mut Node, options: &IndexMap<String, serde_json::Value>) {
    let stage = effective_stage(root, options);
    let region = option_str(options, "region");
    let service = root
        .get("service")
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    let Some(map) = root.as_map_mut() else { return };
    let Some(provider) = map.get_mut("provider") else {
        return;
    };
    let provider_span = provider.span;
    let Some(provider) = provider.as_map_mut() else {
        return;
    };
    if provider.get("name").and_then(Node::as_str) != Some("aws") {
        return;
    }
    // `print` shows the raw `provider.stage` (not `--stage`), but `--region` wins for the region.
    if provider.get("stage").is_none_or(Node::is_null) {
        provider.insert(
            "stage",
            provider_span,
            Node::string(DEFAULT_STAGE, provider_span),
        );
    }
    match region {
        Some(region) => {
            provider.insert("region", provider_span, Node::string(region, provider_span));
        }
        None if provider.get("region").is_none_or(Node::is_null) => {
            provider.insert(
                "region",
                provider_span,
                Node::string(DEFAULT_REGION, provider_span),
            );
        }
        None => {}
    }
    if !provider.contains_key("versionFunctions") {
        provider.insert(
            "versionFunctions",
            provider_span,
            Node::new(Value::Bool(true), provider_span),
        );
    }
    let Some(functions) = map.get_mut("functions").and_then(Node::as_map_mut) else {
        return;
    };
    for (name, entry) in functions.iter_mut() {
        let span = entry.node.span;
        let Some(function) = entry.node.as_map_mut() else {
            continue;
        };
        if !function.contains_key("events") {
            function.insert("events", span, Node::new(Value::Seq(Vec::new()), span));
        }
        if !function.contains_key("name") {
            let full = function_name(&service, &stage, name);
            function.insert("name", span, Node::string(full, span));
        }
    }
}

/// The function name the Framework derives: `{service}-{stage}-{function}`.
pub fn function_name(service: &str, stage: &str, function: &str) -> String {
    format!("{service}-{stage}-{function}")
}
