//! Changing the REST API: each step creates, updates or deletes one API, resource, method or
//! deployment (reading it is in `read.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_apigateway::error::ProvideErrorMetadata;
use aws_sdk_apigateway::types::{
    AuthorizerType, EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation,
};
use aws_sdk_apigateway::Client;
use serde_json::{json, Value as Json};

use super::lambda_integration;
use super::validation_apply;
use super::{
    AuthorizerProperties, DeploymentProperties, MethodProperties, ResourceProperties,
    RestApiProperties,
};
use super::{ModelProperties, ValidatorProperties};
use crate::plan::{Action, Properties, ResourceId, Step};
use crate::provider::aws::call::deleted;
use crate::provider::aws::kinds::{TagChange, Typed};
use crate::provider::aws::naming::kind;
use crate::provider::aws::triggers::{attribute, call_error, Site};
use crate::provider::ProviderError;

/// What the deployment's description starts with; the rest is the routes hash.
pub(super) const DEPLOYMENT_MARK: &str = "updraft routes ";

pub(super) fn attributes(site: &Site, api_id: &str, root: &str) -> Properties {
    Properties::from([
        ("id".to_string(), json!(api_id)),
        ("root_resource_id".to_string(), json!(root)),
        (
            "url".to_string(),
            json!(format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{}",
                site.region, site.stage
            )),
        ),
        (
            "source_arn".to_string(),
            json!(format!(
                "arn:{}:execute-api:{}:{}:{api_id}/*/*",
                site.partition, site.region, site.account
            )),
        ),
        (
            "authorizers_source_arn".to_string(),
            json!(format!(
                "arn:{}:execute-api:{}:{}:{api_id}/authorizers/*",
                site.partition, site.region, site.account
            )),
        ),
    ])
}

pub(super) fn function_uri(site: &Site, function_arn: &str) -> String {
    format!(
        "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        site.partition, site.region
    )
}

/// API Gateway's answer for an id that does not exist (any more).
const NOT_FOUND: &str = "NotFoundException";

fn not_found<E: ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some(NOT_FOUND)
}

