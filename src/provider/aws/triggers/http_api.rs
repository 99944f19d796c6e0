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
    /// `{"audience": [...], "issuer": "..."}`.
    pub jwt_configuration: Json,
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
    let authorizers = authorizers(context, first, &api, &api_id)?;
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
            Some(setting) => route_authorizer(setting, &authorizers)
                .map_err(|message| invalid(function, event, message, AUTHORIZER_HELP))?,
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
    resources.extend(authorizers.into_values().map(|(desired, _)| desired));
    Ok(resources)
}

const AUTHORIZER_HELP: &str = "name a JWT authorizer defined under provider.httpApi.authorizers \
     (`authorizer: {name: NAME, scopes: [...]}`), or use `type: aws_iam`";

/// The route's authorization type, authorizer and scopes.
fn route_authorizer(
    setting: &Json,
    authorizers: &BTreeMap<String, (Desired, ResourceId)>,
) -> Result<(&'static str, Option<ResourceId>, Json), String> {
    let (name, kind, scopes) = match setting {
        Json::String(name) => (Some(name.as_str()), None, None),
        Json::Object(map) => {
            if map.contains_key("id") {
                return Err("an authorizer `id` refers to another API's authorizer".into());
            }
            (
                map.get("name").and_then(Json::as_str),
                map.get("type").and_then(Json::as_str),
                map.get("scopes").cloned(),
            )
        }
        other => {
            return Err(format!(
                "the authorizer {other} is neither a name nor a map"
            ))
        }
    };
    match kind.map(str::to_ascii_lowercase).as_deref() {
        Some("aws_iam") => return Ok(("AWS_IAM", None, Json::Null)),
        Some("request") => {
            return Err("Lambda request authorizers are not supported yet".into());
        }
        _ => {}
    }
    let Some(name) = name else {
        return Err("the authorizer has no `name`".into());
    };
    let Some((_, id)) = authorizers.get(name) else {
        return Err(format!(
            "the authorizer `{name}` is not defined under provider.httpApi.authorizers"
        ));
    };
    let scopes = match scopes {
        Some(Json::Array(items)) if !items.is_empty() => Json::Array(items),
        Some(Json::String(scope)) => json!([scope]),
        _ => Json::Null,
    };
    Ok(("JWT", Some(id.clone()), scopes))
}

/// The JWT authorizers of `provider.httpApi.authorizers`, by name.
fn authorizers(
    context: &Context<'_>,
    first: &FunctionEvent,
    api: &ResourceId,
    api_id: &Json,
) -> Result<BTreeMap<String, (Desired, ResourceId)>, ProviderError> {
    let mut found = BTreeMap::new();
    for (key, setting) in &context.service.provider.http_api.authorizers {
        let kind_setting = setting.get("type").and_then(Json::as_str).unwrap_or("jwt");
        if !kind_setting.eq_ignore_ascii_case("jwt") {
            return Err(unsupported_setting(
                first.function,
                first.event,
                &format!("provider.httpApi.authorizers.{key}.type: {kind_setting}"),
                "updraft deploys JWT authorizers; Lambda request authorizers are not supported yet",
            ));
        }
        let name = setting
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or(key)
            .to_string();
        let identity_source = match setting.get("identitySource") {
            Some(Json::Array(items)) => Json::Array(items.clone()),
            Some(Json::String(source)) => json!([source]),
            _ => json!(["$request.header.Authorization"]),
        };
        let audience = match setting.get("audience") {
            Some(Json::Array(items)) => Json::Array(items.clone()),
            Some(Json::String(audience)) => json!([audience]),
            _ => json!([]),
        };
        let issuer = setting.get("issuerUrl").cloned().unwrap_or(Json::Null);
        let id = naming::id(kind::HTTP_API_AUTHORIZER, &name);
        let desired = Desired {
            id: id.clone(),
            properties: AuthorizerProperties {
                api_id: api_id.clone(),
                name: name.clone(),
                authorizer_type: Some("JWT".to_string()),
                identity_source,
                jwt_configuration: json!({"audience": audience, "issuer": issuer}),
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on: BTreeSet::from([api.clone()]),
            replace_when: BTreeSet::from(["api_id".to_string()]),
        };
        found.insert(key.clone(), (desired, id));
    }
    Ok(found)
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
