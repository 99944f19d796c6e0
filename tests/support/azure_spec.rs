//! Request-body validation against Azure's published API descriptions.
//!
//! The in-repo fake of Azure Resource Manager must refuse the bodies the real service (and the
//! AutoRest-generated SDKs) would refuse, or tests would pass against a fake that accepts anything.
//! Writing those rules by hand would only restate our own assumptions, so this module owns the
//! check instead: it reads vendored extracts of the Swagger 2.0 definitions from the public
//! `Azure/azure-rest-api-specs` repository (`tests/fixtures/azure-specs/*.json`, each naming the
//! file and commit it was copied from) and reports every way a body departs from them.
//!
//! The rules are those ARM and AutoRest apply to a request body: `$ref` is followed; `allOf`
//! merges its parts' properties and `required`; an undeclared property is an error unless the
//! schema has `additionalProperties`; JSON types must match (`int32` in range); a `required`
//! property must be present and not null; an `enum` is strict unless `x-ms-enum.modelAsString`;
//! a `readOnly` property must not be sent; `null` is accepted elsewhere. `x-ms-client-flatten` is
//! an SDK convenience only, so the wire shape still nests `properties: {...}`. Property names are
//! compared case-sensitively, as the generated SDKs serialize them.
//!
//! Shared by tests with `#[path = "support/azure_spec.rs"] mod azure_spec;`.
#![allow(dead_code)] // each test crate uses only some of the specs

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Microsoft.Web 2024-04-01: `Site`, `SitePatchResource`, `StringDictionary`, `AppServicePlan`.
pub const WEB: &str = include_str!("../fixtures/azure-specs/microsoft.web.2024-04-01.json");
/// Microsoft.Storage 2023-05-01: `StorageAccountCreateParameters`.
pub const STORAGE: &str = include_str!("../fixtures/azure-specs/microsoft.storage.2023-05-01.json");
/// Microsoft.Resources 2022-09-01: `ResourceGroup`.
pub const RESOURCES: &str =
    include_str!("../fixtures/azure-specs/microsoft.resources.2022-09-01.json");
/// Microsoft.Insights 2020-02-02: `ApplicationInsightsComponent`.
pub const INSIGHTS: &str =
    include_str!("../fixtures/azure-specs/microsoft.insights.2020-02-02.json");

/// The published definitions of one API.
pub struct Spec {
    definitions: Map<String, Value>,
}

/// An object schema with its `allOf` parents folded in.
#[derive(Default)]
struct Shape<'a> {
    properties: BTreeMap<&'a str, &'a Value>,
    required: Vec<&'a str>,
    additional: Option<&'a Value>,
    /// Whether anything (properties, parents, additionalProperties) constrains the keys.
    constrained: bool,
}

impl Spec {
    /// Reads a fixture; panics only if the fixture itself is malformed.
    pub fn parse(document: &str) -> Spec {
        let doc: Value = serde_json::from_str(document).expect("azure spec fixture is JSON");
        let definitions = doc
            .get("definitions")
            .and_then(Value::as_object)
            .expect("azure spec fixture has a `definitions` object")
            .clone();
        Spec { definitions }
    }

