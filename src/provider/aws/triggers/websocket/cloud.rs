//! Changing the WebSocket API: creating, updating and deleting the API, its integrations,
//! authorizers, routes, route responses, deployment and stage (reading them is in `read.rs`).
//!
//! A new deployment is made only when its routes hash changed; the stage then moves to it and
//! the deployment it served before is deleted. Before a deployment is made, the routes no event
//! wants any more are deleted, because their own deletes come last in the plan and the new
//! deployment would otherwise still serve them.

use aws_sdk_apigatewayv2::error::ProvideErrorMetadata;
use aws_sdk_apigatewayv2::types::{AuthorizerType, ProtocolType};
use aws_sdk_apigatewayv2::Client;
use serde_json::{json, Value as Json};

use super::read::attributes;
use super::{
    AuthorizerProperties, DeploymentProperties, IntegrationProperties, RouteProperties,
    RouteResponseProperties, StageProperties, WebsocketApiProperties,
};
use crate::plan::{Action, Properties, ResourceId, Step};
use crate::provider::aws::call::deleted;
use crate::provider::aws::kinds::{TagChange, Typed};
use crate::provider::aws::naming::kind;
use crate::provider::aws::triggers::api_gateway_v2::{
    api_arn, invocation_uri, not_found, put_integration, put_route, strings, RouteCall, NOT_FOUND,
};
use crate::provider::aws::triggers::{attribute, call_error, Site};
use crate::provider::ProviderError;

/// What a deployment's description starts with; the rest is the routes hash.
pub(super) const DEPLOYMENT_MARK: &str = "updraft routes ";

/// Where clients connect to the stage.
pub fn stage_url(site: &Site, api_id: &str, stage: &str) -> String {
    format!("{}/{stage}", super::read::api_url(site, api_id))
}