/// Applies one step to a resource of the REST API.
pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    if step.id.kind == kind::SHARED_REST_API {
        return super::shared::apply(client, site, step, properties).await;
    }
    let live = step.live.as_ref();
    let resource = step.id.to_string();
    let api_id = match (step.action, live) {
        (Action::Delete, Some(live)) => parent_api(&live.properties, &step.id)?,
        (Action::Delete, None) => String::new(),
        _ => parent_api(properties, &step.id)?,
    };
    let replacing = step.action == Action::Replace;
    if step.action == Action::Delete || (replacing && step.id.kind != kind::REST_API_DEPLOYMENT) {
        delete(client, site, step, &api_id).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    match step.id.kind.as_str() {
        kind::REST_API => {
            let wanted = RestApiProperties::from_properties(properties, &step.id)?;
            let existing = attribute(live, "id").filter(|_| step.action == Action::Update);
            let arn = |id: &str| {
                format!(
                    "arn:{}:apigateway:{}::/restapis/{id}",
                    site.partition, site.region
                )
            };
            match existing {
                Some(api_id) => {
                    let current = RestApiProperties::live_of(step)?;
                    client
                        .update_rest_api()
                        .rest_api_id(&api_id)
                        .set_patch_operations(Some(api_patch(current.as_ref(), &wanted)))
                        .send()
                        .await
                        .map_err(|e| {
                            call_error("apigateway:PATCH /restapis/{id}", &resource, &e)
                        })?;
                    let current = current.map(|c| c.tags).unwrap_or_default();
                    let change = TagChange::between(&current, &wanted.tags);
                    retag(client, &arn(&api_id), change, &resource).await?;
                    let root = attribute(live, "root_resource_id").unwrap_or_default();
                    Ok(attributes(site, &api_id, &root))
                }
                None => {
                    let endpoint = EndpointConfiguration::builder()
                        .types(EndpointType::from(
                            wanted.endpoint_type.as_str().unwrap_or("EDGE"),
                        ))
                        .build();
                    let created = client
                        .create_rest_api()
                        .name(&wanted.name)
                        .endpoint_configuration(endpoint)
                        .set_binary_media_types(
                            (!wanted.binary_media_types.is_empty())
                                .then(|| wanted.binary_media_types.clone()),
                        )
                        .set_minimum_compression_size(
                            wanted.minimum_compression_size.map(|size| size as i32),
                        )
                        .set_description(wanted.description.clone())
                        .set_tags(Some(wanted.tags.clone().into_iter().collect()))
                        .send()
                        .await
                        .map_err(|e| call_error("apigateway:POST /restapis", &resource, &e))?;
                    let api_id = created.id().unwrap_or_default().to_string();
                    let root = match created.root_resource_id() {
                        Some(root) => root.to_string(),
                        None => root_of(client, &api_id, &resource).await?,
                    };
                    Ok(attributes(site, &api_id, &root))
                }
            }
        }
        kind::REST_API_RESOURCE => {
            let wanted = ResourceProperties::from_properties(properties, &step.id)?;
            let created = client
                .create_resource()
                .rest_api_id(&api_id)
                .set_parent_id(wanted.parent_id.as_str().map(str::to_string))
                .set_path_part(wanted.path_part.as_str().map(str::to_string))
                .send()
                .await;
            let resource_id = match created {
                Ok(output) => output.id().unwrap_or_default().to_string(),
                // Left by an interrupted deploy.
                Err(e) if e.code() == Some("ConflictException") => {
                    find_resource(client, &api_id, &step.id.name, &resource).await?
                }
                Err(e) => {
                    return Err(call_error(
                        "apigateway:POST /restapis/{id}/resources",
                        &resource,
                        &e,
                    ))
                }
            };
            Ok(Properties::from([("id".to_string(), json!(resource_id))]))
        }
        kind::REST_API_AUTHORIZER => {
            let wanted = AuthorizerProperties::from_properties(properties, &step.id)?;
            let existing = attribute(live, "id").filter(|_| step.action == Action::Update);
            let authorizer_id = match existing {
                Some(authorizer_id) => {
                    let had_expression = AuthorizerProperties::live_of(step)?
                        .is_some_and(|l| l.identity_validation_expression.is_some());
                    update_authorizer(
                        client,
                        site,
                        &api_id,
                        &authorizer_id,
                        &wanted,
                        had_expression,
                        &resource,
                    )
                    .await?;
                    authorizer_id
                }
                None => create_authorizer(client, site, &api_id, &wanted, &resource).await?,
            };
            Ok(Properties::from([("id".to_string(), json!(authorizer_id))]))
        }
        kind::REST_API_MODEL | kind::REST_API_VALIDATOR => {
            validation_apply::apply(client, step, &api_id, properties, &resource).await
        }
        kind::REST_API_METHOD => {
            if step.action == Action::Update {
                delete(client, site, step, &api_id).await?;
            }
            let wanted = MethodProperties::from_properties(properties, &step.id)?;
            let templates = step
                .desired
                .as_ref()
                .and_then(|d| d.inputs.get("request_templates"))
                .and_then(|t| serde_json::from_value(t.clone()).ok())
                .unwrap_or_default();
            put_method(client, site, &api_id, &wanted, templates, &resource).await?;
            Ok(Properties::new())
        }
        kind::REST_API_DEPLOYMENT => {
            let deployment_wanted = DeploymentProperties::from_properties(properties, &step.id)?;
            let stage = deployment_wanted.stage_name.clone();
            let hash = deployment_wanted.routes_hash.clone().unwrap_or_default();
            let wanted: Vec<String> = step
                .desired
                .as_ref()
                .and_then(|d| d.inputs.get("methods"))
                .and_then(Json::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            // In a shared API the other methods are other services': nothing is pruned, and the
            // description says whose deployment this is.
            let mark = if deployment_wanted.shared {
                super::shared::deployment_suffix(site)
            } else {
                prune(client, &api_id, &wanted, &resource).await?;
                String::new()
            };
            let deployment = client
                .create_deployment()
                .rest_api_id(&api_id)
                .description(format!("{DEPLOYMENT_MARK}{hash}{mark}"))
                .send()
                .await
                .map_err(|e| {
                    call_error("apigateway:POST /restapis/{id}/deployments", &resource, &e)
                })?
                .id()
                .unwrap_or_default()
                .to_string();
            let stage_exists = live.is_some() && !replacing;
            let created = if stage_exists {
                None
            } else {
                Some(
                    client
                        .create_stage()
                        .rest_api_id(&api_id)
                        .stage_name(&stage)
                        .deployment_id(&deployment)
                        .set_tags(Some(deployment_wanted.tags.clone().into_iter().collect()))
                        .send()
                        .await,
                )
            };
            match created {
                Some(Ok(_)) => {}
                Some(Err(e)) if e.code() != Some("ConflictException") => {
                    return Err(call_error(
                        "apigateway:POST /restapis/{id}/stages",
                        &resource,
                        &e,
                    ))
                }
                _ => {
                    client
                        .update_stage()
                        .rest_api_id(&api_id)
                        .stage_name(&stage)
                        .patch_operations(patch("/deploymentId", &deployment))
                        .send()
                        .await
                        .map_err(|e| {
                            call_error("apigateway:PATCH /restapis/{id}/stages", &resource, &e)
                        })?;
                    let arn = format!(
                        "arn:{}:apigateway:{}::/restapis/{api_id}/stages/{stage}",
                        site.partition, site.region
                    );
                    let current = DeploymentProperties::live_of(step)?
                        .map(|c| c.tags)
                        .unwrap_or_default();
                    let change = TagChange::between(&current, &deployment_wanted.tags);
                    retag(client, &arn, change, &resource).await?;
                    // The deployment the stage served before is not needed any more.
                    if let Some(previous) = attribute(live, "id").filter(|p| p != &deployment) {
                        let _ = client
                            .delete_deployment()
                            .rest_api_id(&api_id)
                            .deployment_id(previous)
                            .send()
                            .await;
                    }
                }
            }
            Ok(Properties::from([("id".to_string(), json!(deployment))]))
        }
        _ => Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: "not a REST API resource".to_string(),
        }),
    }
}

