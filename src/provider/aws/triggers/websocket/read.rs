//! Reading the WebSocket API: the service's WebSocket APIs come from the `GetApis` listing
//! shared with the HTTP API ([`super::super::api_gateway_v2`]); then one listing each of the
//! API's integrations, routes and stages, of its authorizers when a route uses one or the deploy
//! state records some, of the route responses of the routes that send responses, and of its
//! deployments when a stage serves one (the stage's deployment carries the routes hash).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigatewayv2::types::Api;
use aws_sdk_apigatewayv2::Client;
use serde_json::json;

use super::cloud::{stage_url, DEPLOYMENT_MARK};
use super::{
    AuthorizerProperties, DeploymentProperties, IntegrationProperties, RouteProperties,
    RouteResponseProperties, StageProperties, WebsocketApiProperties,
};
use crate::plan::{Live, Properties, ResourceId};
use crate::provider::aws::kinds::Typed;
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::api_gateway_v2::{self, function_arn_of, is_websocket};
use crate::provider::aws::triggers::{call_error, function_name_of, Site};
use crate::provider::ProviderError;

/// The API's attributes: its id, URL and the ARNs its permissions name.
pub fn attributes(site: &Site, api_id: &str) -> Properties {
    Properties::from([
        ("id".to_string(), json!(api_id)),
        ("url".to_string(), json!(api_url(site, api_id))),
        (
            "source_arn".to_string(),
            json!(api_gateway_v2::source_arn(site, api_id)),
        ),
        (
            "authorizers_source_arn".to_string(),
            json!(api_gateway_v2::authorizers_source_arn(site, api_id)),
        ),
    ])
}

/// `wss://{id}.execute-api.{region}.amazonaws.com`: where clients connect (API Gateway gives a
/// WebSocket API no other endpoint).
pub fn api_url(site: &Site, api_id: &str) -> String {
    format!("wss://{api_id}.execute-api.{}.amazonaws.com", site.region)
}

/// The service's WebSocket API and everything in it, among the service's APIs (HTTP APIs are
/// the HTTP API reader's).
pub async fn live(
    client: &Client,
    site: &Site,
    apis: &[Api],
    authorizers_defined: bool,
) -> Result<Vec<Live>, ProviderError> {
    let mut found = Vec::new();
    for api in apis.iter().filter(|api| is_websocket(api)) {
        let (Some(api_id), Some(name)) = (api.api_id(), api.name()) else {
            continue;
        };
        let id = naming::id(kind::WEBSOCKET_API, name);
        found.push(Live {
            id: id.clone(),
            properties: WebsocketApiProperties {
                name: name.to_string(),
                protocol_type: api.protocol_type().map(|p| p.as_str().to_string()),
                route_selection_expression: api
                    .route_selection_expression()
                    .unwrap_or_default()
                    .to_string(),
                description: api.description().map(str::to_string),
                tags: api
                    .tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            }
            .to_properties(),
            attributes: attributes(site, api_id),
            depends_on: BTreeSet::new(),
        });
        found.extend(children(client, site, &id, api_id, authorizers_defined).await?);
    }
    Ok(found)
}