    /// The names of the definitions this fixture holds.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.definitions.keys().map(String::as_str)
    }

    /// Every way `body` breaks definition `name`, as "path: problem" lines (empty = valid).
    pub fn check(&self, name: &str, body: &Value) -> Vec<String> {
        let schema = self
            .definitions
            .get(name)
            .unwrap_or_else(|| panic!("the fixture has no definition `{name}`"));
        let mut problems = Vec::new();
        self.check_value(schema, body, "", &mut problems);
        problems
    }

    /// Follows `$ref` (always local after vendoring) to the schema that describes the value.
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let name = target
                .strip_prefix("#/definitions/")
                .unwrap_or_else(|| panic!("non-local $ref `{target}` in fixture"));
            schema = self
                .definitions
                .get(name)
                .unwrap_or_else(|| panic!("$ref to missing definition `{name}` in fixture"));
        }
        schema
    }

    /// `readOnly` may sit beside a `$ref` or on the definition it names (storage's `Tier`).
    fn read_only(&self, schema: &Value) -> bool {
        let flag = |s: &Value| s.get("readOnly").and_then(Value::as_bool) == Some(true);
        flag(schema) || flag(self.resolve(schema))
    }

    fn shape<'a>(&'a self, schema: &'a Value, shape: &mut Shape<'a>) {
        let schema = self.resolve(schema);
        // Parents first, so a property a child redeclares takes the child's schema.
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            shape.constrained = true;
            self.shape(part, shape);
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            shape.constrained = true;
            shape
                .properties
                .extend(properties.iter().map(|(k, v)| (k.as_str(), v)));
        }
        let required = schema.get("required").and_then(Value::as_array);
        shape
            .required
            .extend(required.into_iter().flatten().filter_map(Value::as_str));
        if let Some(additional) = schema.get("additionalProperties") {
            shape.constrained = true;
            shape.additional = Some(additional);
        }
    }

    fn check_value(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if value.is_null() {
            return; // absent and null are the same to ARM; `required` is enforced by the parent
        }
        let at = if path.is_empty() { "(body)" } else { path };
        // Swagger lets object schemas omit `type`; AutoRest infers it from their shape.
        let inferred = ["properties", "additionalProperties", "allOf"]
            .iter()
            .any(|k| schema.get(*k).is_some())
            .then_some("object");
        let ty = schema.get("type").and_then(Value::as_str).or(inferred);
        if let Some(ty) = ty {
            if let Some(problem) = type_problem(ty, schema.get("format"), value) {
                out.push(format!("{at}: {problem}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            let extensible = schema.pointer("/x-ms-enum/modelAsString") == Some(&Value::Bool(true));
            if !extensible && !allowed.contains(value) {
                out.push(format!(
                    "{at}: {value} is not one of {}",
                    Value::from(allowed.clone())
                ));
            }
        }
        match value {
            Value::Object(map) => self.check_object(schema, map, path, out),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check_value(item_schema, item, &format!("{path}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        map: &Map<String, Value>,
        path: &str,
        out: &mut Vec<String>,
    ) {
        let mut shape = Shape::default();
        self.shape(schema, &mut shape);
        let join = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        for name in &shape.required {
            if map.get(*name).is_none_or(Value::is_null) {
                out.push(format!(
                    "{}: required by the published definition",
                    join(name)
                ));
            }
        }
        // A bare `type: object` is a free-form bag in Swagger 2.0: nothing to hold keys against.
        if !shape.constrained {
            return;
        }
        for (key, value) in map {
            let here = join(key);
            match (shape.properties.get(key.as_str()), shape.additional) {
                (Some(property), _) if self.read_only(property) => {
                    if !value.is_null() {
                        out.push(format!("{here}: read-only, set by the service"));
                    }
                }
                (Some(property), _) => self.check_value(property, value, &here, out),
                (None, Some(Value::Bool(true))) => {}
                (None, Some(extra)) if extra.is_object() => {
                    self.check_value(extra, value, &here, out)
                }
                (None, _) => out.push(format!(
                    "{here}: not a property in the published definition"
                )),
            }
        }
    }
}

/// Whether `value` is of Swagger type `ty` (with `format` narrowing integers).
fn type_problem(ty: &str, format: Option<&Value>, value: &Value) -> Option<String> {
    let matches = match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        // A JSON integer only: 2048.0 is a float to the service's deserializer.
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    };
    if !matches {
        return Some(format!("expected {ty}, got {}", kind(value)));
    }
    if ty == "integer" && format.and_then(Value::as_str) == Some("int32") {
        let fits = value.as_i64().is_some_and(|n| i32::try_from(n).is_ok());
        if !fits {
            return Some(format!("{value} is out of range for int32"));
        }
    }
    None
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