/// Deletes the methods no route wants any more before a deployment snapshots the API: their
/// deletes come last in the plan, after the deployment, which would otherwise still serve them.
async fn prune(
    client: &Client,
    api_id: &str,
    wanted: &[String],
    resource: &str,
) -> Result<(), ProviderError> {
    let items = client
        .get_resources()
        .rest_api_id(api_id)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/resources", resource, &e))?;
    for item in items.items() {
        let (Some(resource_id), Some(path)) = (item.id(), item.path()) else {
            continue;
        };
        for http_method in item
            .resource_methods()
            .into_iter()
            .flatten()
            .map(|(m, _)| m)
        {
            if wanted.contains(&format!("{http_method} {path}")) {
                continue;
            }
            match client
                .delete_method()
                .rest_api_id(api_id)
                .resource_id(resource_id)
                .http_method(http_method)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => {
                    return Err(call_error(
                        "apigateway:DELETE /restapis/{id}/resources/{id}/methods",
                        resource,
                        &e,
                    ))
                }
            }
        }
    }
    Ok(())
}

/// The patch from the API as it is to the API as wanted. A binary media type is added or
/// removed by its path (`/binaryMediaTypes/image~1png`, `/` escaped as JSON pointers escape it).
fn api_patch(
    current: Option<&RestApiProperties>,
    wanted: &RestApiProperties,
) -> Vec<PatchOperation> {
    let mut operations = vec![patch("/name", &wanted.name)];
    let had = current
        .map(|c| c.binary_media_types.clone())
        .unwrap_or_default();
    let pointer = |media_type: &str| {
        format!(
            "/binaryMediaTypes/{}",
            media_type.replace('~', "~0").replace('/', "~1")
        )
    };
    for media_type in wanted
        .binary_media_types
        .iter()
        .filter(|t| !had.contains(t))
    {
        operations.push(
            PatchOperation::builder()
                .op(Op::Add)
                .path(pointer(media_type))
                .build(),
        );
    }
    for media_type in had
        .iter()
        .filter(|t| !wanted.binary_media_types.contains(t))
    {
        operations.push(
            PatchOperation::builder()
                .op(Op::Remove)
                .path(pointer(media_type))
                .build(),
        );
    }
    if current.map(|c| c.minimum_compression_size) != Some(wanted.minimum_compression_size) {
        operations.push(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/minimumCompressionSize")
                .set_value(wanted.minimum_compression_size.map(|s| s.to_string()))
                .build(),
        );
    }
    if current.map(|c| &c.description) != Some(&wanted.description) {
        operations.push(patch(
            "/description",
            wanted.description.as_deref().unwrap_or_default(),
        ));
    }
    operations
}

