//! Creating, changing, deleting and reading the models and the request validator of the REST
//! API (what they are is in `validation.rs`).

use std::collections::BTreeSet;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use aws_sdk_apigateway::Client;
use serde_json::{json, Value as Json};

use super::validation::schema_value;
use super::{ModelProperties, ValidatorProperties};
use crate::plan::{Action, Live, Properties, ResourceId, Step};
use crate::provider::aws::call::deleted;
use crate::provider::aws::kinds::Typed;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::{attribute, call_error};
use crate::provider::ProviderError;

const NOT_FOUND: &str = "NotFoundException";

fn replace(path: &str, value: Option<String>) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .set_value(value)
        .build()
}

/// Creates or updates a model or the validator.
pub async fn apply(
    client: &Client,
    step: &Step,
    api_id: &str,
    properties: &Properties,
    resource: &str,
) -> Result<Properties, ProviderError> {
    let updating = step.action == Action::Update;
    if step.id.kind == kind::REST_API_MODEL {
        let wanted = ModelProperties::from_properties(properties, &step.id)?;
        let schema = wanted.schema.to_string();
        if updating {
            client
                .update_model()
                .rest_api_id(api_id)
                .model_name(&wanted.name)
                .patch_operations(replace("/schema", Some(schema)))
                .patch_operations(replace("/description", wanted.description.clone()))
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:PATCH /restapis/{id}/models/{name}",
                        resource,
                        &e,
                    )
                })?;
            return Ok(Properties::from([("id".to_string(), json!(wanted.name))]));
        }
        client
            .create_model()
            .rest_api_id(api_id)
            .name(&wanted.name)
            .content_type(&wanted.content_type)
            .schema(schema)
            .set_description(wanted.description.clone())
            .send()
            .await
            .map_err(|e| call_error("apigateway:POST /restapis/{id}/models", resource, &e))?;
        return Ok(Properties::from([("id".to_string(), json!(wanted.name))]));
    }
    let wanted = ValidatorProperties::from_properties(properties, &step.id)?;
    let existing = attribute(step.live.as_ref(), "id").filter(|_| updating);
    let validator_id = match existing {
        Some(validator_id) => {
            client
                .update_request_validator()
                .rest_api_id(api_id)
                .request_validator_id(&validator_id)
                .patch_operations(replace(
                    "/validateRequestBody",
                    Some(wanted.validate_request_body.to_string()),
                ))
                .patch_operations(replace(
                    "/validateRequestParameters",
                    Some(wanted.validate_request_parameters.to_string()),
                ))
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:PATCH /restapis/{id}/requestvalidators/{id}",
                        resource,
                        &e,
                    )
                })?;
            validator_id
        }
        None => client
            .create_request_validator()
            .rest_api_id(api_id)
            .name(&wanted.name)
            .validate_request_body(wanted.validate_request_body)
            .validate_request_parameters(wanted.validate_request_parameters)
            .send()
            .await
            .map_err(|e| {
                call_error(
                    "apigateway:POST /restapis/{id}/requestvalidators",
                    resource,
                    &e,
                )
            })?
            .id()
            .unwrap_or_default()
            .to_string(),
    };
    Ok(Properties::from([("id".to_string(), json!(validator_id))]))
}

pub async fn delete(client: &Client, step: &Step, api_id: &str) -> Result<(), ProviderError> {
    let resource = step.id.to_string();
    let id = attribute(step.live.as_ref(), "id").unwrap_or_default();
    if step.id.kind == kind::REST_API_MODEL {
        return deleted(
            client
                .delete_model()
                .rest_api_id(api_id)
                .model_name(id)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /restapis/{id}/models/{name}",
            &resource,
        );
    }
    deleted(
        client
            .delete_request_validator()
            .rest_api_id(api_id)
            .request_validator_id(id)
            .send()
            .await,
        NOT_FOUND,
        "apigateway:DELETE /restapis/{id}/requestvalidators/{id}",
        &resource,
    )
}

/// The models and validators of one API, and the validators' ids by resource, for the methods
/// that name one. API Gateway's own `Empty` and `Error` models are not the service's.
pub async fn read(
    client: &Client,
    api: &ResourceId,
    api_id: &str,
    what: &str,
) -> Result<(Vec<Live>, std::collections::HashMap<String, ResourceId>), ProviderError> {
    let (models, validators) = tokio::join!(
        client.get_models().rest_api_id(api_id).limit(500).send(),
        client
            .get_request_validators()
            .rest_api_id(api_id)
            .limit(500)
            .send(),
    );
    let models =
        models.map_err(|e| call_error("apigateway:GET /restapis/{id}/models", what, &e))?;
    let validators = validators
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/requestvalidators", what, &e))?;
    let mut found = Vec::new();
    for model in models.items() {
        let Some(name) = model.name().filter(|n| !matches!(*n, "Empty" | "Error")) else {
            continue;
        };
        found.push(Live {
            id: naming::id(kind::REST_API_MODEL, name),
            properties: ModelProperties {
                rest_api_id: json!(api_id),
                name: name.to_string(),
                content_type: model.content_type().unwrap_or_default().to_string(),
                schema: schema_value(model.schema()),
                description: model
                    .description()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(name))]),
            depends_on: BTreeSet::from([api.clone()]),
        });
    }
    let mut ids = std::collections::HashMap::new();
    for validator in validators.items() {
        let (Some(validator_id), Some(name)) = (validator.id(), validator.name()) else {
            continue;
        };
        let id = naming::id(kind::REST_API_VALIDATOR, name);
        ids.insert(validator_id.to_string(), id.clone());
        found.push(Live {
            id,
            properties: ValidatorProperties {
                rest_api_id: json!(api_id),
                name: name.to_string(),
                validate_request_body: validator.validate_request_body(),
                validate_request_parameters: validator.validate_request_parameters(),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(validator_id))]),
            depends_on: BTreeSet::from([api.clone()]),
        });
    }
    Ok((found, ids))
}

/// The value a method's `request_validator_id` reads as.
pub fn validator_value(id: Option<&str>) -> Json {
    json!(id.filter(|i| !i.is_empty()))
}
