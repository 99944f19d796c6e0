//! Reading the REST API: one `GetRestApis` listing finds the service's API by its tags, then
//! `GetResources` (with the methods embedded), `GetStages` and `GetDeployments` read everything
//! in it.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_apigateway::Client;
use serde_json::{json, Value as Json};

use super::cloud::{attributes, DEPLOYMENT_MARK};
use super::lambda_integration;
use super::validation_apply;
use super::{
    AuthorizerProperties, DeploymentProperties, MethodProperties, ResourceProperties,
    RestApiProperties,
};
use crate::plan::{Live, Properties, ResourceId};
use crate::provider::aws::kinds::Typed;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::{call_error, function_name_of, owned, Site};
use crate::provider::ProviderError;

/// The service's REST API and everything in it.
/// The account's API keys and usage plans are listed only when `api_keys` (the deploy state
/// records that the service has some).
pub async fn live(
    client: &Client,
    site: &Site,
    api_keys: bool,
) -> Result<Vec<Live>, ProviderError> {
    let mut found = Vec::new();
    let mut position = None;
    loop {
        let page = client
            .get_rest_apis()
            .limit(500)
            .set_position(position)
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /restapis", "REST APIs", &e))?;
        for api in page.items() {
            let tags = api.tags().cloned().unwrap_or_default();
            if !owned(&tags, &site.service, &site.stage) {
                continue;
            }
            let (Some(api_id), Some(name)) = (api.id(), api.name()) else {
                continue;
            };
            let id = naming::id(kind::REST_API, name);
            let endpoint_type = api
                .endpoint_configuration()
                .and_then(|c| c.types().first())
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| "EDGE".to_string());
            let url = format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{}",
                site.region, site.stage
            );
            let (children, root) = children(client, &id, api_id, &url, None).await?;
            let root = api
                .root_resource_id()
                .map(str::to_string)
                .or(root)
                .unwrap_or_default();
            found.push(Live {
                id: id.clone(),
                properties: RestApiProperties {
                    name: name.to_string(),
                    endpoint_type: json!(endpoint_type),
                    tags: tags.clone().into_iter().collect(),
                    binary_media_types: {
                        let mut types = api.binary_media_types().to_vec();
                        types.sort();
                        types
                    },
                    minimum_compression_size: api.minimum_compression_size().map(i64::from),
                    description: api
                        .description()
                        .filter(|d| !d.is_empty())
                        .map(str::to_string),
                }
                .to_properties(),
                attributes: attributes(site, api_id, &root),
                depends_on: BTreeSet::new(),
            });
            found.extend(children);
        }
        position = page.position().map(str::to_string);
        if position.is_none() {
            break;
        }
    }
    if api_keys {
        found.extend(super::api_keys::live(client, site).await?);
    }
    Ok(found)
}

