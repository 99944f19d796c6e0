//! Walks a manifest tree against a [`Shape`], collecting every mismatch with the span of the
//! value (or key) at fault and the dotted path a user would look for.
//!
//! Values are judged the way the Framework's validator (ajv with type coercion) judges them, so
//! that what works there draws no warning here: `'512'` passes as an integer, `'true'` as a
//! boolean, a number as a string, and a single value where a list is expected as a one-item list.
//! Recursion follows the schema, never the document, so its depth is bounded by the schema.

use crate::manifest::node::{Node, Value};
use crate::manifest::source::Span;

use super::schema::{EventType, Object, Shape};
use super::suggest;

/// One problem, ready to become a [`super::Finding`].
#[derive(Debug, Clone)]
pub struct Issue {
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

/// A step of the path from the root to a value.
#[derive(Debug, Clone, Copy)]
pub enum Part<'n> {
    Key(&'n str),
    Index(usize),
}

/// Renders a path the way users write it: `functions.hello.events[0].http`.
pub fn render(path: &[Part]) -> String {
    let mut text = String::new();
    for part in path {
        match part {
            Part::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Part::Index(index) => {
                text.push('[');
                text.push_str(&index.to_string());
                text.push(']');
            }
        }
    }
    text
}

pub struct Walker<'n> {
    pub path: Vec<Part<'n>>,
    pub issues: Vec<Issue>,
}

impl<'n> Walker<'n> {
    pub fn new() -> Self {
        Walker {
            path: Vec::new(),
            issues: Vec::new(),
        }
    }

