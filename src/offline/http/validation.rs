//! API Gateway's request validator for REST routes: `request.schemas` (a JSON Schema per content
//! type, checked against the body) and `request.parameters` marked required (query strings,
//! headers, path parameters that must be present). The Framework attaches a validator whenever
//! either is set, so a request it refuses never reaches the function: the answer is API
//! Gateway's 400 with its wording.

use jsonschema::{Draft, Validator};
use serde_json::Value;

use super::response::HttpResponse;
use crate::offline::events::HttpRequest;

/// Where a required parameter is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    QueryString,
    Header,
    Path,
}

/// A `request.schemas` entry that is not a schema API Gateway would accept.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("the request schema for `{content_type}` is not a valid JSON Schema: {reason}; requests to this route are not validated")]
#[diagnostic(help(
    "fix the schema under `request.schemas` (API Gateway takes JSON Schema draft-04; \
     `$schema` may name draft-07)"
))]
pub struct SchemaError {
    pub content_type: String,
    pub reason: String,
}

/// What a route's validator checks.
#[derive(Debug, Default)]
pub struct RequestValidation {
    /// Content type (lower case) and its schema.
    schemas: Vec<(String, Validator)>,
    required: Vec<(Location, String)>,
}

impl RequestValidation {
    /// Reads `request:` of an `http` event; `None` when nothing is validated.
    pub fn from_request(request: &Value) -> (Option<RequestValidation>, Vec<SchemaError>) {
        let mut validation = RequestValidation::default();
        let mut errors = Vec::new();
        if let Some(schemas) = request.get("schemas").and_then(Value::as_object) {
            for (content_type, value) in schemas {
                // `{schema, name, description}` names the model; a bare value is the schema.
                let schema = match value.get("schema") {
                    Some(schema) if value.is_object() => schema,
                    _ => value,
                };
                match compile(schema) {
                    Ok(validator) => validation
                        .schemas
                        .push((content_type.to_ascii_lowercase(), validator)),
                    Err(reason) => errors.push(SchemaError {
                        content_type: content_type.clone(),
                        reason,
                    }),
                }
            }
        }
        if let Some(parameters) = request.get("parameters").and_then(Value::as_object) {
            for (group, location) in [
                ("querystrings", Location::QueryString),
                ("headers", Location::Header),
                ("paths", Location::Path),
            ] {
                let Some(names) = parameters.get(group).and_then(Value::as_object) else {
                    continue;
                };
                for (name, setting) in names {
                    let required = match setting {
                        Value::Bool(required) => *required,
                        Value::Object(map) => {
                            map.get("required").and_then(Value::as_bool) == Some(true)
                        }
                        _ => false,
                    };
                    if required {
                        validation.required.push((location, name.clone()));
                    }
                }
            }
        }
        let empty = validation.schemas.is_empty() && validation.required.is_empty();
        ((!empty).then_some(validation), errors)
    }

    /// API Gateway's refusal of the request, if it is refused.
    pub fn check(
        &self,
        request: &HttpRequest,
        path_parameters: &indexmap::IndexMap<String, String>,
    ) -> Option<HttpResponse> {
        let query = request.query_pairs();
        let missing: Vec<&str> = self
            .required
            .iter()
            .filter(|(location, name)| match location {
                Location::QueryString => !query.iter().any(|(key, _)| key == name),
                Location::Header => request.header(&name.to_ascii_lowercase()).is_none(),
                Location::Path => !path_parameters.contains_key(name),
            })
            .map(|(_, name)| name.as_str())
            .collect();
        if !missing.is_empty() {
            return Some(bad_request(&format!(
                "Missing required request parameters: [{}]",
                missing.join(", ")
            )));
        }
        let validator = self.schema_for(request.header("content-type"))?;
        let valid = serde_json::from_slice::<Value>(&request.body)
            .map(|body| validator.is_valid(&body))
            .unwrap_or(false);
        (!valid).then(|| bad_request("Invalid request body"))
    }

    /// The schema for a request's media type; a request without one is taken as JSON, as
    /// API Gateway does.
    fn schema_for(&self, content_type: Option<&str>) -> Option<&Validator> {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "application/json".to_string());
        let find = |wanted: &str| {
            self.schemas
                .iter()
                .find(|(key, _)| key == wanted)
                .map(|(_, validator)| validator)
        };
        find(&essence).or_else(|| find("$default"))
    }
}

/// Draft-04 unless the schema names its draft with `$schema`.
fn compile(schema: &Value) -> Result<Validator, String> {
    let named = schema.get("$schema").is_some();
    let mut options = jsonschema::options();
    if !named {
        options = options.with_draft(Draft::Draft4);
    }
    options.build(schema).map_err(|error| error.to_string())
}

fn bad_request(message: &str) -> HttpResponse {
    let mut response = HttpResponse::message(400, message);
    response
        .headers
        .push(("x-amzn-errortype".into(), "BadRequestException".into()));
    response
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use serde_json::json;

    use super::*;

    fn request(query: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            path: "/dev/items".into(),
            raw_query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            source_ip: "127.0.0.1".into(),
        }
    }

    #[test]
    fn draft_04_and_draft_07_schemas_validate_the_body() {
        for draft in [
            json!(null),
            json!("http://json-schema.org/draft-04/schema#"),
            json!("http://json-schema.org/draft-07/schema#"),
        ] {
            let mut schema = json!({"type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"}}});
            if !draft.is_null() {
                schema["$schema"] = draft;
            }
            let (validation, errors) =
                RequestValidation::from_request(&json!({"schemas": {"application/json": schema}}));
            assert!(errors.is_empty(), "{errors:?}");
            let validation = validation.unwrap_or_else(|| panic!("validation"));
            let none = IndexMap::new();
            assert!(validation
                .check(&request("", &[], r#"{"name":"a"}"#), &none)
                .is_none());
            let refused = validation
                .check(&request("", &[], r#"{"name":1}"#), &none)
                .unwrap_or_else(|| panic!("refused"));
            assert_eq!(refused.status, 400);
            assert_eq!(
                String::from_utf8_lossy(&refused.body),
                r#"{"message":"Invalid request body"}"#
            );
        }
    }

    #[test]
    fn required_parameters_are_named_when_missing() {
        let (validation, _) = RequestValidation::from_request(&json!({"parameters": {
            "querystrings": {"page": true, "sort": false},
            "headers": {"X-Tenant": {"required": true}},
        }}));
        let validation = validation.unwrap_or_else(|| panic!("validation"));
        let none = IndexMap::new();
        let refused = validation
            .check(&request("", &[], ""), &none)
            .unwrap_or_else(|| panic!("refused"));
        assert_eq!(
            String::from_utf8_lossy(&refused.body),
            r#"{"message":"Missing required request parameters: [page, X-Tenant]"}"#
        );
        assert!(validation
            .check(&request("page=1", &[("x-tenant", "a")], ""), &none)
            .is_none());
    }

    #[test]
    fn a_schema_that_does_not_compile_is_reported() {
        let (validation, errors) = RequestValidation::from_request(
            &json!({"schemas": {"application/json": {"type": 12}}}),
        );
        assert!(validation.is_none());
        assert_eq!(errors.len(), 1);
    }
}