/// The integrations, authorizers, routes, route responses, deployment and stages of one API.
async fn children(
    client: &Client,
    site: &Site,
    api: &ResourceId,
    api_id: &str,
    authorizers_defined: bool,
) -> Result<Vec<Live>, ProviderError> {
    let what = format!("WebSocket API {}", api.name);
    let (integrations, routes, stages) = tokio::join!(
        client
            .get_integrations()
            .api_id(api_id)
            .max_results("500")
            .send(),
        client.get_routes().api_id(api_id).max_results("500").send(),
        client.get_stages().api_id(api_id).max_results("500").send(),
    );
    let integrations = integrations
        .map_err(|e| call_error("apigateway:GET /apis/{id}/integrations", &what, &e))?;
    let routes = routes.map_err(|e| call_error("apigateway:GET /apis/{id}/routes", &what, &e))?;
    let stages = stages.map_err(|e| call_error("apigateway:GET /apis/{id}/stages", &what, &e))?;
    let mut found = Vec::new();

    let mut integration_names: BTreeMap<String, ResourceId> = BTreeMap::new();
    for integration in integrations.items() {
        let Some(integration_id) = integration.integration_id() else {
            continue;
        };
        let uri = integration.integration_uri().unwrap_or_default();
        let function_arn = function_arn_of(uri).unwrap_or(uri);
        let function = function_name_of(function_arn);
        let id = naming::id(
            kind::WEBSOCKET_INTEGRATION,
            function.unwrap_or(integration_id),
        );
        integration_names.insert(integration_id.to_string(), id.clone());
        let mut depends_on = BTreeSet::from([api.clone()]);
        depends_on.extend(function.map(|f| naming::id(kind::FUNCTION, f)));
        found.push(Live {
            id,
            properties: IntegrationProperties {
                api_id: json!(api_id),
                integration_type: integration
                    .integration_type()
                    .map(|t| t.as_str().to_string()),
                function_arn: json!(function_arn),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(integration_id))]),
            depends_on,
        });
    }

    let authorized = routes.items().iter().any(|r| r.authorizer_id().is_some());
    let mut authorizer_names: BTreeMap<String, ResourceId> = BTreeMap::new();
    if authorizers_defined || authorized {
        let authorizers = client
            .get_authorizers()
            .api_id(api_id)
            .max_results("500")
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /apis/{id}/authorizers", &what, &e))?;
        for authorizer in authorizers.items() {
            let (Some(authorizer_id), Some(name)) = (authorizer.authorizer_id(), authorizer.name())
            else {
                continue;
            };
            let id = naming::id(kind::WEBSOCKET_AUTHORIZER, name);
            authorizer_names.insert(authorizer_id.to_string(), id.clone());
            let function_arn = authorizer.authorizer_uri().and_then(function_arn_of);
            let mut depends_on = BTreeSet::from([api.clone()]);
            depends_on.extend(
                function_arn
                    .and_then(function_name_of)
                    .map(|f| naming::id(kind::FUNCTION, f)),
            );
            found.push(Live {
                id,
                properties: AuthorizerProperties {
                    api_id: json!(api_id),
                    name: name.to_string(),
                    authorizer_type: authorizer.authorizer_type().map(|t| t.as_str().to_string()),
                    identity_source: authorizer.identity_source().to_vec(),
                    function_arn: json!(function_arn),
                }
                .to_properties(),
                attributes: Properties::from([("id".to_string(), json!(authorizer_id))]),
                depends_on,
            });
        }
    }

    for route in routes.items() {
        let (Some(route_id), Some(route_key)) = (route.route_id(), route.route_key()) else {
            continue;
        };
        let integration_id = route
            .target()
            .and_then(|t| t.strip_prefix("integrations/"))
            .map(str::to_string);
        let id = naming::id(kind::WEBSOCKET_ROUTE, route_key);
        let mut depends_on = BTreeSet::from([api.clone()]);
        depends_on.extend(
            integration_id
                .as_ref()
                .and_then(|i| integration_names.get(i))
                .cloned(),
        );
        depends_on.extend(
            route
                .authorizer_id()
                .and_then(|a| authorizer_names.get(a))
                .cloned(),
        );
        let response_selection = route.route_response_selection_expression();
        let authorization_type = route
            .authorization_type()
            .map(|t| t.as_str())
            .unwrap_or("NONE");
        found.push(Live {
            id: id.clone(),
            properties: RouteProperties {
                api_id: json!(api_id),
                route_key: route_key.to_string(),
                integration_id: json!(integration_id),
                authorization_type: authorization_type.to_string(),
                // An authorizer a route no longer uses may stay on it; it is not called.
                authorizer_id: json!(route
                    .authorizer_id()
                    .filter(|_| authorization_type != "NONE")),
                route_response_selection_expression: response_selection.map(str::to_string),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(route_id))]),
            depends_on,
        });
        // Only a route that sends responses has any to read.
        if response_selection.is_some() {
            found.extend(route_responses(client, api, api_id, &id, route_id, &what).await?);
        }
    }

    // The deployment of each stage is read for the routes hash its description carries.
    let served: Vec<&str> = stages
        .items()
        .iter()
        .filter_map(|s| s.deployment_id())
        .collect();
    let descriptions: BTreeMap<String, String> = if served.is_empty() {
        BTreeMap::new()
    } else {
        client
            .get_deployments()
            .api_id(api_id)
            .max_results("500")
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /apis/{id}/deployments", &what, &e))?
            .items()
            .iter()
            .filter_map(|d| {
                Some((
                    d.deployment_id()?.to_string(),
                    d.description().unwrap_or_default().to_string(),
                ))
            })
            .collect()
    };
    for stage in stages.items() {
        let Some(name) = stage.stage_name() else {
            continue;
        };
        let mut depends_on = BTreeSet::from([api.clone()]);
        if let Some(deployment_id) = stage.deployment_id() {
            let deployment = naming::id(kind::WEBSOCKET_DEPLOYMENT, name);
            found.push(Live {
                id: deployment.clone(),
                properties: DeploymentProperties {
                    api_id: json!(api_id),
                    routes_hash: descriptions
                        .get(deployment_id)
                        .and_then(|d| d.strip_prefix(DEPLOYMENT_MARK))
                        .map(str::to_string),
                }
                .to_properties(),
                attributes: Properties::from([("id".to_string(), json!(deployment_id))]),
                depends_on: BTreeSet::from([api.clone()]),
            });
            depends_on.insert(deployment);
        }
        found.push(Live {
            id: naming::id(kind::WEBSOCKET_STAGE, name),
            properties: StageProperties {
                api_id: json!(api_id),
                stage_name: name.to_string(),
                deployment_id: json!(stage.deployment_id()),
                tags: stage
                    .tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            }
            .to_properties(),
            attributes: Properties::from([(
                "url".to_string(),
                json!(stage_url(site, api_id, name)),
            )]),
            depends_on,
        });
    }
    Ok(found)
}

/// The responses of one route: `$default` is named by the route key alone, any other by the
/// route key and its own key.
async fn route_responses(
    client: &Client,
    api: &ResourceId,
    api_id: &str,
    route: &ResourceId,
    route_id: &str,
    what: &str,
) -> Result<Vec<Live>, ProviderError> {
    let responses = client
        .get_route_responses()
        .api_id(api_id)
        .route_id(route_id)
        .max_results("500")
        .send()
        .await
        .map_err(|e| {
            call_error(
                "apigateway:GET /apis/{id}/routes/{id}/routeresponses",
                what,
                &e,
            )
        })?;
    Ok(responses
        .items()
        .iter()
        .filter_map(|response| {
            let key = response.route_response_key()?;
            let name = match key {
                "$default" => route.name.clone(),
                other => format!("{} {other}", route.name),
            };
            Some(Live {
                id: naming::id(kind::WEBSOCKET_ROUTE_RESPONSE, name),
                properties: RouteResponseProperties {
                    api_id: json!(api_id),
                    route_id: json!(route_id),
                    route_response_key: key.to_string(),
                }
                .to_properties(),
                attributes: Properties::from([(
                    "id".to_string(),
                    json!(response.route_response_id()),
                )]),
                depends_on: BTreeSet::from([api.clone(), route.clone()]),
            })
        })
        .collect())
}
