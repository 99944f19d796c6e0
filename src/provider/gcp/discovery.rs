//! Checks a JSON request body against a schema of a Google API discovery document (the
//! published description of a REST API: `cloudfunctions.v2.json`, `cloudscheduler.v1.json`,
//! `run.v2.json`).
//!
//! Google ignores nothing silently that matters here: a misspelled field in a PATCH body is
//! either refused or, worse, dropped while its `updateMask` path resets the real field. So the
//! bodies updraft builds, and those the test fake receives, are held to the documents: every
//! field must be one the schema names, every value of the type it gives (64-bit integers,
//! durations and timestamps are strings in Google's JSON), and every enum value one it lists.

use serde_json::Value as Json;

/// One problem: where in the body (`serviceConfig.timeoutSeconds`), and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(body)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// How a body writes enum values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enums {
    /// As their names (`"GEN_2"`), Google's default JSON.
    Names,
    /// As their numbers (`2`): what a request asks for with `$alt=json;enum-encoding=int`, as
    /// Google's client libraries do. A number is the value's position in the document's list,
    /// which follows the numbering of the API's protocol buffers.
    Numbers,
}

/// The violations of `body` against the schema `schema` of `document` (empty when it fits).
pub fn check(document: &Json, schema: &str, body: &Json) -> Vec<Violation> {
    check_with(document, schema, body, Enums::Names)
}

/// [`check`], for a body whose enums are written as `enums` says.
pub fn check_with(document: &Json, schema: &str, body: &Json, enums: Enums) -> Vec<Violation> {
    let mut violations = Vec::new();
    let context = Context { document, enums };
    match document.pointer(&format!("/schemas/{schema}")) {
        Some(definition) => walk(&context, definition, body, "", &mut violations, 0),
        None => violations.push(Violation {
            path: String::new(),
            message: format!("the discovery document has no schema `{schema}`"),
        }),
    }
    violations
}

/// Nesting deeper than this is refused rather than followed (recursive schemas such as
/// `Expr` would otherwise allow a body to walk forever).
const DEPTH_LIMIT: usize = 64;

struct Context<'a> {
    document: &'a Json,
    enums: Enums,
}