    fn here(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{}`", render(&self.path))
        }
    }

    fn push(
        &mut self,
        span: Span,
        message: String,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.issues.push(Issue {
            span,
            message,
            label: label.into(),
            help,
        });
    }

    /// Checks `node` against `shape`; `about` describes the key (for hints).
    pub fn check(&mut self, node: &'n Node, shape: &Shape, about: &str) {
        match shape {
            Shape::Any => {}
            Shape::String => {
                if !matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                    return;
                }
                self.type_error(node, shape, about);
            }
            Shape::Integer { min, max } => match integer_value(node) {
                Some(value) => self.range(node, value, *min, *max, about),
                None => self.type_error(node, shape, about),
            },
            Shape::Number => {
                if number_value(node).is_none() {
                    self.type_error(node, shape, about);
                }
            }
            Shape::Boolean => {
                if boolean_value(node).is_none() {
                    self.type_error(node, shape, about);
                }
            }
            Shape::Enum {
                values,
                noun,
                case_insensitive,
            } => match scalar_text(node) {
                Some(text) => {
                    let known = values.iter().any(|v| {
                        if *case_insensitive {
                            v.eq_ignore_ascii_case(&text)
                        } else {
                            **v == text
                        }
                    });
                    if !known {
                        self.enum_error(node, &text, values, noun);
                    }
                }
                None => self.type_error(node, shape, about),
            },
            Shape::IntegerEnum(values) => match integer_value(node) {
                Some(value) if values.contains(&value) => {}
                Some(value) => {
                    let list: Vec<String> = values.iter().map(i64::to_string).collect();
                    self.push(
                        node.span,
                        format!(
                            "{} is {value}, which is not one of the allowed values",
                            self.here()
                        ),
                        "not allowed",
                        Some(format!("use one of {}", list.join(", "))),
                    );
                }
                None => self.type_error(node, shape, about),
            },
            Shape::Cf => {
                if !is_cf_function(node) {
                    self.type_error(node, shape, about);
                }
            }
            Shape::Object(object) => match &node.value {
                Value::Map(_) => self.object(node, object),
                _ => self.type_error(node, shape, about),
            },
            Shape::Map { keys, values } => match &node.value {
                Value::Map(map) => {
                    for (key, entry) in map.iter() {
                        if !keys.accepts(key) {
                            self.push(
                                entry.key_span,
                                format!("{}: `{key}` is not a valid key here", self.here()),
                                "invalid name",
                                Some(format!("a key here must be {}", keys.describe())),
                            );
                        }
                        self.path.push(Part::Key(key));
                        self.check(&entry.node, values, "");
                        self.path.pop();
                    }
                }
                _ => self.type_error(node, shape, about),
            },
            Shape::List(item) => match &node.value {
                Value::Seq(items) => {
                    for (index, child) in items.iter().enumerate() {
                        self.path.push(Part::Index(index));
                        self.check(child, item, about);
                        self.path.pop();
                    }
                }
                Value::Map(_) => self.type_error(node, shape, about),
                // Null is an empty list; a single value is a one-item list (as the Framework
                // coerces it).
                Value::Null => {}
                _ => self.check(node, item, about),
            },
            Shape::AnyOf(shapes) => self.any_of(node, shapes, shape, about),
            Shape::Event(types) => self.event(node, types),
        }
    }

    fn object(&mut self, node: &'n Node, object: &Object) {
        let Value::Map(map) = &node.value else { return };
        for (key, entry) in map.iter() {
            match object.get(key) {
                Some(property) => {
                    self.path.push(Part::Key(key));
                    self.check(&entry.node, &property.shape, property.description);
                    self.path.pop();
                }
                None if object.open => {}
                None => self.unknown_key(key, entry.key_span, object),
            }
        }
        for required in object.required {
            if map.get(required).is_none() {
                let about = object.get(required).map(|p| p.description).unwrap_or("");
                self.push(
                    node.span,
                    format!("{} is missing `{required}`", self.here()),
                    format!("missing `{required}`"),
                    (!about.is_empty()).then(|| format!("add `{required}`: {about}")),
                );
            }
        }
    }

    fn unknown_key(&mut self, key: &str, span: Span, object: &Object) {
        let names: Vec<&str> = object.properties.iter().map(|p| p.name).collect();
        let suggestion = suggest::closest(key, &names);
        let place = if self.path.is_empty() {
            "unknown top-level key".to_string()
        } else {
            format!("unknown key `{key}` under {}", self.here())
        };
        let place = if self.path.is_empty() {
            format!("{place} `{key}`")
        } else {
            place
        };
        let is_event = object.get("events").is_some() && super::aws::EVENT_TYPES.contains(&key);
        let (message, help) = match suggestion {
            _ if is_event => (
                format!("{place}: `{key}` is an event type"),
                format!("events go in the function's `events` list:\n  events:\n    - {key}: ..."),
            ),
            Some(name) => (
                format!("{place}; did you mean `{name}`?"),
                format!("rename `{key}` to `{name}`"),
            ),
            None => (
                place,
                format!(
                    "known keys here: {}; remove it, or put free-form values under `custom`",
                    suggest::list(&names, 15)
                ),
            ),
        };
        self.push(span, message, "unknown key", Some(help));
    }

    fn any_of(&mut self, node: &'n Node, shapes: &[Shape], whole: &Shape, about: &str) {
        let mut first_failure: Option<Vec<Issue>> = None;
        for shape in shapes.iter().filter(|s| fits(node, s)) {
            let mut trial = Walker {
                path: self.path.clone(),
                issues: Vec::new(),
            };
            trial.check(node, shape, about);
            if trial.issues.is_empty() {
                return;
            }
            first_failure.get_or_insert(trial.issues);
        }
        match first_failure {
            Some(issues) => self.issues.extend(issues),
            None => self.type_error(node, whole, about),
        }
    }

    fn event(&mut self, node: &'n Node, types: &[EventType]) {
        let names: Vec<&str> = types.iter().map(|t| t.name).collect();
        match &node.value {
            Value::String(name) => match types.iter().find(|t| t.name == name) {
                Some(event) if event.bare => {}
                Some(_) => self.push(
                    node.span,
                    format!("{}: the `{name}` event needs its settings", self.here()),
                    "event without settings",
                    Some(format!("write `- {name}: ...` with the event's settings")),
                ),
                None => self.unknown_event(name, node.span, &names),
            },
            Value::Map(map) if map.len() == 1 => {
                let Some((name, entry)) = map.iter().next() else {
                    return;
                };
                match types.iter().find(|t| t.name == name.as_str()) {
                    Some(event) => {
                        self.path.push(Part::Key(name));
                        self.check(&entry.node, &event.shape, "");
                        self.path.pop();
                    }
                    None => self.unknown_event(name, entry.key_span, &names),
                }
            }
            Value::Map(map) => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                let first_event = map
                    .iter()
                    .find(|(k, e)| names.contains(&k.as_str()) && e.node.is_null());
                let help = match first_event {
                    Some((name, _)) => format!(
                        "indent the settings under `{name}`: `- {name}:` then `{}` one level deeper",
                        keys.iter()
                            .filter(|k| **k != name.as_str())
                            .map(|k| format!("{k}:"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => "each list item is one event: `- http: ...`, `- schedule: ...`".into(),
                };
                self.push(
                    node.span,
                    format!(
                        "{} must be one event (a map with one key, the event type), but it has the keys {}",
                        self.here(),
                        keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                    "one event per list item",
                    Some(help),
                );
            }
            _ => self.type_error(node, &Shape::Event(Vec::new()), ""),
        }
    }

    fn unknown_event(&mut self, name: &str, span: Span, names: &[&str]) {
        let help = match suggest::closest(name, names) {
            Some(close) => format!("did you mean `{close}`? Known events: {}", names.join(", ")),
            None => format!("known events: {}", names.join(", ")),
        };
        self.push(
            span,
            format!("unknown event type `{name}` in {}", self.here()),
            "unknown event type",
            Some(help),
        );
    }

    fn type_error(&mut self, node: &Node, shape: &Shape, about: &str) {
        let expected = describe(shape);
        self.push(
            node.span,
            format!(
                "{} must be {expected}, got {}",
                self.here(),
                describe_value(node)
            ),
            format!("expected {expected}"),
            (!about.is_empty()).then(|| about.to_string()),
        );
    }

    fn range(&mut self, node: &Node, value: i64, min: Option<i64>, max: Option<i64>, about: &str) {
        let (problem, label) = match (min, max) {
            (Some(min), _) if value < min => (format!("below the minimum of {min}"), "too small"),
            (_, Some(max)) if value > max => (format!("above the maximum of {max}"), "too large"),
            _ => return,
        };
        let allowed = match (min, max) {
            (Some(min), Some(max)) if max < i64::MAX => format!("use a value from {min} to {max}"),
            (Some(min), _) => format!("use a value of at least {min}"),
            (None, Some(max)) => format!("use a value of at most {max}"),
            (None, None) => String::new(),
        };
        let help = if about.is_empty() {
            allowed
        } else {
            format!("{allowed} ({about})")
        };
        self.push(
            node.span,
            format!("{} is {value}, {problem}", self.here()),
            label,
            Some(help),
        );
    }

    fn enum_error(&mut self, node: &Node, text: &str, values: &[&str], noun: &str) {
        let close = suggest::ranked(text, values, 3);
        let mut help = String::new();
        if !close.is_empty() {
            help.push_str(&format!(
                "closest: {}; ",
                close
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        help.push_str(&format!("allowed: {}", suggest::list(values, 30)));
        let what = if noun.is_empty() {
            "an allowed value".to_string()
        } else {
            format!("a known {noun}")
        };
        self.push(
            node.span,
            format!("{} is `{text}`, which is not {what}", self.here()),
            format!("not {what}"),
            Some(help),
        );
    }
}

impl Default for Walker<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a value is of the kind an alternative describes (before checking it in detail).
fn fits(node: &Node, shape: &Shape) -> bool {
    match shape {
        Shape::Any => true,
        Shape::String => !matches!(node.value, Value::Map(_) | Value::Seq(_)),
        Shape::Integer { .. } | Shape::IntegerEnum(_) => integer_value(node).is_some(),
        Shape::Number => number_value(node).is_some(),
        Shape::Boolean => boolean_value(node).is_some(),
        Shape::Enum { .. } => scalar_text(node).is_some(),
        Shape::Cf => is_cf_function(node),
        Shape::Object(_) | Shape::Map { .. } => matches!(node.value, Value::Map(_)),
        Shape::List(_) => matches!(node.value, Value::Seq(_)),
        Shape::AnyOf(shapes) => shapes.iter().any(|s| fits(node, s)),
        Shape::Event(_) => matches!(node.value, Value::Map(_) | Value::String(_)),
    }
}

/// An integer as the Framework reads one: a whole number, or a string holding one.
pub fn integer_value(node: &Node) -> Option<i64> {
    match &node.value {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn number_value(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean_value(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        Value::Null => Some(false),
        _ => None,
    }
}

/// A scalar as text (numbers and booleans as JavaScript prints them).
pub fn scalar_text(node: &Node) -> Option<String> {
    node.scalar_text()
}

/// `{Ref: X}`, `{Fn::GetAtt: ...}`, `{Condition: X}`: one key naming an intrinsic function.
pub fn is_cf_function(node: &Node) -> bool {
    match &node.value {
        Value::Map(map) if map.len() == 1 => map
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        _ => false,
    }
}

fn describe(shape: &Shape) -> String {
    match shape {
        Shape::Any => "any value".into(),
        Shape::String => "a string".into(),
        Shape::Integer { .. } | Shape::IntegerEnum(_) => "an integer".into(),
        Shape::Number => "a number".into(),
        Shape::Boolean => "true or false".into(),
        Shape::Enum { noun, .. } if !noun.is_empty() => format!("a {noun}"),
        Shape::Enum { .. } => "one of the allowed values".into(),
        Shape::Cf => "a CloudFormation function such as `{Ref: ...}`".into(),
        Shape::Object(_) | Shape::Map { .. } => "a map".into(),
        Shape::List(_) => "a list".into(),
        Shape::AnyOf(shapes) => {
            let mut names: Vec<String> = Vec::new();
            for name in shapes.iter().map(describe) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                Some((last, _)) => last.clone(),
                None => "any value".into(),
            }
        }
        Shape::Event(_) => {
            "an event (`- http: ...`, a map with the event type as its one key)".into()
        }
    }
}

/// The value as a message shows it: "the string `lots`", "a list".
pub fn describe_value(node: &Node) -> String {
    match &node.value {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Int(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::String(s) => {
            let shown: String = s.chars().take(60).collect();
            let more = if s.chars().count() > 60 { "..." } else { "" };
            format!("the string `{shown}{more}`")
        }
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a map".into(),
    }
}