fn patch(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

async fn put_method(
    client: &Client,
    site: &Site,
    api_id: &str,
    wanted: &MethodProperties,
    templates: BTreeMap<String, String>,
    resource: &str,
) -> Result<(), ProviderError> {
    let resource_id = wanted.resource_id.as_str().unwrap_or_default().to_string();
    let http_method = wanted.http_method.clone();
    let put = || {
        client
            .put_method()
            .rest_api_id(api_id)
            .resource_id(&resource_id)
            .http_method(&http_method)
            .authorization_type(&wanted.authorization_type)
            .set_authorizer_id(wanted.authorizer_id.as_str().map(str::to_string))
            .set_request_models(
                (!wanted.request_models.is_empty())
                    .then(|| wanted.request_models.clone().into_iter().collect()),
            )
            .set_request_validator_id(wanted.request_validator_id.as_str().map(str::to_string))
            .api_key_required(wanted.api_key_required)
            .set_authorization_scopes(
                (!wanted.authorization_scopes.is_empty())
                    .then(|| wanted.authorization_scopes.clone()),
            )
            .set_request_parameters(
                (!wanted.request_parameters.is_empty())
                    .then(|| wanted.request_parameters.clone().into_iter().collect()),
            )
            .send()
    };
    match put().await {
        Ok(_) => {}
        // Left by an interrupted deploy: put it again from scratch.
        Err(e) if e.code() == Some("ConflictException") => {
            let _ = client
                .delete_method()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .send()
                .await;
            put().await.map_err(|e| {
                call_error(
                    "apigateway:PUT /restapis/{id}/resources/{id}/methods",
                    resource,
                    &e,
                )
            })?;
        }
        Err(e) => {
            return Err(call_error(
                "apigateway:PUT /restapis/{id}/resources/{id}/methods",
                resource,
                &e,
            ))
        }
    }
    let integration = wanted.integration.clone();
    let operation = "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/integration";
    match integration.get("type").and_then(Json::as_str) {
        Some("MOCK") => {
            let headers: Vec<(String, String)> = integration
                .get("response_headers")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
                .map(|(header, value)| {
                    (
                        format!("method.response.header.{header}"),
                        value.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            client
                .put_integration()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .r#type(IntegrationType::Mock)
                .request_templates("application/json", "{statusCode:200}")
                .send()
                .await
                .map_err(|e| call_error(operation, resource, &e))?;
            client
                .put_method_response()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .status_code("200")
                .set_response_parameters(Some(headers.iter().map(|(k, _)| (k.clone(), false)).collect()))
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/responses/200",
                        resource,
                        &e,
                    )
                })?;
            client
                .put_integration_response()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .status_code("200")
                .set_response_parameters(Some(headers.into_iter().collect()))
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/integration/responses/200",
                        resource,
                        &e,
                    )
                })?;
        }
        Some("AWS") => {
            let function_arn = integration["function_arn"].as_str().unwrap_or_default();
            lambda_integration::put(
                client,
                lambda_integration::MethodAddress {
                    api_id,
                    resource_id: &resource_id,
                    http_method: &http_method,
                },
                function_uri(site, function_arn),
                &integration,
                templates,
                resource,
            )
            .await?;
        }
        _ => {
            let function_arn = integration
                .get("function_arn")
                .and_then(Json::as_str)
                .unwrap_or_default();
            client
                .put_integration()
                .rest_api_id(api_id)
                .resource_id(&resource_id)
                .http_method(&http_method)
                .r#type(IntegrationType::AwsProxy)
                .integration_http_method("POST")
                .uri(function_uri(site, function_arn))
                .send()
                .await
                .map_err(|e| call_error(operation, resource, &e))?;
        }
    }
    Ok(())
}