/// Applies one step to a resource of the WebSocket API.
pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let live = step.live.as_ref();
    let resource = step.id.to_string();
    let api_id = match (step.action, live) {
        (Action::Delete, Some(live)) => parent_api(&live.properties, &step.id)?,
        (Action::Delete, None) => String::new(),
        _ => parent_api(properties, &step.id)?,
    };
    // A new deployment replaces the one the stage serves only once the stage moved to it.
    let replacing = step.action == Action::Replace && step.id.kind != kind::WEBSOCKET_DEPLOYMENT;
    if step.action == Action::Delete || replacing {
        delete(client, step, &api_id).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let existing = match step.action {
        Action::Update => attribute(live, "id"),
        _ => None,
    };
    match step.id.kind.as_str() {
        kind::WEBSOCKET_API => {
            let wanted = WebsocketApiProperties::from_properties(properties, &step.id)?;
            let api_id = match existing {
                Some(api_id) => {
                    client
                        .update_api()
                        .api_id(&api_id)
                        .name(&wanted.name)
                        .route_selection_expression(&wanted.route_selection_expression)
                        .description(wanted.description.clone().unwrap_or_default())
                        .send()
                        .await
                        .map_err(|e| call_error("apigateway:PATCH /apis/{id}", &resource, &e))?;
                    let current = WebsocketApiProperties::live_of(step)?
                        .map(|c| c.tags)
                        .unwrap_or_default();
                    let change = TagChange::between(&current, &wanted.tags);
                    retag(client, &api_arn(site, &api_id), change, &resource).await?;
                    api_id
                }
                None => client
                    .create_api()
                    .name(&wanted.name)
                    .protocol_type(ProtocolType::Websocket)
                    .route_selection_expression(&wanted.route_selection_expression)
                    .set_description(wanted.description.clone())
                    .set_tags(Some(wanted.tags.clone().into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| call_error("apigateway:POST /apis", &resource, &e))?
                    .api_id()
                    .unwrap_or_default()
                    .to_string(),
            };
            Ok(attributes(site, &api_id))
        }
        kind::WEBSOCKET_INTEGRATION => {
            let wanted = IntegrationProperties::from_properties(properties, &step.id)?;
            let uri = invocation_uri(site, wanted.function_arn.as_str().unwrap_or_default());
            let integration_id =
                put_integration(client, &api_id, existing, uri, None, &resource).await?;
            Ok(id_attribute(integration_id))
        }
        kind::WEBSOCKET_AUTHORIZER => {
            let wanted = AuthorizerProperties::from_properties(properties, &step.id)?;
            let uri = invocation_uri(site, wanted.function_arn.as_str().unwrap_or_default());
            let authorizer_id = match existing {
                Some(authorizer_id) => {
                    client
                        .update_authorizer()
                        .api_id(&api_id)
                        .authorizer_id(&authorizer_id)
                        .name(&wanted.name)
                        .authorizer_type(AuthorizerType::Request)
                        .authorizer_uri(uri)
                        .set_identity_source(Some(wanted.identity_source.clone()))
                        .send()
                        .await
                        .map_err(|e| {
                            call_error("apigateway:PATCH /apis/{id}/authorizers", &resource, &e)
                        })?;
                    authorizer_id
                }
                None => client
                    .create_authorizer()
                    .api_id(&api_id)
                    .name(&wanted.name)
                    .authorizer_type(AuthorizerType::Request)
                    .authorizer_uri(uri)
                    .set_identity_source(Some(wanted.identity_source.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error("apigateway:POST /apis/{id}/authorizers", &resource, &e)
                    })?
                    .authorizer_id()
                    .unwrap_or_default()
                    .to_string(),
            };
            Ok(id_attribute(authorizer_id))
        }
        kind::WEBSOCKET_ROUTE => {
            let wanted = RouteProperties::from_properties(properties, &step.id)?;
            let route = RouteCall {
                route_key: &wanted.route_key,
                integration_id: wanted.integration_id.as_str().unwrap_or_default(),
                authorization_type: &wanted.authorization_type,
                authorizer_id: wanted.authorizer_id.as_str().map(str::to_string),
                scopes: None,
                selection: wanted.route_response_selection_expression.clone(),
            };
            let route_id = put_route(client, &api_id, existing, route, &resource).await?;
            Ok(id_attribute(route_id))
        }
        kind::WEBSOCKET_ROUTE_RESPONSE => {
            // Every property forces a replacement: there is nothing to update in place.
            if let Some(response_id) = existing {
                return Ok(id_attribute(response_id));
            }
            let wanted = RouteResponseProperties::from_properties(properties, &step.id)?;
            let response_id = client
                .create_route_response()
                .api_id(&api_id)
                .route_id(wanted.route_id.as_str().unwrap_or_default())
                .route_response_key(&wanted.route_response_key)
                .send()
                .await
                .map_err(|e| {
                    call_error(
                        "apigateway:POST /apis/{id}/routes/{id}/routeresponses",
                        &resource,
                        &e,
                    )
                })?
                .route_response_id()
                .unwrap_or_default()
                .to_string();
            Ok(id_attribute(response_id))
        }
        kind::WEBSOCKET_DEPLOYMENT => {
            let wanted = DeploymentProperties::from_properties(properties, &step.id)?;
            let routes: Vec<String> = step
                .desired
                .as_ref()
                .and_then(|d| d.inputs.get("routes"))
                .map(|routes| strings(Some(routes)))
                .unwrap_or_default();
            prune(client, &api_id, &routes, &resource).await?;
            let deployment_id = client
                .create_deployment()
                .api_id(&api_id)
                .description(format!(
                    "{DEPLOYMENT_MARK}{}",
                    wanted.routes_hash.unwrap_or_default()
                ))
                .send()
                .await
                .map_err(|e| call_error("apigateway:POST /apis/{id}/deployments", &resource, &e))?
                .deployment_id()
                .unwrap_or_default()
                .to_string();
            Ok(id_attribute(deployment_id))
        }
        kind::WEBSOCKET_STAGE => {
            let wanted = StageProperties::from_properties(properties, &step.id)?;
            stage(client, site, step, &api_id, &wanted, &resource).await?;
            Ok(Properties::from([(
                "url".to_string(),
                json!(stage_url(site, &api_id, &wanted.stage_name)),
            )]))
        }
        _ => Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: "not a WebSocket API resource".to_string(),
        }),
    }
}

fn id_attribute(id: String) -> Properties {
    Properties::from([("id".to_string(), json!(id))])
}

/// Creates the stage on its deployment, or moves it to a new one (then deleting the deployment
/// it served before) and sets its tags.
async fn stage(
    client: &Client,
    site: &Site,
    step: &Step,
    api_id: &str,
    wanted: &StageProperties,
    resource: &str,
) -> Result<(), ProviderError> {
    let stage = &wanted.stage_name;
    let deployment = wanted.deployment_id.as_str().map(str::to_string);
    if step.action != Action::Update {
        match client
            .create_stage()
            .api_id(api_id)
            .stage_name(stage)
            .set_deployment_id(deployment.clone())
            .set_tags(Some(wanted.tags.clone().into_iter().collect()))
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            // Left by a deploy that stopped half-way: moved below like any stage.
            Err(e) if e.code() == Some("ConflictException") => {}
            Err(e) => {
                return Err(call_error(
                    "apigateway:POST /apis/{id}/stages",
                    resource,
                    &e,
                ))
            }
        }
    }
    let current = StageProperties::live_of(step)?;
    let previous = current
        .as_ref()
        .and_then(|c| c.deployment_id.as_str().map(str::to_string));
    if previous != deployment {
        client
            .update_stage()
            .api_id(api_id)
            .stage_name(stage)
            .set_deployment_id(deployment.clone())
            .send()
            .await
            .map_err(|e| call_error("apigateway:PATCH /apis/{id}/stages", resource, &e))?;
    }
    let tags = current.map(|c| c.tags).unwrap_or_default();
    let arn = format!("{}/stages/{stage}", api_arn(site, api_id));
    retag(
        client,
        &arn,
        TagChange::between(&tags, &wanted.tags),
        resource,
    )
    .await?;
    // The deployment the stage served before is not needed any more; one left behind costs
    // nothing and goes with the API.
    if let Some(previous) = previous.filter(|p| Some(p) != deployment.as_ref()) {
        let _ = client
            .delete_deployment()
            .api_id(api_id)
            .deployment_id(previous)
            .send()
            .await;
    }
    Ok(())
}

