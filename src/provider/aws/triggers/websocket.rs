//! `websocket` events: one API Gateway WebSocket API per service and stage, named by
//! `provider.websocketsApiName` or `{stage}-{service}-websockets` as the Framework names it,
//! routing by `provider.websocketsApiRouteSelectionExpression` (`$request.body.action` unless
//! set). Each function gets one Lambda proxy integration and the permission API Gateway needs
//! to call it; each event is one route (`$connect`, `$disconnect`, `$default` or a custom route
//! key), with a `$default` route response when it sets `routeResponseSelectionExpression`. A
//! `$connect` route may name a Lambda `REQUEST` authorizer: a function of the service (which
//! then gets its own permission) or any function by `arn`.
//!
//! A WebSocket API serves what was deployed, not what it holds (stages of WebSocket APIs do not
//! deploy by themselves), so, as for the REST API, the deployment carries a hash of the routes,
//! their integrations and authorizers (`routes_hash`): it is made again only when those changed,
//! and then the stage, named after the stage, moves to it. The API, and so its URL, stays.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{invalid, unsupported_setting, EventContext, FunctionEvent};
use crate::manifest::model::events::{WebsocketRoute, DEFAULT_WEBSOCKET_ROUTE_SELECTION};
use crate::manifest::model::{Event, Function};
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

mod authorizer;
mod cloud;
mod read;

pub use cloud::apply;
pub use read::live;

/// The route an authorizer may sit on: API Gateway calls authorizers when a client connects.
pub const CONNECT: &str = "$connect";

/// Where a Lambda authorizer reads the caller's identity unless the event says otherwise.
pub const DEFAULT_IDENTITY_SOURCE: &str = "route.request.header.Auth";

pub const DEFAULT_ROUTE_SELECTION: &str = DEFAULT_WEBSOCKET_ROUTE_SELECTION;

pub const DEFAULT_DESCRIPTION: &str = "Serverless Websockets";

/// The statement id of the permission the WebSocket API gets on each of its functions.
pub fn statement_id() -> String {
    permission::statement_id("websocket-api")
}

/// The statement id of the permission a Lambda authorizer's function gets.
pub fn authorizer_statement_id(name: &str) -> String {
    permission::statement_id(&format!("websocket-authorizer-{name}"))
}

/// The WebSocket API's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebsocketApiProperties {
    pub name: String,
    /// `WEBSOCKET`.
    pub protocol_type: Option<String>,
    pub route_selection_expression: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Typed for WebsocketApiProperties {}

/// A Lambda proxy integration of the API with one function. API Gateway takes the function as
/// an invocation URI (`arn:...:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/
/// invocations`), made from the ARN when applied and read back into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationProperties {
    /// The API's id; a reference to the API until apply.
    pub api_id: Json,
    /// `AWS_PROXY`.
    pub integration_type: Option<String>,
    /// The function's ARN; a reference to it until apply.
    pub function_arn: Json,
}

impl Typed for IntegrationProperties {}

/// A Lambda `REQUEST` authorizer of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizerProperties {
    pub api_id: Json,
    pub name: String,
    /// `REQUEST`.
    pub authorizer_type: Option<String>,
    /// `route.request.header.Auth`, `route.request.querystring.token`...
    pub identity_source: Vec<String>,
    /// The authorizer function's ARN; a reference until apply for a function of the service.
    pub function_arn: Json,
}

impl Typed for AuthorizerProperties {}

/// A route of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteProperties {
    pub api_id: Json,
    /// `$connect`, `$disconnect`, `$default` or a custom key (`sendMessage`).
    pub route_key: String,
    /// The integration's id; a reference to it until apply.
    pub integration_id: Json,
    /// `NONE` or `CUSTOM` (a Lambda authorizer).
    pub authorization_type: String,
    /// The authorizer's id (a reference until apply), null when none.
    pub authorizer_id: Json,
    /// Null when the route sends no responses.
    pub route_response_selection_expression: Option<String>,
}

impl Typed for RouteProperties {}

/// The `$default` response of a route that sends responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteResponseProperties {
    pub api_id: Json,
    /// The route's id; a reference until apply.
    pub route_id: Json,
    pub route_response_key: String,
}

impl Typed for RouteResponseProperties {}

/// What the stage serves: redone only when the routes, their integrations or authorizers change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentProperties {
    pub api_id: Json,
    pub routes_hash: Option<String>,
}

impl Typed for DeploymentProperties {}

