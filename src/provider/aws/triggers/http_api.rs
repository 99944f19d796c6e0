//! `httpApi` events: one API Gateway HTTP API per service and stage, named `{stage}-{service}`
//! as the Framework names it, with one Lambda proxy integration per function (payload format
//! `2.0` unless `provider.httpApi.payload` or the function's `httpApi.payload` says `1.0`), one
//! route per event (`GET /path`, `*` as the `$default` route), the `$default` stage with
//! auto-deploy, CORS from `provider.httpApi.cors` and JWT authorizers from
//! `provider.httpApi.authorizers`.
//!
//! Routes, integrations, authorizers and the stage are resources of their own, so a changed
//! route changes only that route: the API, and so its URL, stays.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{invalid, unsupported_setting, EventContext, FunctionEvent};
use crate::manifest::model::{Trigger, CORS_DEFAULT_HEADERS};
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

mod authorizer;
mod cloud;

pub use cloud::{apply, live};

/// The stage every route is served from.
pub const STAGE: &str = "$default";

/// The statement id of the permission an HTTP API gets on each of its functions.
pub fn statement_id() -> String {
    permission::statement_id("http-api")
}

const ALL_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "OPTIONS", "HEAD", "DELETE"];

pub fn api_name(context: &Context<'_>) -> String {
    context
        .service
        .provider
        .http_api
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}", context.stage, context.service.name))
}

/// The HTTP API's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpApiProperties {
    pub name: String,
    /// `HTTP`.
    pub protocol_type: Option<String>,
    /// Normalised CORS settings, null when none.
    pub cors: Json,
    pub disable_execute_api_endpoint: bool,
    pub tags: BTreeMap<String, String>,
}

impl Typed for HttpApiProperties {}

/// An integration of the HTTP API with a function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationProperties {
    /// The API's id; a reference to the API until apply.
    pub api_id: Json,
    /// `AWS_PROXY`.
    pub integration_type: Option<String>,
    /// The function's ARN; a reference to it until apply.
    pub integration_uri: Json,
    /// `2.0` or `1.0`.
    pub payload_format_version: Option<String>,
}

impl Typed for IntegrationProperties {}

/// A JWT authorizer of the HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizerProperties {
    pub api_id: Json,
    pub name: String,
    /// `JWT`.
    pub authorizer_type: Option<String>,
    /// A list of identity sources.
    pub identity_source: Json,
    /// `{"audience": [...], "issuer": "..."}`; null for a Lambda authorizer.
    pub jwt_configuration: Json,
    /// A Lambda authorizer's function (a reference until apply); null for JWT.
    #[serde(default)]
    pub function_arn: Json,
    #[serde(default)]
    pub result_ttl_in_seconds: Option<i64>,
    #[serde(default)]
    pub enable_simple_responses: Option<bool>,
    /// A Lambda authorizer's payload version, `2.0` or `1.0`.
    #[serde(default)]
    pub payload_format_version: Option<String>,
}

impl Typed for AuthorizerProperties {}

/// A route of the HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteProperties {
    pub api_id: Json,
    /// `GET /users/{id}`, `$default`.
    pub route_key: String,
    /// The integration's id; a reference to it until apply.
    pub integration_id: Json,
    /// `NONE`, `JWT`, `AWS_IAM`.
    pub authorization_type: String,
    /// The authorizer's id (a reference until apply), null when none.
    pub authorizer_id: Json,
    /// A list of scopes, null when none.
    pub authorization_scopes: Json,
}

impl Typed for RouteProperties {}

/// The auto-deployed stage of the HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageProperties {
    pub api_id: Json,
    pub stage_name: String,
    pub auto_deploy: bool,
    pub tags: BTreeMap<String, String>,
}