/// Deletes the routes no event wants any more before a deployment snapshots the API.
async fn prune(
    client: &Client,
    api_id: &str,
    wanted: &[String],
    resource: &str,
) -> Result<(), ProviderError> {
    let routes = client
        .get_routes()
        .api_id(api_id)
        .max_results("500")
        .send()
        .await
        .map_err(|e| call_error("apigateway:GET /apis/{id}/routes", resource, &e))?;
    for route in routes.items() {
        let (Some(route_id), Some(key)) = (route.route_id(), route.route_key()) else {
            continue;
        };
        if wanted.iter().any(|w| w == key) {
            continue;
        }
        match client
            .delete_route()
            .api_id(api_id)
            .route_id(route_id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if not_found(&e) => {}
            Err(e) => {
                return Err(call_error(
                    "apigateway:DELETE /apis/{id}/routes",
                    resource,
                    &e,
                ))
            }
        }
    }
    Ok(())
}

async fn delete(client: &Client, step: &Step, api_id: &str) -> Result<(), ProviderError> {
    let resource = step.id.to_string();
    let id = attribute(step.live.as_ref(), "id").unwrap_or_default();
    let live_route = || {
        step.live
            .as_ref()
            .and_then(|l| RouteResponseProperties::from_properties(&l.properties, &step.id).ok())
            .and_then(|r| r.route_id.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    match step.id.kind.as_str() {
        kind::WEBSOCKET_API => deleted(
            client.delete_api().api_id(&id).send().await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}",
            &resource,
        ),
        kind::WEBSOCKET_INTEGRATION => deleted(
            client
                .delete_integration()
                .api_id(api_id)
                .integration_id(&id)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}/integrations",
            &resource,
        ),
        kind::WEBSOCKET_AUTHORIZER => deleted(
            client
                .delete_authorizer()
                .api_id(api_id)
                .authorizer_id(&id)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}/authorizers",
            &resource,
        ),
        kind::WEBSOCKET_ROUTE => deleted(
            client
                .delete_route()
                .api_id(api_id)
                .route_id(&id)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}/routes",
            &resource,
        ),
        kind::WEBSOCKET_ROUTE_RESPONSE => deleted(
            client
                .delete_route_response()
                .api_id(api_id)
                .route_id(live_route())
                .route_response_id(&id)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}/routes/{id}/routeresponses",
            &resource,
        ),
        kind::WEBSOCKET_DEPLOYMENT => deleted(
            client
                .delete_deployment()
                .api_id(api_id)
                .deployment_id(&id)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}/deployments",
            &resource,
        ),
        kind::WEBSOCKET_STAGE => deleted(
            client
                .delete_stage()
                .api_id(api_id)
                .stage_name(&step.id.name)
                .send()
                .await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}/stages",
            &resource,
        ),
        _ => Ok(()),
    }
}

/// The API a resource of the WebSocket API belongs to (empty for the API itself).
fn parent_api(properties: &Properties, id: &ResourceId) -> Result<String, ProviderError> {
    let api_id = match id.kind.as_str() {
        kind::WEBSOCKET_INTEGRATION => {
            IntegrationProperties::from_properties(properties, id)?.api_id
        }
        kind::WEBSOCKET_AUTHORIZER => AuthorizerProperties::from_properties(properties, id)?.api_id,
        kind::WEBSOCKET_ROUTE => RouteProperties::from_properties(properties, id)?.api_id,
        kind::WEBSOCKET_ROUTE_RESPONSE => {
            RouteResponseProperties::from_properties(properties, id)?.api_id
        }
        kind::WEBSOCKET_DEPLOYMENT => DeploymentProperties::from_properties(properties, id)?.api_id,
        kind::WEBSOCKET_STAGE => StageProperties::from_properties(properties, id)?.api_id,
        _ => Json::Null,
    };
    Ok(api_id.as_str().unwrap_or_default().to_string())
}

crate::provider::aws::triggers::api_gateway_retag!(
    Client,
    "apigateway:POST /tags",
    "apigateway:DELETE /tags"
);