/// The resources, methods and stages of one API, and its root resource's id.
///
/// `shared` is the service's stage and the mark of its deployments in an API it shares with
/// others (see [`super::shared`]): then the service's deployment is its newest one with that
/// mark, on the service's stage only, rather than whatever deployment each stage serves.
pub(super) async fn children(
    client: &Client,
    api: &ResourceId,
    api_id: &str,
    api_url: &str,
    shared: Option<(&str, &str)>,
) -> Result<(Vec<Live>, Option<String>), ProviderError> {
    let what = format!("REST API {}", api.name);
    let mut items = Vec::new();
    let mut position = None;
    loop {
        let page = client
            .get_resources()
            .rest_api_id(api_id)
            .embed("methods")
            .limit(500)
            .set_position(position)
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /restapis/{id}/resources", &what, &e))?;
        items.extend(page.items().iter().cloned());
        position = page.position().map(str::to_string);
        if position.is_none() {
            break;
        }
    }
    let (stages, deployments, authorizers) = tokio::join!(
        client.get_stages().rest_api_id(api_id).send(),
        client
            .get_deployments()
            .rest_api_id(api_id)
            .limit(500)
            .send(),
        client
            .get_authorizers()
            .rest_api_id(api_id)
            .limit(500)
            .send(),
    );
    let authorizers = authorizers
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/authorizers", &what, &e))?;
    let (checks, validator_ids) = validation_apply::read(client, api, api_id, &what).await?;
    // Authorizer id -> the authorizer's resource, for the methods that use one.
    let mut authorizer_ids: HashMap<String, ResourceId> = HashMap::new();
    let mut found = checks;
    for authorizer in authorizers.items() {
        let (Some(authorizer_id), Some(name)) = (authorizer.id(), authorizer.name()) else {
            continue;
        };
        let id = naming::id(kind::REST_API_AUTHORIZER, name);
        authorizer_ids.insert(authorizer_id.to_string(), id.clone());
        let function_arn = authorizer.authorizer_uri().and_then(function_arn_of);
        let mut depends_on = BTreeSet::from([api.clone()]);
        if let Some(function) = function_arn.and_then(function_name_of) {
            depends_on.insert(naming::id(kind::FUNCTION, function));
        }
        found.push(Live {
            id,
            properties: AuthorizerProperties {
                rest_api_id: json!(api_id),
                name: name.to_string(),
                authorizer_type: authorizer
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                function_arn: json!(function_arn),
                provider_arns: authorizer.provider_arns().to_vec(),
                identity_source: authorizer.identity_source().map(str::to_string),
                identity_validation_expression: authorizer
                    .identity_validation_expression()
                    .filter(|e| !e.is_empty())
                    .map(str::to_string),
                result_ttl_in_seconds: authorizer
                    .authorizer_result_ttl_in_seconds()
                    .unwrap_or(300)
                    .into(),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(authorizer_id))]),
            depends_on,
        });
    }
    let stages =
        stages.map_err(|e| call_error("apigateway:GET /restapis/{id}/stages", &what, &e))?;
    let deployments = deployments
        .map_err(|e| call_error("apigateway:GET /restapis/{id}/deployments", &what, &e))?;
    let paths: HashMap<String, String> = items
        .iter()
        .filter_map(|r| Some((r.id()?.to_string(), r.path()?.to_string())))
        .collect();
    let mut root = None;
    for item in &items {
        let (Some(resource_id), Some(path)) = (item.id(), item.path()) else {
            continue;
        };
        if path == "/" {
            root = Some(resource_id.to_string());
        } else {
            let parent = item.parent_id().unwrap_or_default();
            let mut depends_on = BTreeSet::from([api.clone()]);
            if let Some(parent_path) = paths.get(parent).filter(|p| p.as_str() != "/") {
                depends_on.insert(naming::id(kind::REST_API_RESOURCE, parent_path));
            }
            found.push(Live {
                id: naming::id(kind::REST_API_RESOURCE, path),
                properties: ResourceProperties {
                    rest_api_id: json!(api_id),
                    parent_id: json!(parent),
                    path_part: json!(item.path_part()),
                }
                .to_properties(),
                attributes: Properties::from([("id".to_string(), json!(resource_id))]),
                depends_on,
            });
        }
        for (http_method, method) in item.resource_methods().into_iter().flatten() {
            let mut depends_on = BTreeSet::from([api.clone()]);
            if path != "/" {
                depends_on.insert(naming::id(kind::REST_API_RESOURCE, path));
            }
            let integration = method.method_integration().map(|integration| {
                match integration.r#type().map(|t| t.as_str()) {
                    Some("MOCK") => {
                        let headers: serde_json::Map<String, Json> = integration
                            .integration_responses()
                            .and_then(|r| r.get("200"))
                            .and_then(|r| r.response_parameters())
                            .into_iter()
                            .flatten()
                            .filter_map(|(key, value)| {
                                let header = key.strip_prefix("method.response.header.")?;
                                Some((header.to_string(), json!(value)))
                            })
                            .collect();
                        json!({"type": "MOCK", "response_headers": headers})
                    }
                    other => {
                        let arn = integration.uri().and_then(function_arn_of);
                        if let Some(function) = arn.and_then(function_name_of) {
                            depends_on.insert(naming::id(kind::FUNCTION, function));
                        }
                        match other {
                            Some("AWS") => lambda_integration::read(integration, arn),
                            _ => json!({"type": other, "function_arn": arn}),
                        }
                    }
                }
            });
            let authorizer_id = method.authorizer_id().filter(|_| {
                !matches!(method.authorization_type(), None | Some("NONE" | "AWS_IAM"))
            });
            if let Some(authorizer) = authorizer_id.and_then(|a| authorizer_ids.get(a)) {
                depends_on.insert(authorizer.clone());
            }
            if let Some(validator) = method
                .request_validator_id()
                .and_then(|v| validator_ids.get(v))
            {
                depends_on.insert(validator.clone());
            }
            let request_models: std::collections::BTreeMap<String, String> = method
                .request_models()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            for model in request_models.values() {
                depends_on.insert(naming::id(kind::REST_API_MODEL, model));
            }
            let function = integration
                .as_ref()
                .and_then(|i| i.get("function_arn"))
                .and_then(Json::as_str)
                .and_then(function_name_of)
                .map(str::to_string);
            found.push(Live {
                id: naming::id(kind::REST_API_METHOD, format!("{http_method} {path}")),
                properties: MethodProperties {
                    rest_api_id: json!(api_id),
                    resource_id: json!(resource_id),
                    http_method: http_method.to_string(),
                    authorization_type: method.authorization_type().unwrap_or("NONE").to_string(),
                    integration: integration.unwrap_or(Json::Null),
                    request_parameters: method
                        .request_parameters()
                        .map(|p| p.iter().map(|(k, v)| (k.clone(), *v)).collect())
                        .unwrap_or_default(),
                    authorizer_id: json!(authorizer_id),
                    authorization_scopes: method.authorization_scopes().to_vec(),
                    request_models,
                    request_validator_id: validation_apply::validator_value(
                        method.request_validator_id(),
                    ),
                    api_key_required: method.api_key_required().unwrap_or(false),
                }
                .to_properties(),
                attributes: Properties::from([
                    ("method".to_string(), json!(http_method)),
                    ("url".to_string(), json!(format!("{api_url}{path}"))),
                    ("function".to_string(), json!(function)),
                ]),
                depends_on,
            });
        }
    }
    if let Some((stage, suffix)) = shared {
        found.extend(shared_deployment(
            api,
            api_id,
            deployments.items(),
            stage,
            suffix,
        ));
        return Ok((found, root));
    }
    let descriptions: HashMap<&str, &str> = deployments
        .items()
        .iter()
        .filter_map(|d| Some((d.id()?, d.description().unwrap_or_default())))
        .collect();
    for stage in stages.item() {
        let Some(name) = stage.stage_name() else {
            continue;
        };
        let deployment = stage.deployment_id().unwrap_or_default();
        let hash = descriptions
            .get(deployment)
            .and_then(|d| d.strip_prefix(DEPLOYMENT_MARK))
            .map(str::to_string);
        found.push(Live {
            id: naming::id(kind::REST_API_DEPLOYMENT, name),
            properties: DeploymentProperties {
                rest_api_id: json!(api_id),
                stage_name: name.to_string(),
                routes_hash: hash,
                tags: stage
                    .tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                shared: false,
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(deployment))]),
            depends_on: BTreeSet::from([api.clone()]),
        });
    }
    Ok((found, root))
}

