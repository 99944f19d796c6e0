//! Converts values to the types the manifest schema declares, as the Serverless Framework does
//! while it validates (its schema validator runs with type coercion on): a number where a string
//! is expected becomes a string (`environment: {ITERATIONS: 4096}` prints `"4096"`), a numeric
//! string where a number is expected becomes a number, `"true"` where a boolean is expected
//! becomes `true`, and a single value where a list is expected becomes a one-item list
//! (`DependsOn: Vpc` prints `["Vpc"]`). `print` shows the coerced values, so these must follow
//! the Framework; validation then sees the same values the Framework's validator saw.

use super::node::{Node, Value};
use super::validate::aws;
use super::validate::schema::Shape;

/// Coerces an AWS manifest in place; other providers' schemas belong to their Framework plugins
/// and are left as written.
pub fn apply(root: &mut Node) {
    if root.get_path(["provider", "name"]).and_then(Node::as_str) != Some("aws") {
        return;
    }
    coerce(root, aws::root(), 0);
    coerce_resource_dependencies(root);
}

/// Deeper than any schema: stops a walk over a hostile tree long before the stack is at risk.
const MAX_DEPTH: usize = 64;

fn coerce(node: &mut Node, shape: &Shape, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match shape {
        Shape::String | Shape::Enum { .. } => to_string(node),
        Shape::Integer { .. } | Shape::IntegerEnum(_) => to_number(node, true),
        Shape::Number => to_number(node, false),
        Shape::Boolean => to_boolean(node),
        Shape::List(item) => {
            to_list(node);
            if let Value::Seq(items) = &mut node.value {
                for child in items {
                    coerce(child, item, depth + 1);
                }
            }
        }
        Shape::Object(object) => {
            if let Value::Map(map) = &mut node.value {
                for property in &object.properties {
                    if let Some(child) = map.get_mut(property.name) {
                        coerce(child, &property.shape, depth + 1);
                    }
                }
            }
        }
        Shape::Map { values, .. } => {
            if let Value::Map(map) = &mut node.value {
                for (_, entry) in map.iter_mut() {
                    coerce(&mut entry.node, values, depth + 1);
                }
            }
        }
        Shape::AnyOf(alternatives) => {
            // As the Framework's validator does: alternatives are tried in order, and the first
            // that takes the value, as it is or coerced, wins. So a one-item list where a string
            // comes first becomes that string (`Resource: [arn]` prints `"arn"`).
            for alternative in alternatives {
                if fits(node, alternative) || can_coerce(node, alternative) {
                    coerce(node, alternative, depth + 1);
                    return;
                }
            }
        }
        Shape::Event(types) => {
            if let Value::Map(map) = &mut node.value {
                for event_type in types {
                    if let Some(child) = map.get_mut(event_type.name) {
                        coerce(child, &event_type.shape, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Whether the value already has the type a shape asks for.
fn fits(node: &Node, shape: &Shape) -> bool {
    match (&node.value, shape) {
        (Value::String(_), Shape::String | Shape::Enum { .. }) => true,
        (Value::Int(_), Shape::Integer { .. } | Shape::IntegerEnum(_) | Shape::Number) => true,
        (Value::Float(f), Shape::Integer { .. } | Shape::IntegerEnum(_)) => f.fract() == 0.0,
        (Value::Float(_), Shape::Number) => true,
        (Value::Bool(_), Shape::Boolean) => true,
        (Value::Seq(_), Shape::List(_)) => true,
        (Value::Map(_), Shape::Object(_) | Shape::Map { .. } | Shape::Event(_)) => true,
        (Value::Map(map), Shape::Cf) => is_cloudformation_function(map),
        (_, Shape::Any) => true,
        (_, Shape::AnyOf(alternatives)) => alternatives.iter().any(|a| fits(node, a)),
        _ => false,
    }
}

/// `{Ref: X}`, `{Condition: X}` or `{Fn::...: ...}`: one key, naming an intrinsic function.
fn is_cloudformation_function(map: &super::node::Mapping) -> bool {
    map.len() == 1
        && map
            .keys()
            .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

/// Whether coercion could turn the value into what a shape asks for.
fn can_coerce(node: &Node, shape: &Shape) -> bool {
    if let Shape::AnyOf(alternatives) = shape {
        return alternatives.iter().any(|a| can_coerce(node, a));
    }
    if let Value::Seq(items) = &node.value {
        let single_value_shape = matches!(
            shape,
            Shape::String
                | Shape::Enum { .. }
                | Shape::Integer { .. }
                | Shape::IntegerEnum(_)
                | Shape::Number
                | Shape::Boolean
        );
        return single_value_shape
            && items.len() == 1
            && is_scalar(&items[0])
            && (fits(&items[0], shape) || can_coerce(&items[0], shape));
    }
    match (&node.value, shape) {
        (Value::Int(_) | Value::Float(_) | Value::Bool(_), Shape::String | Shape::Enum { .. }) => {
            true
        }
        (Value::String(s), Shape::Integer { .. } | Shape::IntegerEnum(_)) => {
            parse_number(s).is_some_and(|n| n.fract() == 0.0)
        }
        (Value::String(s), Shape::Number) => parse_number(s).is_some(),
        (Value::String(s), Shape::Boolean) => s == "true" || s == "false",
        (Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_), Shape::List(_)) => {
            true
        }
        _ => false,
    }
}

/// A one-item list where a single value is expected is read as that value.
fn unwrap_single(node: &mut Node) {
    if let Value::Seq(items) = &mut node.value {
        if items.len() == 1 && is_scalar(&items[0]) {
            if let Some(item) = items.pop() {
                *node = item;
            }
        }
    }
}

fn is_scalar(node: &Node) -> bool {
    matches!(
        node.value,
        Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
    )
}

fn to_string(node: &mut Node) {
    unwrap_single(node);
    let text = match &node.value {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => super::node::js_number_text(*f),
        Value::Bool(b) => b.to_string(),
        _ => return,
    };
    node.value = Value::String(text);
}

fn to_number(node: &mut Node, integer: bool) {
    unwrap_single(node);
    if let Value::String(s) = &node.value {
        match parse_number(s) {
            Some(n) if !integer || n.fract() == 0.0 => {
                node.value = if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
                    Value::Int(n as i64)
                } else {
                    Value::Float(n)
                };
            }
            _ => {}
        }
    }
}

fn to_boolean(node: &mut Node) {
    unwrap_single(node);
    if let Value::String(s) = &node.value {
        match s.as_str() {
            "true" => node.value = Value::Bool(true),
            "false" => node.value = Value::Bool(false),
            _ => {}
        }
    }
}

fn to_list(node: &mut Node) {
    if matches!(
        node.value,
        Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
    ) {
        let item = node.clone();
        node.value = Value::Seq(vec![item]);
    }
}

/// A number written as text, as the validator reads one: decimal, not empty, not padded.
fn parse_number(text: &str) -> Option<f64> {
    if text.is_empty() || text.trim() != text {
        return None;
    }
    let valid = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    valid.then(|| text.parse::<f64>().ok()).flatten()
}

/// `DependsOn` of a CloudFormation resource is a list of names in the Framework's schema; a single
/// name is made a list, as its validator does.
fn coerce_resource_dependencies(root: &mut Node) {
    let Some(resources) = root
        .as_map_mut()
        .and_then(|m| m.get_mut("resources"))
        .and_then(Node::as_map_mut)
        .and_then(|m| m.get_mut("Resources"))
        .and_then(Node::as_map_mut)
    else {
        return;
    };
    for (_, entry) in resources.iter_mut() {
        if let Some(depends_on) = entry.node.as_map_mut().and_then(|m| m.get_mut("DependsOn")) {
            if matches!(depends_on.value, Value::String(_)) {
                to_list(depends_on);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::Span;

    fn tree(json: serde_json::Value) -> Node {
        Node::from_json(&json, Span::default())
    }

    #[test]
    fn environment_numbers_become_strings_as_the_framework_prints_them() {
        let mut root = tree(serde_json::json!({
            "service": "s",
            "provider": {"name": "aws", "environment": {"ITERATIONS": 4096, "ON": true}},
        }));
        apply(&mut root);
        let env = root
            .get_path(["provider", "environment"])
            .unwrap()
            .to_json();
        assert_eq!(env, serde_json::json!({"ITERATIONS": "4096", "ON": "true"}));
    }

    #[test]
    fn numeric_string_memory_size_becomes_a_number() {
        let mut root = tree(serde_json::json!({
            "service": "s",
            "provider": {"name": "aws"},
            "functions": {"f": {"handler": "h.h", "memorySize": "512"}},
        }));
        apply(&mut root);
        let memory = root.get_path(["functions", "f", "memorySize"]).unwrap();
        assert_eq!(memory.value, Value::Int(512));
    }

    #[test]
    fn single_depends_on_becomes_a_list() {
        let mut root = tree(serde_json::json!({
            "service": "s",
            "provider": {"name": "aws"},
            "resources": {"Resources": {"A": {"Type": "X", "DependsOn": "B"}}},
        }));
        apply(&mut root);
        let depends = root
            .get_path(["resources", "Resources", "A", "DependsOn"])
            .unwrap();
        assert_eq!(depends.to_json(), serde_json::json!(["B"]));
    }

    #[test]
    fn one_item_resource_list_becomes_the_string_as_the_framework_prints_it() {
        let mut root = tree(serde_json::json!({
            "service": "s",
            "provider": {"name": "aws", "iam": {"role": {"statements": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": ["arn:a", "arn:b"]}
            ]}}},
        }));
        apply(&mut root);
        let statements = root
            .get_path(["provider", "iam", "role", "statements"])
            .unwrap();
        assert_eq!(
            statements.to_json(),
            serde_json::json!([
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
                {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:a", "arn:b"]}
            ])
        );
    }

    #[test]
    fn other_providers_are_left_as_written() {
        let mut root = tree(serde_json::json!({
            "service": "s",
            "provider": {"name": "azure", "environment": {"N": 1}},
        }));
        apply(&mut root);
        assert_eq!(
            root.get_path(["provider", "environment", "N"])
                .unwrap()
                .value,
            Value::Int(1)
        );
    }

    #[test]
    fn schedule_rate_becomes_a_list_as_the_framework_prints_it() {
        let mut root = Node::from_json(
            &serde_json::json!({
                "service": "s",
                "provider": {"name": "aws"},
                "functions": {"f": {"handler": "h.h", "events": [
                    {"schedule": {"rate": "rate(15 minutes)", "input": {"a": 1}}},
                    {"schedule": "rate(5 minutes)"}
                ]}},
            }),
            Span::default(),
        );
        apply(&mut root);
        let events = root.get_path(["functions", "f", "events"]).unwrap();
        assert_eq!(
            events.to_json(),
            serde_json::json!([
                {"schedule": {"rate": ["rate(15 minutes)"], "input": {"a": 1}}},
                {"schedule": "rate(5 minutes)"}
            ])
        );
    }

    #[test]
    fn schedule_rate_is_a_list_after_loading() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("serverless.yml"),
            "service: s\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.h\n    events:\n      - schedule:\n          rate: rate(15 minutes)\n",
        )
        .unwrap();
        let env = |_: &str| None;
        let loaded = crate::manifest::load(&crate::manifest::LoadOptions {
            working_dir: dir.path().to_path_buf(),
            config: None,
            options: Default::default(),
            params: Vec::new(),
            env: &env,
            cloud: None,
        })
        .unwrap();
        let rate = loaded
            .root
            .get_path(["functions", "f", "events", "0", "schedule", "rate"])
            .unwrap();
        assert_eq!(rate.to_json(), serde_json::json!(["rate(15 minutes)"]));
    }
}