/// The stage, named after the service's stage, serving the deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageProperties {
    pub api_id: Json,
    pub stage_name: String,
    /// The deployment's id; a reference until apply.
    pub deployment_id: Json,
    pub tags: BTreeMap<String, String>,
}

impl Typed for StageProperties {}

pub fn api_name(context: &Context<'_>) -> String {
    provider_text(context, "websocketsApiName")
        .unwrap_or_else(|| format!("{}-{}-websockets", context.stage, context.service.name))
}

fn provider_text(context: &Context<'_>, key: &str) -> Option<String> {
    context
        .service
        .provider
        .raw
        .get(key)
        .and_then(Json::as_str)
        .map(str::to_string)
}

fn route_setting(function: &Function, event: &Event) -> Result<WebsocketRoute, ProviderError> {
    let setting = event.websocket_route().unwrap_or(WebsocketRoute {
        route_key: String::new(),
        response_selection: None,
        authorizer: None,
    });
    if setting.route_key.trim().is_empty() {
        return Err(invalid(
            function,
            event,
            "no route is given".to_string(),
            "write `websocket: $connect`, or `websocket: {route: sendMessage}`",
        ));
    }
    Ok(setting)
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let Some(first) = events.first() else {
        return Ok(Vec::new());
    };
    refuse_provider_settings(context, first)?;
    let api = naming::id(kind::WEBSOCKET_API, api_name(context));
    let api_id = Reference::new(api.clone(), "id").to_json();
    let mut resources = Vec::new();
    let mut authorizers = authorizer::Authorizers::default();
    let mut integrations: BTreeMap<String, ResourceId> = BTreeMap::new();
    let mut routes: BTreeMap<String, ResourceId> = BTreeMap::new();
    let mut served: BTreeSet<ResourceId> = BTreeSet::from([api.clone()]);
    let mut shape: Vec<Json> = Vec::new();
    for function_event in events {
        let FunctionEvent {
            function, event, ..
        } = function_event;
        let setting = route_setting(function, event)?;
        let route_key = setting.route_key.clone();
        if routes.contains_key(&route_key) {
            return Err(invalid(
                function,
                event,
                format!("the route `{route_key}` is defined twice"),
                "give each websocket event its own route",
            ));
        }
        let function_id = context.function_id(function)?;
        let integration = match integrations.get(&function.key) {
            Some(existing) => existing.clone(),
            None => {
                let integration = naming::id(kind::WEBSOCKET_INTEGRATION, &function_id.name);
                resources.push(Desired {
                    id: integration.clone(),
                    properties: IntegrationProperties {
                        api_id: api_id.clone(),
                        integration_type: Some("AWS_PROXY".to_string()),
                        function_arn: context.function_arn(function)?,
                    }
                    .to_properties(),
                    inputs: Properties::new(),
                    depends_on: BTreeSet::from([api.clone(), function_id.clone()]),
                    replace_when: BTreeSet::from(["api_id".to_string()]),
                });
                resources.push(permission::desired(Grant {
                    function: function_id.clone(),
                    statement_id: statement_id(),
                    principal: "apigateway.amazonaws.com".into(),
                    source_arn: Reference::new(api.clone(), "source_arn").to_json(),
                    source: Some(api.clone()),
                }));
                integrations.insert(function.key.clone(), integration.clone());
                served.insert(integration.clone());
                integration
            }
        };
        let authorizer = match &setting.authorizer {
            None => None,
            Some(_) if route_key != CONNECT => {
                return Err(invalid(
                    function,
                    event,
                    format!(
                        "an authorizer is set on the route `{route_key}`; API Gateway runs \
                         authorizers only when a client connects"
                    ),
                    "move the authorizer to the `$connect` route's event, or remove it",
                ))
            }
            Some(value) => {
                Some(authorizers.attach(context, function_event, value, &api, &api_id)?)
            }
        };
        let route = naming::id(kind::WEBSOCKET_ROUTE, &route_key);
        let mut depends_on = BTreeSet::from([api.clone(), integration.clone()]);
        depends_on.extend(authorizer.clone());
        resources.push(Desired {
            id: route.clone(),
            properties: RouteProperties {
                api_id: api_id.clone(),
                route_key: route_key.clone(),
                integration_id: Reference::new(integration, "id").to_json(),
                authorization_type: match authorizer {
                    Some(_) => "CUSTOM",
                    None => "NONE",
                }
                .to_string(),
                authorizer_id: authorizer
                    .as_ref()
                    .map(|a| Reference::new(a.clone(), "id").to_json())
                    .unwrap_or(Json::Null),
                route_response_selection_expression: setting.response_selection.clone(),
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on,
            // API Gateway cannot take a route's response selection off again in place.
            replace_when: BTreeSet::from([
                "api_id".to_string(),
                "route_key".to_string(),
                "route_response_selection_expression".to_string(),
            ]),
        });
        served.insert(route.clone());
        if setting.response_selection.is_some() {
            let response = naming::id(kind::WEBSOCKET_ROUTE_RESPONSE, &route_key);
            resources.push(Desired {
                id: response.clone(),
                properties: RouteResponseProperties {
                    api_id: api_id.clone(),
                    route_id: Reference::new(route.clone(), "id").to_json(),
                    route_response_key: "$default".to_string(),
                }
                .to_properties(),
                inputs: Properties::new(),
                depends_on: BTreeSet::from([api.clone(), route.clone()]),
                replace_when: BTreeSet::from([
                    "api_id".to_string(),
                    "route_id".to_string(),
                    "route_response_key".to_string(),
                ]),
            });
            served.insert(response);
        }
        shape.push(json!([
            route_key,
            function_id.name,
            setting.response_selection,
            authorizer.map(|a| a.name),
        ]));
        routes.insert(route_key, route);
    }
    // A deployment serves the authorizers' settings too: a changed one is deployed again.
    for desired in authorizers.resources.values() {
        shape.push(json!(desired.properties));
        served.insert(desired.id.clone());
    }
    resources.extend(authorizers.resources.into_values());
    resources.extend(authorizers.permissions);
    resources.push(Desired {
        id: api.clone(),
        properties: WebsocketApiProperties {
            name: api.name.clone(),
            protocol_type: Some("WEBSOCKET".to_string()),
            route_selection_expression: provider_text(
                context,
                "websocketsApiRouteSelectionExpression",
            )
            .unwrap_or_else(|| DEFAULT_ROUTE_SELECTION.to_string()),
            description: Some(
                provider_text(context, "websocketsDescription")
                    .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_string()),
            ),
            tags: context.tags.clone(),
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on: BTreeSet::new(),
        replace_when: BTreeSet::from(["protocol_type".to_string()]),
    });
    let deployment = naming::id(kind::WEBSOCKET_DEPLOYMENT, &context.stage);
    resources.push(Desired {
        id: deployment.clone(),
        properties: DeploymentProperties {
            api_id: api_id.clone(),
            routes_hash: Some(super::rest_api::routes_hash(&shape)),
        }
        .to_properties(),
        // The routes the deployment serves: any other is deleted before it is made.
        inputs: Properties::from([(
            "routes".to_string(),
            json!(routes.keys().collect::<Vec<_>>()),
        )]),
        depends_on: served,
        replace_when: BTreeSet::from(["api_id".to_string(), "routes_hash".to_string()]),
    });
    resources.push(Desired {
        id: naming::id(kind::WEBSOCKET_STAGE, &context.stage),
        properties: StageProperties {
            api_id,
            stage_name: context.stage.clone(),
            deployment_id: Reference::new(deployment.clone(), "id").to_json(),
            tags: context.tags.clone(),
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on: BTreeSet::from([api, deployment]),
        replace_when: BTreeSet::from(["api_id".to_string(), "stage_name".to_string()]),
    });
    Ok(resources)
}

/// Refuses the provider settings of WebSocket APIs updraft does not deploy, before anything
/// changes.
fn refuse_provider_settings(
    context: &Context<'_>,
    first: &FunctionEvent,
) -> Result<(), ProviderError> {
    let provider = &context.service.provider;
    if provider
        .api_gateway
        .as_ref()
        .and_then(|g| g.get("websocketApiId"))
        .is_some()
    {
        return Err(unsupported_setting(
            first.function,
            first.event,
            "provider.apiGateway.websocketApiId",
            "updraft creates and owns the service's WebSocket API, and does not add routes to \
             an API another service owns; remove `provider.apiGateway.websocketApiId`",
        ));
    }
    let logs = provider.raw.get("logs").and_then(|l| l.get("websocket"));
    if logs.is_some_and(|l| !l.is_null() && l != &json!(false)) {
        return Err(unsupported_setting(
            first.function,
            first.event,
            "provider.logs.websocket",
            "updraft does not set up the WebSocket API's execution or access logs yet; remove \
             `provider.logs.websocket`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