fn walk(
    context: &Context<'_>,
    definition: &Json,
    value: &Json,
    path: &str,
    violations: &mut Vec<Violation>,
    depth: usize,
) {
    let mut fail = |message: String| {
        violations.push(Violation {
            path: path.to_string(),
            message,
        })
    };
    if depth > DEPTH_LIMIT {
        fail("nested too deep".into());
        return;
    }
    if value.is_null() {
        // Google's JSON mapping reads `null` as the field's default.
        return;
    }
    let document = context.document;
    if let Some(reference) = definition.get("$ref").and_then(Json::as_str) {
        match document.pointer(&format!("/schemas/{reference}")) {
            Some(target) => walk(context, target, value, path, violations, depth + 1),
            None => fail(format!(
                "the schema `{reference}` is missing from the document"
            )),
        }
        return;
    }
    let kind = definition
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or("any");
    match kind {
        "string"
            if context.enums == Enums::Numbers
                && definition.get("enum").is_some()
                && value.is_number() =>
        {
            let count = definition
                .get("enum")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            if value.as_u64().is_none_or(|n| (n as usize) >= count) {
                fail(format!(
                    "{value} is not an enum number from 0 to {}",
                    count.saturating_sub(1)
                ));
            }
        }
        "string" => {
            let Some(text) = value.as_str() else {
                fail(format!("expected a string, got {}", kind_of(value)));
                return;
            };
            if let Some(allowed) = definition.get("enum").and_then(Json::as_array) {
                if !allowed.iter().any(|option| option.as_str() == Some(text)) {
                    let names: Vec<&str> = allowed.iter().filter_map(Json::as_str).collect();
                    fail(format!("`{text}` is not one of {}", names.join(", ")));
                }
            }
        }
        "integer" if !(value.is_i64() || value.is_u64()) => {
            fail(format!("expected an integer, got {}", kind_of(value)));
        }
        "number" if !value.is_number() => {
            fail(format!("expected a number, got {}", kind_of(value)));
        }
        "boolean" if !value.is_boolean() => {
            fail(format!("expected true or false, got {}", kind_of(value)));
        }
        "array" => {
            let Some(items) = value.as_array() else {
                fail(format!("expected a list, got {}", kind_of(value)));
                return;
            };
            let item = definition.get("items").unwrap_or(&Json::Null);
            for (index, element) in items.iter().enumerate() {
                walk(
                    context,
                    item,
                    element,
                    &format!("{path}[{index}]"),
                    violations,
                    depth + 1,
                );
            }
        }
        "object" => {
            let Some(object) = value.as_object() else {
                fail(format!("expected an object, got {}", kind_of(value)));
                return;
            };
            let properties = definition.get("properties").and_then(Json::as_object);
            let additional = definition.get("additionalProperties");
            for (key, field) in object {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(field_definition), _) => walk(
                        context,
                        field_definition,
                        field,
                        &child,
                        violations,
                        depth + 1,
                    ),
                    (None, Some(values)) => {
                        walk(context, values, field, &child, violations, depth + 1)
                    }
                    (None, None) => violations.push(Violation {
                        path: child,
                        message: "no such field in the API's schema".into(),
                    }),
                }
            }
        }
        // `any` (google.protobuf.Value and the like) takes every value.
        _ => {}
    }
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// A discovery document vendored in `tests/fixtures/gcp-discovery/` (`cloudfunctions.v2.json`).
#[cfg(test)]
pub(crate) fn vendored(file: &str) -> Json {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gcp-discovery")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("the vendored document {}: {error}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cloud_functions() -> Json {
        vendored("cloudfunctions.v2.json")
    }

    #[test]
    fn a_function_as_updraft_writes_it_fits_the_published_schema() {
        let body = json!({
            "name": "projects/p/locations/us-central1/functions/shop-dev-a",
            "labels": {"updraft-service": "shop"},
            "buildConfig": {
                "runtime": "nodejs20",
                "entryPoint": "handler",
                "source": {"storageSource": {"bucket": "b", "object": "o.zip"}}
            },
            "serviceConfig": {
                "availableMemory": "256Mi",
                "timeoutSeconds": 60,
                "maxInstanceCount": 3,
                "environmentVariables": {"STAGE": "dev"},
                "ingressSettings": "ALLOW_ALL"
            },
            "eventTrigger": {
                "eventType": "google.cloud.pubsub.topic.v1.messagePublished",
                "pubsubTopic": "projects/p/topics/t",
                "eventFilters": [{"attribute": "bucket", "value": "b"}],
                "retryPolicy": "RETRY_POLICY_DO_NOT_RETRY"
            }
        });
        assert_eq!(check(&cloud_functions(), "Function", &body), vec![]);
    }

    #[test]
    fn misspelled_fields_wrong_types_and_bad_enums_are_refused() {
        let body = json!({
            "serviceConfig": {
                "availableMemroy": "256Mi",
                "timeoutSeconds": "60s",
                "ingressSettings": "EVERYONE"
            },
            "eventTrigger": {"eventFilters": {"attribute": "bucket"}},
            "labels": {"n": 1}
        });
        let mut violations: Vec<String> = check(&cloud_functions(), "Function", &body)
            .iter()
            .map(ToString::to_string)
            .collect();
        violations.sort();
        assert_eq!(
            violations,
            vec![
                "eventTrigger.eventFilters: expected a list, got an object",
                "labels.n: expected a string, got a number",
                "serviceConfig.availableMemroy: no such field in the API's schema",
                "serviceConfig.ingressSettings: `EVERYONE` is not one of INGRESS_SETTINGS_UNSPECIFIED, ALLOW_ALL, ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB",
                "serviceConfig.timeoutSeconds: expected an integer, got a string",
            ]
        );
        assert_eq!(
            check(&cloud_functions(), "Nope", &json!({}))[0].message,
            "the discovery document has no schema `Nope`"
        );
    }
}
