//! The document tree every manifest stage works on: YAML values that remember where they came from.
//!
//! The YAML loader builds it, the variable resolver rewrites it in place, the normaliser adds the
//! Framework's defaults, validation reads it (keeping positions for its messages), and `print`
//! turns it into JSON. Values follow JavaScript's data model (as the Serverless Framework sees
//! YAML through js-yaml): map keys are strings, numbers are integers or floats.

use indexmap::IndexMap;
use serde_json::Value as Json;

use super::source::Span;

/// A value with the span of the text it came from. Values produced by a variable carry the span
/// of the variable that produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Mapping),
}

/// An ordered map from string keys to nodes; each key keeps its own span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    entries: IndexMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key_span: Span,
    pub node: Node,
}

impl Mapping {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.get(key).map(|e| &e.node)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.get_mut(key).map(|e| &mut e.node)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Inserts or replaces; a replaced key keeps its position (as a JavaScript object does).
    pub fn insert(&mut self, key: impl Into<String>, key_span: Span, node: Node) -> Option<Node> {
        self.entries
            .insert(key.into(), Entry { key_span, node })
            .map(|e| e.node)
    }

    /// Removes a key, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        self.entries.shift_remove(key).map(|e| e.node)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Entry)> {
        self.entries.iter_mut()
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.keys()
    }
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    pub fn null(span: Span) -> Self {
        Node::new(Value::Null, span)
    }

    pub fn string(s: impl Into<String>, span: Span) -> Self {
        Node::new(Value::String(s.into()), span)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A key of a map node; `None` for any other node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Follows a path of map keys and (for sequences) decimal indexes.
    pub fn get_path<S: AsRef<str>>(&self, path: impl IntoIterator<Item = S>) -> Option<&Node> {
        let mut node = self;
        for part in path {
            let part = part.as_ref();
            node = match &node.value {
                Value::Map(m) => m.get(part)?,
                Value::Seq(s) => s.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// A scalar as JavaScript's `String()` writes it; `None` for null, maps and lists.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(text) => Some(text.clone()),
            Value::Int(number) => Some(number.to_string()),
            Value::Float(number) => Some(js_number_text(*number)),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// A short name of the value's type, for messages ("a string", "a map").
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// The JSON form, as `serverless print --format json` shows it. Floats that hold whole numbers
    /// print as integers and non-finite floats as `null`, as JavaScript's `JSON.stringify` does.
    pub fn to_json(&self) -> Json {
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => float_to_json(*f),
            Value::String(s) => Json::String(s.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => Json::Object(
                m.iter()
                    .map(|(k, e)| (k.clone(), e.node.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a tree from JSON, every node carrying `span` (for values that come from outside a
    /// source file: a JSON file, a cloud parameter, a CLI option).
    pub fn from_json(json: &Json, span: Span) -> Node {
        let value = match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => {
                Value::Seq(items.iter().map(|j| Node::from_json(j, span)).collect())
            }
            Json::Object(map) => {
                let mut m = Mapping::new();
                for (k, v) in map {
                    m.insert(k.clone(), span, Node::from_json(v, span));
                }
                Value::Map(m)
            }
        };
        Node::new(value, span)
    }
}

impl Value {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// JavaScript's `String(number)`.
pub fn js_number_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if value == 0.0 {
        return "0".into();
    }
    // Shortest round-trip digits and exponent, then JavaScript's layout rules.
    let formatted = format!("{:e}", value.abs());
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let count = digits.len() as i32;
    let point = exponent + 1;
    let sign = if value < 0.0 { "-" } else { "" };
    let body = if count <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - count) as usize))
    } else if 0 < point && point <= 21 {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let exponent_sign = if point - 1 < 0 { "-" } else { "+" };
        let head = &digits[..1];
        let tail = &digits[1..];
        let mantissa = if tail.is_empty() {
            head.to_string()
        } else {
            format!("{head}.{tail}")
        };
        format!("{mantissa}e{exponent_sign}{}", (point - 1).abs())
    };
    format!("{sign}{body}")
}

fn float_to_json(f: f64) -> Json {
    if !f.is_finite() {
        Json::Null
    } else if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Json::from(f as i64)
    } else if let Some(whole) = js_whole_number(f) {
        whole
    } else {
        serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

/// A whole number past 2^53 as JavaScript writes it (shortest digits, then zeros:
/// `12345678901234567000`), where an integer JSON number can hold it.
fn js_whole_number(f: f64) -> Option<Json> {
    if f.fract() != 0.0 || f.abs() >= 1e21 {
        return None;
    }
    let digits = format!("{f}");
    digits
        .parse::<i64>()
        .map(Json::from)
        .or_else(|_| digits.parse::<u64>().map(Json::from))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_key_order_and_types() {
        let json: Json =
            serde_json::from_str(r#"{"b":1,"a":[true,null,"x",2.5],"c":{"d":-3}}"#).unwrap();
        let node = Node::from_json(&json, Span::default());
        assert_eq!(node.to_json().to_string(), json.to_string());
        assert_eq!(node.get_path(["a", "3"]).unwrap().value, Value::Float(2.5));
    }

    #[test]
    fn whole_floats_print_as_integers_like_javascript() {
        let node = Node::new(Value::Float(1000.0), Span::default());
        assert_eq!(node.to_json().to_string(), "1000");
        let big = Node::new(Value::Float(12_345_678_901_234_567_890.0), Span::default());
        assert_eq!(big.to_json().to_string(), "12345678901234567000");
        let inf = Node::new(Value::Float(f64::INFINITY), Span::default());
        assert_eq!(inf.to_json(), Json::Null);
    }
}