async fn root_of(client: &Client, api_id: &str, resource: &str) -> Result<String, ProviderError> {
    find_resource(client, api_id, "/", resource).await
}

/// The id of the resource at `path`.
async fn find_resource(
    client: &Client,
    api_id: &str,
    path: &str,
    resource: &str,
) -> Result<String, ProviderError> {
    let output = client
        .get_resources()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/resources", resource, &e))?;
    output
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::Call {
            operation: "apigateway:GET /restapis/{id}/resources".to_string(),
            resource: resource.to_string(),
            message: format!("the API has no resource {path}"),
            help: "run the command again: it continues from where it stopped".to_string(),
        })
}

async fn delete(
    client: &Client,
    site: &Site,
    step: &Step,
    api_id: &str,
) -> Result<(), ProviderError> {
    let resource = step.id.to_string();
    let live = step.live.as_ref();
    match step.id.kind.as_str() {
        kind::REST_API => {
            // API Gateway allows one REST API delete every 30 seconds per account.
            let id = attribute(live, "id").unwrap_or_default();
            let mut attempt = 0;
            loop {
                match client.delete_rest_api().rest_api_id(&id).send().await {
                    Err(e) if e.code() == Some("TooManyRequestsException") && attempt < 12 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    other => {
                        break deleted(
                            other,
                            NOT_FOUND,
                            "apigateway:DELETE /restapis/{id}",
                            &resource,
                        )
                    }
                }
            }
        }
        kind::REST_API_RESOURCE => deleted(
            client
                .delete_resource()
                .rest_api_id(api_id)
                .resource_id(attribute(live, "id").unwrap_or_default())
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /restapis/{id}/resources/{id}",
            &resource,
        ),
        kind::REST_API_METHOD => {
            let Some(live) = live else { return Ok(()) };
            let method = MethodProperties::from_properties(&live.properties, &step.id)?;
            deleted(
                client
                    .delete_method()
                    .rest_api_id(api_id)
                    .set_resource_id(method.resource_id.as_str().map(str::to_string))
                    .http_method(&method.http_method)
                    .send()
                    .await,
                NOT_FOUND,
                "apigateway:DELETE /restapis/{id}/resources/{id}/methods",
                &resource,
            )
        }
        kind::REST_API_AUTHORIZER => deleted(
            client
                .delete_authorizer()
                .rest_api_id(api_id)
                .authorizer_id(attribute(live, "id").unwrap_or_default())
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /restapis/{id}/authorizers/{id}",
            &resource,
        ),
        kind::REST_API_MODEL | kind::REST_API_VALIDATOR => {
            validation_apply::delete(client, step, api_id).await
        }
        kind::REST_API_DEPLOYMENT
            if live.is_some_and(|l| l.properties.get("shared") == Some(&json!(true))) =>
        {
            super::shared::redeploy_without(client, site, &step.id.name, api_id, &resource).await
        }
        kind::REST_API_DEPLOYMENT => deleted(
            client
                .delete_stage()
                .rest_api_id(api_id)
                .stage_name(&step.id.name)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /restapis/{id}/stages",
            &resource,
        ),
        _ => Ok(()),
    }
}