impl Typed for StageProperties {}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let Some(first) = events.first() else {
        return Ok(Vec::new());
    };
    let settings = &context.service.provider.http_api;
    if settings.id.is_some() {
        return Err(unsupported_setting(
            first.function,
            first.event,
            "provider.httpApi.id",
            "updraft creates the service's own HTTP API; remove `provider.httpApi.id`",
        ));
    }
    let api = naming::id(kind::HTTP_API, api_name(context));
    let api_id = Reference::new(api.clone(), "id").to_json();
    let authorizers = authorizer::authorizers(context, first, &api, &api_id)?;
    let mut resources = Vec::new();
    let mut methods: Vec<String> = vec!["OPTIONS".to_string()];
    let mut routes: BTreeSet<String> = BTreeSet::new();
    let mut integrations: BTreeMap<String, ResourceId> = BTreeMap::new();
    for FunctionEvent {
        function, event, ..
    } in events
    {
        let Trigger::Http(http) = &event.trigger else {
            continue;
        };
        let route_key = if http.path == "*" {
            "$default".to_string()
        } else {
            format!("{} {}", http.method, http.path)
        };
        if !routes.insert(route_key.clone()) {
            return Err(invalid(
                function,
                event,
                format!("the route `{route_key}` is defined twice"),
                "give each httpApi event its own method and path",
            ));
        }
        if http.method == "ANY" {
            methods.extend(ALL_METHODS.iter().map(|m| m.to_string()));
        } else {
            methods.push(http.method.clone());
        }
        let function_id = context.function_id(function)?;
        let integration = match integrations.get(&function.key) {
            Some(existing) => existing.clone(),
            None => {
                let payload = function
                    .raw
                    .get("httpApi")
                    .and_then(|h| h.get("payload"))
                    .and_then(Json::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| settings.payload.clone());
                let integration = naming::id(kind::HTTP_API_INTEGRATION, &function_id.name);
                resources.push(Desired {
                    id: integration.clone(),
                    properties: IntegrationProperties {
                        api_id: api_id.clone(),
                        integration_type: Some("AWS_PROXY".to_string()),
                        integration_uri: context.function_arn(function)?,
                        payload_format_version: Some(payload),
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
                integration
            }
        };
        let (authorization_type, authorizer, scopes) = match &http.authorizer {
            None => ("NONE", None, Json::Null),
            Some(setting) => authorizer::route_authorizer(setting, &authorizers.resources)
                .map_err(|message| invalid(function, event, message, authorizer::HELP))?,
        };
        let mut depends_on = BTreeSet::from([api.clone(), integration.clone()]);
        depends_on.extend(authorizer.clone());
        resources.push(Desired {
            id: naming::id(kind::HTTP_API_ROUTE, &route_key),
            properties: RouteProperties {
                api_id: api_id.clone(),
                route_key: route_key.clone(),
                integration_id: Reference::new(integration, "id").to_json(),
                authorization_type: authorization_type.to_string(),
                authorizer_id: authorizer
                    .map(|a| Reference::new(a, "id").to_json())
                    .unwrap_or(Json::Null),
                authorization_scopes: scopes,
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::from(["api_id".to_string()]),
        });
    }
    let cors = settings
        .cors
        .as_ref()
        .map(|setting| cors(setting, &methods));
    resources.push(Desired {
        id: api.clone(),
        properties: HttpApiProperties {
            name: api.name.clone(),
            protocol_type: Some("HTTP".to_string()),
            cors: cors.unwrap_or(Json::Null),
            disable_execute_api_endpoint: settings.disable_default_endpoint,
            tags: context.tags.clone(),
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on: BTreeSet::new(),
        replace_when: BTreeSet::from(["protocol_type".to_string()]),
    });
    resources.push(Desired {
        id: naming::id(kind::HTTP_API_STAGE, STAGE),
        properties: StageProperties {
            api_id: api_id.clone(),
            stage_name: STAGE.to_string(),
            auto_deploy: true,
            tags: context.tags.clone(),
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on: BTreeSet::from([api.clone()]),
        replace_when: BTreeSet::from(["api_id".to_string()]),
    });
    resources.extend(
        authorizers
            .resources
            .into_values()
            .map(|(desired, _)| desired),
    );
    resources.extend(authorizers.permissions);
    Ok(resources)
}

/// The API's CORS configuration: `true` gives the Framework's defaults (any origin, the
/// common headers, the methods of the routes plus `OPTIONS`).
fn cors(setting: &Json, route_methods: &[String]) -> Json {
    let list = |key: &str| match setting.get(key) {
        Some(Json::Array(items)) => Some(
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>(),
        ),
        Some(Json::String(item)) => Some(vec![item.clone()]),
        _ => None,
    };
    let defaults = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    let origins = list("allowedOrigins").unwrap_or_else(|| vec!["*".to_string()]);
    let headers = list("allowedHeaders").unwrap_or_else(|| defaults(CORS_DEFAULT_HEADERS));
    let methods = list("allowedMethods").unwrap_or_else(|| route_methods.to_vec());
    normalize_cors(&json!({
        "allow_origins": origins,
        "allow_headers": headers,
        "allow_methods": methods,
        "allow_credentials": setting.get("allowCredentials").and_then(Json::as_bool).unwrap_or(false),
        "expose_headers": list("exposedResponseHeaders").unwrap_or_default(),
        "max_age": setting.get("maxAge").cloned().unwrap_or(Json::Null),
    }))
}

/// One spelling of a CORS configuration for both sides of the comparison: lists sorted and
/// without repeats, header names in lower case (API Gateway matches them without case).
pub fn normalize_cors(cors: &Json) -> Json {
    let list = |key: &str, lower: bool| {
        let mut items: Vec<String> = cors
            .get(key)
            .and_then(Json::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(|i| {
                        if lower {
                            i.to_ascii_lowercase()
                        } else {
                            i.to_string()
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        items.sort();
        items.dedup();
        json!(items)
    };
    json!({
        "allow_origins": list("allow_origins", false),
        "allow_headers": list("allow_headers", true),
        "allow_methods": list("allow_methods", false),
        "allow_credentials": cors.get("allow_credentials").and_then(Json::as_bool).unwrap_or(false),
        "expose_headers": list("expose_headers", true),
        "max_age": cors.get("max_age").and_then(Json::as_i64).filter(|age| *age > 0),
    })
}

#[cfg(test)]
mod tests;
