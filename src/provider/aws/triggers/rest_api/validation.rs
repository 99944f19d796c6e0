//! `request.schemas` of `http` events: a model per schema, and the one request validator the
//! Framework makes per API (it checks bodies and required parameters), named as the Framework
//! names it. A method with schemas names its model per content type and the validator, so API
//! Gateway answers `400 {"message": "Invalid request body"}` before the function runs.
//!
//! A schema is given inline (`application/json: {type: object, ...}`), as a map with
//! `schema`, `name` and `description`, or as the name of one under
//! `provider.apiGateway.request.schemas`, which any number of events share.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::super::kinds::Typed;
use super::super::super::naming::{self, kind};
use super::super::{invalid, FunctionEvent};
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

/// A model: a JSON schema of request bodies of one content type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelProperties {
    pub rest_api_id: Json,
    pub name: String,
    pub content_type: String,
    pub schema: Json,
    pub description: Option<String>,
}

impl Typed for ModelProperties {}

/// The API's request validator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorProperties {
    pub rest_api_id: Json,
    pub name: String,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

impl Typed for ValidatorProperties {}

/// What a method with schemas names.
pub struct MethodValidation {
    /// Content type to model name.
    pub request_models: BTreeMap<String, String>,
    /// A reference to the validator's id, null when the method has no schemas.
    pub validator_id: Json,
    pub depends_on: BTreeSet<ResourceId>,
}

/// The models and the validator of the events.
#[derive(Default)]
pub struct Validation {
    pub models: BTreeMap<String, Desired>,
    pub validator: Option<Desired>,
}

impl Validation {
    pub fn attach(
        &mut self,
        context: &Context<'_>,
        event: &FunctionEvent,
        api: &ResourceId,
        method_name: &str,
    ) -> Result<MethodValidation, ProviderError> {
        let mut found = MethodValidation {
            request_models: BTreeMap::new(),
            validator_id: Json::Null,
            depends_on: BTreeSet::new(),
        };
        let schemas = super::super::settings(event.event)
            .and_then(|s| s.get("request"))
            .and_then(|r| r.get("schemas"))
            .and_then(Json::as_object);
        let Some(schemas) = schemas.filter(|s| !s.is_empty()) else {
            return Ok(found);
        };
        let wrong =
            |message: String, help: &str| invalid(event.function, event.event, message, help);
        let api_id = Reference::new(api.clone(), "id").to_json();
        for (content_type, setting) in schemas {
            let (name, schema, description) = match setting {
                Json::String(key) => {
                    let Some(shared) = shared_schema(context, key) else {
                        return Err(wrong(
                            format!("the schema `{key}` is not defined under provider.apiGateway.request.schemas"),
                            "define it there, or give the schema here",
                        ));
                    };
                    shared
                }
                Json::Object(fields) if fields.contains_key("schema") => (
                    fields
                        .get("name")
                        .and_then(Json::as_str)
                        .map(model_name)
                        .unwrap_or_else(|| {
                            default_name(&event.function.key, method_name, content_type)
                        }),
                    fields["schema"].clone(),
                    fields
                        .get("description")
                        .and_then(Json::as_str)
                        .map(str::to_string),
                ),
                Json::Object(_) => (
                    default_name(&event.function.key, method_name, content_type),
                    setting.clone(),
                    None,
                ),
                other => {
                    return Err(wrong(
                        format!("the schema for {content_type} is {other}, not a JSON schema"),
                        "give a JSON schema (a map), or the name of one under provider.apiGateway.request.schemas",
                    ))
                }
            };
            if name.is_empty() {
                return Err(wrong(
                    format!("the schema for {content_type} has a name without letters or digits"),
                    "give the schema a `name` of letters and digits",
                ));
            }
            let id = naming::id(kind::REST_API_MODEL, &name);
            let desired = Desired {
                id: id.clone(),
                properties: ModelProperties {
                    rest_api_id: api_id.clone(),
                    name: name.clone(),
                    content_type: content_type.clone(),
                    schema,
                    description,
                }
                .to_properties(),
                inputs: Properties::new(),
                depends_on: BTreeSet::from([api.clone()]),
                replace_when: BTreeSet::from([
                    "rest_api_id".to_string(),
                    "name".to_string(),
                    "content_type".to_string(),
                ]),
            };
            match self.models.get(&name) {
                Some(existing) if existing.properties != desired.properties => {
                    return Err(wrong(
                        format!("the model `{name}` is given twice with different schemas"),
                        "give the second schema another `name`",
                    ))
                }
                Some(_) => {}
                None => {
                    self.models.insert(name.clone(), desired);
                }
            }
            found.request_models.insert(content_type.clone(), name);
            found.depends_on.insert(id);
        }
        let validator = self.validator.get_or_insert_with(|| {
            let name = format!(
                "{}-{} | Validate request body and querystring parameters",
                context.service.name, context.stage
            );
            Desired {
                id: naming::id(kind::REST_API_VALIDATOR, &name),
                properties: ValidatorProperties {
                    rest_api_id: api_id.clone(),
                    name,
                    validate_request_body: true,
                    validate_request_parameters: true,
                }
                .to_properties(),
                inputs: Properties::new(),
                depends_on: BTreeSet::from([api.clone()]),
                replace_when: BTreeSet::from(["rest_api_id".to_string()]),
            }
        });
        found.validator_id = Reference::new(validator.id.clone(), "id").to_json();
        found.depends_on.insert(validator.id.clone());
        Ok(found)
    }
}

/// A schema of `provider.apiGateway.request.schemas`: its model name, schema and description.
fn shared_schema(context: &Context<'_>, key: &str) -> Option<(String, Json, Option<String>)> {
    let setting = context
        .service
        .provider
        .api_gateway
        .as_ref()?
        .get("request")?
        .get("schemas")?
        .get(key)?;
    let schema = setting.get("schema").cloned().unwrap_or(Json::Null);
    let name = setting.get("name").and_then(Json::as_str).unwrap_or(key);
    Some((
        model_name(name),
        schema,
        setting
            .get("description")
            .and_then(Json::as_str)
            .map(str::to_string),
    ))
}

/// Model names are letters and digits only.
fn model_name(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// `GET /users/{id}` of `api`, `application/json` -> `ApiGetUsersIdApplicationJsonModel`.
fn default_name(function: &str, method_name: &str, content_type: &str) -> String {
    let words = format!("{function} {method_name} {content_type}");
    let mut name = String::new();
    for word in words.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    name.push_str("Model");
    name
}

/// The live schema text as the value the plan compares.
pub fn schema_value(text: Option<&str>) -> Json {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_else(|| json!(text))
}