/// The service's newest deployment in a shared API, by the mark its description ends with;
/// none when it has none, or its last one marks a remove.
fn shared_deployment(
    api: &ResourceId,
    api_id: &str,
    deployments: &[aws_sdk_apigateway::types::Deployment],
    stage: &str,
    suffix: &str,
) -> Option<Live> {
    let newest = deployments
        .iter()
        .filter(|d| {
            d.description()
                .is_some_and(|text| text.starts_with(DEPLOYMENT_MARK) && text.ends_with(suffix))
        })
        .max_by_key(|d| {
            d.created_date()
                .map(|date| (date.secs(), date.subsec_nanos()))
        })?;
    let hash = newest
        .description()?
        .strip_prefix(DEPLOYMENT_MARK)?
        .strip_suffix(suffix)?
        .to_string();
    if hash == super::shared::REMOVED {
        return None;
    }
    let mut properties = DeploymentProperties {
        rest_api_id: json!(api_id),
        stage_name: stage.to_string(),
        routes_hash: Some(hash),
        tags: Default::default(),
        shared: true,
    }
    .to_properties();
    super::shared::shared_deployment(&mut properties);
    Some(Live {
        id: naming::id(kind::REST_API_DEPLOYMENT, stage),
        properties,
        attributes: Properties::from([("id".to_string(), json!(newest.id()))]),
        depends_on: BTreeSet::from([api.clone()]),
    })
}

fn function_arn_of(uri: &str) -> Option<&str> {
    uri.split_once("/functions/")?
        .1
        .strip_suffix("/invocations")
}