/// The API a resource of the REST API belongs to (empty for the API itself).
fn parent_api(properties: &Properties, id: &ResourceId) -> Result<String, ProviderError> {
    let api_id = match id.kind.as_str() {
        kind::REST_API_RESOURCE => ResourceProperties::from_properties(properties, id)?.rest_api_id,
        kind::REST_API_METHOD => MethodProperties::from_properties(properties, id)?.rest_api_id,
        kind::REST_API_DEPLOYMENT => {
            DeploymentProperties::from_properties(properties, id)?.rest_api_id
        }
        kind::SHARED_REST_API => {
            json!(
                super::shared::SharedRestApiProperties::from_properties(properties, id)?
                    .rest_api_id
            )
        }
        kind::REST_API_AUTHORIZER => {
            AuthorizerProperties::from_properties(properties, id)?.rest_api_id
        }
        kind::REST_API_MODEL => ModelProperties::from_properties(properties, id)?.rest_api_id,
        kind::REST_API_VALIDATOR => {
            ValidatorProperties::from_properties(properties, id)?.rest_api_id
        }
        _ => Json::Null,
    };
    Ok(api_id.as_str().unwrap_or_default().to_string())
}

crate::provider::aws::triggers::api_gateway_retag!(
    Client,
    "apigateway:PUT /tags",
    "apigateway:DELETE /tags"
);

async fn create_authorizer(
    client: &Client,
    site: &Site,
    api_id: &str,
    wanted: &AuthorizerProperties,
    resource: &str,
) -> Result<String, ProviderError> {
    let created = client
        .create_authorizer()
        .rest_api_id(api_id)
        .name(&wanted.name)
        .r#type(AuthorizerType::from(wanted.authorizer_type.as_str()))
        .set_authorizer_uri(
            wanted
                .function_arn
                .as_str()
                .map(|arn| function_uri(site, arn)),
        )
        .set_provider_arns((!wanted.provider_arns.is_empty()).then(|| wanted.provider_arns.clone()))
        .set_identity_source(wanted.identity_source.clone())
        .set_identity_validation_expression(wanted.identity_validation_expression.clone())
        .authorizer_result_ttl_in_seconds(wanted.result_ttl_in_seconds as i32)
        .send()
        .await
        .map_err(|e| call_error("apigateway:POST /restapis/{id}/authorizers", resource, &e))?;
    Ok(created.id().unwrap_or_default().to_string())
}

/// Patches what an authorizer can change in place (its type and user pools cannot: the plan
/// replaces it for those).
async fn update_authorizer(
    client: &Client,
    site: &Site,
    api_id: &str,
    authorizer_id: &str,
    wanted: &AuthorizerProperties,
    had_expression: bool,
    resource: &str,
) -> Result<(), ProviderError> {
    let mut operations = vec![
        patch("/name", &wanted.name),
        patch(
            "/authorizerResultTtlInSeconds",
            &wanted.result_ttl_in_seconds.to_string(),
        ),
    ];
    if let Some(arn) = wanted.function_arn.as_str() {
        operations.push(patch("/authorizerUri", &function_uri(site, arn)));
    }
    if let Some(source) = &wanted.identity_source {
        operations.push(patch("/identitySource", source));
    }
    match (&wanted.identity_validation_expression, had_expression) {
        (Some(expression), _) => {
            operations.push(patch("/identityValidationExpression", expression))
        }
        (None, true) => operations.push(
            PatchOperation::builder()
                .op(Op::Remove)
                .path("/identityValidationExpression")
                .build(),
        ),
        (None, false) => {}
    }
    client
        .update_authorizer()
        .rest_api_id(api_id)
        .authorizer_id(authorizer_id)
        .set_patch_operations(Some(operations))
        .send()
        .await
        .map_err(|e| {
            call_error(
                "apigateway:PATCH /restapis/{id}/authorizers/{id}",
                resource,
                &e,
            )
        })?;
    Ok(())
}
