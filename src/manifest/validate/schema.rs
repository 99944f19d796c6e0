//! The vocabulary the manifest schema is written in, and its JSON Schema form.
//!
//! The schema of `serverless.yml` is kept as Rust data (see [`super::aws`]) rather than as a JSON
//! file read at run time or types derived with a schema crate: one description drives both the
//! validator (which walks the [`Node`](crate::manifest::Node) tree and so keeps every position
//! for its messages) and the committed `schemas/serverless.schema.json` that editors use. A test
//! fails when the two drift apart. Hand-writing it costs no compile time on small machines and
//! lets each key carry a description and a hint, which a generic JSON Schema engine would not
//! turn into good messages.

use serde_json::{json, Map, Value as Json};

/// What a value must look like.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Anything at all (and nothing below it is checked).
    Any,
    String,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Number,
    Boolean,
    /// One of fixed strings. `noun` names what the values are ("Lambda runtime") for messages;
    /// `case_insensitive` accepts `get` for `GET`.
    Enum {
        values: &'static [&'static str],
        noun: &'static str,
        case_insensitive: bool,
    },
    /// One of fixed integers (CloudWatch log retention days).
    IntegerEnum(&'static [i64]),
    /// A CloudFormation intrinsic function (`{Ref: X}`, `{Fn::GetAtt: [...]}`, `!Sub ...`).
    Cf,
    Object(Object),
    /// A map with free keys (optionally restricted by `keys`), every value of one shape.
    Map {
        keys: Keys,
        values: Box<Shape>,
    },
    List(Box<Shape>),
    /// Alternatives; the validator picks the one whose kind fits the value.
    AnyOf(Vec<Shape>),
    /// A function event: a one-key map naming the event type (or a bare event name, for the
    /// few types that take no settings).
    Event(Vec<EventType>),
}

/// A map with known keys.
#[derive(Debug, Clone)]
pub struct Object {
    pub properties: Vec<Property>,
    pub required: &'static [&'static str],
    /// Keys other than `properties` are allowed (and not checked).
    pub open: bool,
}

#[derive(Debug, Clone)]
pub struct Property {
    pub name: &'static str,
    pub shape: Shape,
    pub description: &'static str,
}

#[derive(Debug, Clone)]
pub struct EventType {
    pub name: &'static str,
    pub shape: Shape,
    /// `- alexaSkill` (a bare string) is accepted as the event with no settings.
    pub bare: bool,
}

/// What the keys of a free map must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Any,
    /// Function names: letters, digits, `-` and `_`.
    FunctionName,
    /// Environment variable names: a letter or `_`, then letters, digits, `_`.
    EnvironmentName,
}

impl Keys {
    pub fn pattern(self) -> Option<&'static str> {
        match self {
            Keys::Any => None,
            Keys::FunctionName => Some("^[a-zA-Z0-9-_]+$"),
            Keys::EnvironmentName => Some("^[A-Za-z_][a-zA-Z0-9_]*$"),
        }
    }

    pub fn accepts(self, key: &str) -> bool {
        match self {
            Keys::Any => true,
            Keys::FunctionName => {
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }
            Keys::EnvironmentName => {
                let mut chars = key.chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
        }
    }

    /// What the keys are, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Keys::Any => "any key",
            Keys::FunctionName => "a function name (letters, digits, `-` and `_`)",
            Keys::EnvironmentName => {
                "an environment variable name (a letter or `_`, then letters, digits and `_`)"
            }
        }
    }
}

// Builders: the schema in `aws/` reads as a list of keys with these.

pub fn prop(name: &'static str, shape: Shape, description: &'static str) -> Property {
    Property {
        name,
        shape,
        description,
    }
}

pub fn object(properties: Vec<Property>) -> Shape {
    Shape::Object(Object {
        properties,
        required: &[],
        open: false,
    })
}

pub fn object_required(required: &'static [&'static str], properties: Vec<Property>) -> Shape {
    Shape::Object(Object {
        properties,
        required,
        open: false,
    })
}

/// A map whose listed keys are checked and whose other keys are accepted as they are.
pub fn open_object(properties: Vec<Property>) -> Shape {
    Shape::Object(Object {
        properties,
        required: &[],
        open: true,
    })
}

pub fn string() -> Shape {
    Shape::String
}

pub fn integer(min: i64, max: i64) -> Shape {
    Shape::Integer {
        min: Some(min),
        max: Some(max),
    }
}

pub fn non_negative() -> Shape {
    Shape::Integer {
        min: Some(0),
        max: None,
    }
}

pub fn any_integer() -> Shape {
    Shape::Integer {
        min: None,
        max: None,
    }
}

pub fn boolean() -> Shape {
    Shape::Boolean
}

pub fn list(item: Shape) -> Shape {
    Shape::List(Box::new(item))
}

pub fn map_of(values: Shape) -> Shape {
    Shape::Map {
        keys: Keys::Any,
        values: Box::new(values),
    }
}

pub fn any_map() -> Shape {
    map_of(Shape::Any)
}

pub fn one_of(values: &'static [&'static str], noun: &'static str) -> Shape {
    Shape::Enum {
        values,
        noun,
        case_insensitive: false,
    }
}

pub fn one_of_any_case(values: &'static [&'static str], noun: &'static str) -> Shape {
    Shape::Enum {
        values,
        noun,
        case_insensitive: true,
    }
}

pub fn any_of(shapes: Vec<Shape>) -> Shape {
    Shape::AnyOf(shapes)
}

/// A string or a CloudFormation function (what the Framework calls a CF instruction).
pub fn cf_string() -> Shape {
    any_of(vec![Shape::String, Shape::Cf])
}

/// A boolean or a map with known keys (`cors: true` or `cors: {...}`).
pub fn flag_or(shape: Shape) -> Shape {
    any_of(vec![Shape::Boolean, shape])
}

pub fn strings() -> Shape {
    list(Shape::String)
}

pub fn event(name: &'static str, shape: Shape) -> EventType {
    EventType {
        name,
        shape,
        bare: false,
    }
}

// The JSON Schema (draft-07) form.

impl Shape {
    pub fn to_json_schema(&self) -> Json {
        match self {
            Shape::Any => json!({}),
            Shape::String => json!({ "type": "string" }),
            Shape::Integer { min, max } => {
                let mut schema = Map::new();
                schema.insert("type".into(), json!("integer"));
                if let Some(min) = min {
                    schema.insert("minimum".into(), json!(min));
                }
                if let Some(max) = max {
                    schema.insert("maximum".into(), json!(max));
                }
                Json::Object(schema)
            }
            Shape::Number => json!({ "type": "number" }),
            Shape::Boolean => json!({ "type": "boolean" }),
            Shape::Enum {
                values,
                case_insensitive: false,
                ..
            } => json!({ "enum": values }),
            Shape::Enum {
                values,
                case_insensitive: true,
                ..
            } => {
                // JSON Schema patterns have no case-insensitive flag: spell each letter both ways.
                let alternatives: Vec<String> = values.iter().map(|v| any_case(v)).collect();
                json!({ "type": "string", "pattern": format!("^(?:{})$", alternatives.join("|")) })
            }
            Shape::IntegerEnum(values) => json!({ "enum": values }),
            Shape::Cf => json!({
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "patternProperties": { "^(?:Ref|Condition|Fn::[A-Za-z0-9]+)$": {} },
                "additionalProperties": false
            }),
            Shape::Object(object) => object.to_json_schema(),
            Shape::Map { keys, values } => match keys.pattern() {
                Some(pattern) => json!({
                    "type": "object",
                    "patternProperties": { pattern: values.to_json_schema() },
                    "additionalProperties": false
                }),
                None => {
                    json!({ "type": "object", "additionalProperties": values.to_json_schema() })
                }
            },
            Shape::List(item) => json!({ "type": "array", "items": item.to_json_schema() }),
            Shape::AnyOf(shapes) => {
                json!({ "anyOf": shapes.iter().map(Shape::to_json_schema).collect::<Vec<_>>() })
            }
            Shape::Event(types) => {
                let mut alternatives = Vec::new();
                let bare: Vec<&str> = types.iter().filter(|t| t.bare).map(|t| t.name).collect();
                if !bare.is_empty() {
                    alternatives.push(json!({ "enum": bare }));
                }
                for event in types {
                    alternatives.push(json!({
                        "type": "object",
                        "properties": { event.name: event.shape.to_json_schema() },
                        "required": [event.name],
                        "additionalProperties": false
                    }));
                }
                json!({ "anyOf": alternatives })
            }
        }
    }
}

impl Object {
    pub fn get(&self, key: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == key)
    }

    pub fn to_json_schema(&self) -> Json {
        let mut properties = Map::new();
        for property in &self.properties {
            let mut schema = property.shape.to_json_schema();
            if let (Json::Object(map), false) = (&mut schema, property.description.is_empty()) {
                map.insert("description".into(), json!(property.description));
            }
            properties.insert(property.name.to_string(), schema);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Json::Object(properties));
        if !self.required.is_empty() {
            schema.insert("required".into(), json!(self.required));
        }
        if !self.open {
            schema.insert("additionalProperties".into(), json!(false));
        }
        Json::Object(schema)
    }
}

fn any_case(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_enum_becomes_a_pattern_matching_both_cases() {
        let shape = one_of_any_case(&["GET", "ANY"], "HTTP method");
        let schema = shape.to_json_schema();
        assert_eq!(schema["pattern"], json!("^(?:[Gg][Ee][Tt]|[Aa][Nn][Yy])$"));
    }

    #[test]
    fn environment_names_follow_the_lambda_rule() {
        assert!(Keys::EnvironmentName.accepts("_TABLE_1"));
        assert!(!Keys::EnvironmentName.accepts("1TABLE"));
        assert!(!Keys::EnvironmentName.accepts("MY-VAR"));
        assert!(Keys::FunctionName.accepts("my-func_2"));
        assert!(!Keys::FunctionName.accepts("my func"));
    }
}
