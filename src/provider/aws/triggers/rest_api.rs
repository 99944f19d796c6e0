//! `http` events: one API Gateway REST API per service and stage, named `{stage}-{service}` as
//! the Framework names it; a resource per path segment, a method per event with a Lambda proxy
//! (`AWS_PROXY`) integration, an `OPTIONS` method answering the CORS preflight on every path
//! with `cors` set, and a deployment served by the stage named after the stage.
//!
//! A REST API serves what was deployed, not what it holds, so the deployment carries a hash of
//! the routes (`routes_hash`): it is deployed again only when the routes changed, and then the
//! stage moves to the new deployment. The API itself stays, and so does its URL.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{invalid, settings, unsupported_setting, EventContext, FunctionEvent};
use crate::manifest::model::{Trigger, CORS_DEFAULT_HEADERS};
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

mod api_keys;
mod authorizer;
mod cloud;
mod lambda_integration;
mod read;
pub mod shared;
mod validation;
mod validation_apply;

pub use authorizer::AuthorizerProperties;
pub use validation::{ModelProperties, ValidatorProperties};

/// The REST API's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestApiProperties {
    pub name: String,
    /// `EDGE`, `REGIONAL` or `PRIVATE`.
    pub endpoint_type: Json,
    pub tags: BTreeMap<String, String>,
    /// `provider.apiGateway.binaryMediaTypes`, sorted.
    #[serde(default)]
    pub binary_media_types: Vec<String>,
    /// `provider.apiGateway.minimumCompressionSize` (bytes), none when off.
    #[serde(default)]
    pub minimum_compression_size: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
}

impl Typed for RestApiProperties {}

/// The `provider.apiGateway` settings updraft deploys; any other is refused.
const GATEWAY_SETTINGS: &[&str] = &[
    "binaryMediaTypes",
    "minimumCompressionSize",
    "description",
    "shouldStartNameWithService",
    "request",
    "apiKeys",
    "usagePlan",
    "restApiId",
    "restApiRootResourceId",
    "restApiResources",
];

/// `provider.apiGateway` settings of the API itself: its owner's to set, not a service's that
/// deploys into a shared one.
const OWNER_SETTINGS: &[&str] = &[
    "binaryMediaTypes",
    "minimumCompressionSize",
    "description",
    "apiKeys",
    "usagePlan",
    "request",
];

/// A resource (a path part) of the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceProperties {
    /// The API's id; a reference to it until apply.
    pub rest_api_id: Json,
    /// The parent resource's id; a reference until apply.
    pub parent_id: Json,
    pub path_part: Json,
}

impl Typed for ResourceProperties {}

/// A method of a resource, with its integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodProperties {
    pub rest_api_id: Json,
    pub resource_id: Json,
    pub http_method: String,
    pub authorization_type: String,
    /// `{"type": "AWS_PROXY", "function_arn": ...}` or the CORS preflight's
    /// `{"type": "MOCK", "response_headers": {...}}`; null when none.
    pub integration: Json,
    /// `request.parameters`: `method.request.querystring.name` (or `.header.`, `.path.`) to
    /// whether it is required.
    #[serde(default)]
    pub request_parameters: BTreeMap<String, bool>,
    /// The authorizer's id (a reference to it until apply), null when none.
    #[serde(default)]
    pub authorizer_id: Json,
    /// OAuth scopes a Cognito authorizer checks.
    #[serde(default)]
    pub authorization_scopes: Vec<String>,
    /// `request.schemas`: content type to model name.
    #[serde(default)]
    pub request_models: BTreeMap<String, String>,
    /// The request validator's id (a reference until apply), null when none.
    #[serde(default)]
    pub request_validator_id: Json,
    /// `private: true`: callers give an API key.
    #[serde(default)]
    pub api_key_required: bool,
}

impl Typed for MethodProperties {}

/// The stage's deployment: redone only when the routes change (their hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentProperties {
    pub rest_api_id: Json,
    pub stage_name: String,
    pub routes_hash: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The stage is in an API the service shares (see [`shared`]): never deleted.
    #[serde(default)]
    pub shared: bool,
}

impl Typed for DeploymentProperties {}

pub use api_keys::apply as apply_api_keys;
pub use cloud::apply;
pub use read::live;

/// The settings of an `http` event updraft deploys; any other is refused.
const SUPPORTED: &[&str] = &[
    "path",
    "method",
    "cors",
    "integration",
    "request",
    "authorizer",
    "private",
];

/// Settings of an http event's `request` that updraft does not deploy yet (other keys are not
/// the Framework's, which it ignores too).
const UNSUPPORTED_REQUEST: &[&str] = &["contentHandling", "uri", "method"];

/// Settings of `request` that shape a lambda integration's request, and mean nothing to a
/// proxy integration.
const LAMBDA_REQUEST: &[&str] = &["template", "passThrough"];

pub fn statement_id() -> String {
    permission::statement_id("rest-api")
}

pub fn api_name(context: &Context<'_>) -> String {
    let provider = &context.service.provider;
    let service_first = provider
        .api_gateway
        .as_ref()
        .and_then(|g| g.get("shouldStartNameWithService"))
        .and_then(Json::as_bool)
        == Some(true);
    provider
        .raw
        .get("apiName")
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| match service_first {
            true => format!("{}-{}", context.service.name, context.stage),
            false => format!("{}-{}", context.stage, context.service.name),
        })
}

/// `/users/{id}` -> `users`, `users/{id}`.
fn segments(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    (1..=parts.len())
        .map(|n| format!("/{}", parts[..n].join("/")))
        .collect()
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let Some(first) = events.first() else {
        return Ok(Vec::new());
    };
    let gateway = context.service.provider.api_gateway.as_ref();
    if let Some(setting) = gateway
        .and_then(Json::as_object)
        .and_then(|g| g.keys().find(|k| !GATEWAY_SETTINGS.contains(&k.as_str())))
    {
        return Err(unsupported_setting(
            first.function,
            first.event,
            &format!("provider.apiGateway.{setting}"),
            "updraft creates the service's own REST API with `binaryMediaTypes`, \
             `minimumCompressionSize`, `description`, `request.schemas`, `apiKeys`, `usagePlan` and `shouldStartNameWithService`; remove \
             this setting or deploy with the Serverless Framework",
        ));
    }
    let gateway_text = |key: &str| {
        gateway
            .and_then(|g| g.get(key))
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    let mut binary_media_types: Vec<String> = gateway
        .and_then(|g| g.get("binaryMediaTypes"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect();
    binary_media_types.sort();
    binary_media_types.dedup();
    let minimum_compression_size = gateway
        .and_then(|g| g.get("minimumCompressionSize"))
        .and_then(Json::as_i64);
    let endpoint_type = context
        .service
        .provider
        .raw
        .get("endpointType")
        .and_then(Json::as_str)
        .unwrap_or("edge")
        .to_ascii_uppercase();
    if endpoint_type == "PRIVATE" {
        return Err(unsupported_setting(
            first.function,
            first.event,
            "provider.endpointType: private",
            "updraft deploys edge and regional REST APIs",
        ));
    }
    let shared = shared::settings(context).map_err(|message| {
        invalid(
            first.function,
            first.event,
            message,
            "see `provider.apiGateway.restApiId` in docs/deploy.md",
        )
    })?;
    if let Some(setting) = shared.as_ref().and_then(|_| {
        OWNER_SETTINGS
            .iter()
            .find(|key| gateway.and_then(|g| g.get(**key)).is_some())
    }) {
        return Err(unsupported_setting(
            first.function,
            first.event,
            &format!("provider.apiGateway.{setting}"),
            "a service that deploys into a shared REST API (`restApiId`) leaves the API's own \
             settings to the service that creates it: set it there",
        ));
    }
    let existing = shared
        .as_ref()
        .map(|s| s.resources.clone())
        .unwrap_or_default();
    let api = match &shared {
        Some(shared) => shared::id_of(shared),
        None => naming::id(kind::REST_API, api_name(context)),
    };
    // In a shared API the id is known: the deploy state records what the service owns by it.
    let api_id = match &shared {
        Some(shared) => json!(shared.id),
        None => Reference::new(api.clone(), "id").to_json(),
    };
    let root = Reference::new(api.clone(), "root_resource_id").to_json();
    let mut resources = Vec::new();
    let mut paths: BTreeSet<String> = BTreeSet::new();
    let mut methods: BTreeMap<String, Desired> = BTreeMap::new();
    // Path -> (CORS settings, the methods on the path).
    let mut preflights: BTreeMap<String, (Json, Vec<String>)> = BTreeMap::new();
    let mut permitted: BTreeSet<String> = BTreeSet::new();
    let mut shape: Vec<Json> = Vec::new();
    let mut authorizers = authorizer::Authorizers::default();
    let mut validation = validation::Validation::default();
    for function_event in events {
        let FunctionEvent {
            function, event, ..
        } = function_event;
        let Trigger::Http(http) = &event.trigger else {
            continue;
        };
        if let Some(setting) =
            settings(event).and_then(|s| s.keys().find(|k| !SUPPORTED.contains(&k.as_str())))
        {
            return Err(unsupported_setting(
                function,
                event,
                setting,
                "updraft deploys an http event's `path`, `method`, `cors` and the lambda-proxy \
                 integration; remove this setting or deploy with the Serverless Framework",
            ));
        }
        let request = settings(event).and_then(|s| s.get("request"));
        if let Some(setting) = UNSUPPORTED_REQUEST
            .iter()
            .find(|key| request.and_then(|r| r.get(**key)).is_some())
        {
            return Err(unsupported_setting(
                function,
                event,
                &format!("request.{setting}"),
                "updraft deploys an http event's `request.parameters`; remove this setting or \
                 deploy with the Serverless Framework",
            ));
        }
        let request_parameters = request_parameters(request.and_then(|r| r.get("parameters")));
        let integration_setting = settings(event)
            .and_then(|s| s.get("integration"))
            .and_then(Json::as_str)
            .unwrap_or("lambda-proxy")
            .to_ascii_lowercase();
        let lambda_integration = match integration_setting.as_str() {
            "lambda-proxy" | "aws_proxy" | "aws-proxy" => false,
            "lambda" | "aws" => true,
            other => {
                return Err(unsupported_setting(
                    function,
                    event,
                    &format!("integration: {other}"),
                    "updraft deploys `lambda-proxy` (the default) and `lambda` integrations",
                ))
            }
        };
        if let Some(setting) = LAMBDA_REQUEST
            .iter()
            .find(|key| request.and_then(|r| r.get(**key)).is_some())
            .filter(|_| !lambda_integration)
        {
            return Err(invalid(
                function,
                event,
                format!("`request.{setting}` applies to `integration: lambda` only"),
                "a lambda-proxy integration passes the request as it is: remove the setting, or \
                 set `integration: lambda`",
            ));
        }
        let path = if http.path == "*" {
            "/".to_string()
        } else {
            http.path.clone()
        };
        for segment in segments(&path) {
            paths.insert(segment);
        }
        let method_name = format!("{} {path}", http.method);
        if methods.contains_key(&method_name) {
            return Err(invalid(
                function,
                event,
                format!("the endpoint `{method_name}` is defined twice"),
                "give each http event its own method and path",
            ));
        }
        let function_id = context.function_id(function)?;
        let authorization = authorizers.attach(context, function_event, &api)?;
        let checks = validation.attach(
            context,
            function_event,
            &api,
            &format!("{} {path}", http.method),
        )?;
        if shared.is_some()
            && (authorization.authorization_type != "NONE" || !checks.validator_id.is_null())
        {
            return Err(unsupported_setting(
                function,
                event,
                "authorizer or request.schemas",
                "updraft deploys authorizers and request models into the service's own REST \
                 API only; remove `provider.apiGateway.restApiId` or the setting",
            ));
        }
        let resource = resource_reference(&api, &path, &existing);
        let mut depends_on = BTreeSet::from([api.clone(), function_id.clone()]);
        depends_on.extend(resource.1.clone());
        depends_on.extend(authorization.authorizer.clone());
        depends_on.extend(checks.depends_on.clone());
        let function_arn = context.function_arn(function)?;
        let (integration, templates) = if lambda_integration {
            let templates =
                lambda_integration::request_templates(request.and_then(|r| r.get("template")));
            let passthrough = lambda_integration::passthrough_behavior(
                request.and_then(|r| r.get("passThrough")),
            )
            .map_err(|message| {
                invalid(
                    function,
                    event,
                    message,
                    "set `passThrough` to NEVER, WHEN_NO_MATCH or WHEN_NO_TEMPLATES",
                )
            })?;
            let headers = lambda_integration::cors_response_headers(http.cors.as_ref());
            (
                lambda_integration::integration(function_arn, &templates, &passthrough, &headers),
                Some(templates),
            )
        } else {
            (
                json!({"type": "AWS_PROXY", "function_arn": function_arn}),
                None,
            )
        };
        let mut proxy = method(
            &method_name,
            &api_id,
            resource.0,
            &http.method,
            integration.clone(),
            depends_on,
        );
        if let Some(templates) = templates {
            proxy
                .inputs
                .insert("request_templates".into(), json!(templates));
        }
        proxy
            .properties
            .insert("request_parameters".into(), json!(request_parameters));
        proxy.properties.insert(
            "authorization_type".into(),
            json!(authorization.authorization_type),
        );
        proxy
            .properties
            .insert("authorizer_id".into(), authorization.authorizer_id());
        proxy
            .properties
            .insert("authorization_scopes".into(), json!(authorization.scopes));
        proxy
            .properties
            .insert("request_models".into(), json!(checks.request_models));
        proxy
            .properties
            .insert("request_validator_id".into(), checks.validator_id.clone());
        let private = settings(event)
            .and_then(|s| s.get("private"))
            .and_then(Json::as_bool)
            == Some(true);
        proxy
            .properties
            .insert("api_key_required".into(), json!(private));
        methods.insert(method_name.clone(), proxy);
        let mut endpoint_shape = json!([method_name, function_id.name, http.cors]);
        if let Json::Array(items) = &mut endpoint_shape {
            if lambda_integration {
                items.push(integration);
            }
            if !checks.request_models.is_empty() {
                items.push(json!(checks.request_models));
            }
            if private {
                items.push(json!("private"));
            }
        }
        // Only what is set joins the shape, so the hash of a deployment without it stays.
        if authorization.authorization_type != "NONE" {
            if let Json::Array(items) = &mut endpoint_shape {
                items.push(authorization.shape());
            }
        }
        shape.push(endpoint_shape);
        if let Some(cors) = &http.cors {
            let entry = preflights
                .entry(path.clone())
                .or_insert_with(|| (cors.clone(), vec!["OPTIONS".to_string()]));
            entry.1.push(http.method.clone());
        }
        if permitted.insert(function_id.name.clone()) {
            resources.push(permission::desired(Grant {
                function: function_id,
                statement_id: statement_id(),
                principal: "apigateway.amazonaws.com".into(),
                source_arn: Reference::new(api.clone(), "source_arn").to_json(),
                source: Some(api.clone()),
            }));
        }
    }
    for (path, (cors, path_methods)) in &preflights {
        let name = format!("OPTIONS {path}");
        if methods.contains_key(&name) {
            continue;
        }
        let headers = preflight_headers(cors, path_methods)
            .map_err(|message| invalid(first.function, first.event, message, "give one origin"))?;
        let resource = resource_reference(&api, path, &existing);
        let mut depends_on = BTreeSet::from([api.clone()]);
        depends_on.extend(resource.1.clone());
        methods.insert(
            name.clone(),
            method(
                &name,
                &api_id,
                resource.0,
                "OPTIONS",
                json!({"type": "MOCK", "response_headers": headers}),
                depends_on,
            ),
        );
    }
    for path in paths.iter().filter(|path| !existing.contains_key(*path)) {
        let (parent_path, part) = match path.rsplit_once('/') {
            Some((parent, part)) => (parent, part),
            None => ("", path.as_str()),
        };
        let parent = if parent_path.is_empty() {
            (root.clone(), None)
        } else {
            resource_reference(&api, parent_path, &existing)
        };
        let mut depends_on = BTreeSet::from([api.clone()]);
        depends_on.extend(parent.1);
        resources.push(Desired {
            id: naming::id(kind::REST_API_RESOURCE, path),
            properties: ResourceProperties {
                rest_api_id: api_id.clone(),
                parent_id: parent.0,
                path_part: json!(part),
            }
            .to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::from([
                "rest_api_id".to_string(),
                "parent_id".to_string(),
                "path_part".to_string(),
            ]),
        });
    }
    let method_ids: BTreeSet<ResourceId> = methods.values().map(|m| m.id.clone()).collect();
    resources.extend(methods.into_values());
    // Binary media types take effect when deployed.
    if !binary_media_types.is_empty() {
        shape.push(json!(["binaryMediaTypes", binary_media_types]));
    }
    // A deployment serves the authorizers' settings too: a changed one is deployed again.
    for desired in authorizers.resources.values() {
        shape.push(json!(desired.properties));
    }
    resources.extend(authorizers.resources.into_values());
    // A changed schema is served once deployed.
    for desired in validation.models.values() {
        shape.push(json!(desired.properties));
    }
    resources.extend(validation.models.into_values());
    resources.extend(validation.validator);
    resources.extend(authorizers.permissions);
    if let Some(shared) = &shared {
        resources.push(shared::desired(&api, shared));
    }
    resources.extend(shared.is_none().then(|| {
        Desired {
            id: api.clone(),
            properties: RestApiProperties {
                name: api.name.clone(),
                endpoint_type: json!(endpoint_type),
                tags: context.tags.clone(),
                binary_media_types,
                minimum_compression_size,
                description: gateway_text("description"),
            }
            .to_properties(),
            inputs: Properties::from([("stage".to_string(), json!(context.stage))]),
            depends_on: BTreeSet::new(),
            replace_when: BTreeSet::from(["endpoint_type".to_string()]),
        }
    }));
    let deployment_id = naming::id(kind::REST_API_DEPLOYMENT, &context.stage);
    resources.extend(
        api_keys::desired(context, &api, &deployment_id).map_err(|message| {
            invalid(
                first.function,
                first.event,
                message,
                "see provider.apiGateway.apiKeys and usagePlan in docs/deploy.md",
            )
        })?,
    );
    let mut depends_on = method_ids;
    depends_on.insert(api.clone());
    let mut properties = DeploymentProperties {
        rest_api_id: api_id,
        stage_name: context.stage.to_string(),
        routes_hash: Some(routes_hash(&shape)),
        tags: context.tags.clone(),
        shared: false,
    }
    .to_properties();
    if shared.is_some() {
        shared::shared_deployment(&mut properties);
    }
    resources.push(Desired {
        id: naming::id(kind::REST_API_DEPLOYMENT, &context.stage),
        properties,
        inputs: Properties::from([(
            "methods".to_string(),
            json!(depends_on
                .iter()
                .filter(|id| id.kind == kind::REST_API_METHOD)
                .map(|id| id.name.clone())
                .collect::<Vec<_>>()),
        )]),
        depends_on,
        replace_when: BTreeSet::from(["rest_api_id".to_string()]),
    });
    Ok(resources)
}

/// `request.parameters` (`querystrings`, `headers`, `paths`, each `name: true|false` or
/// `name: {required: ...}`) as API Gateway's method request parameters.
fn request_parameters(parameters: Option<&Json>) -> BTreeMap<String, bool> {
    let mut found = BTreeMap::new();
    for (group, place) in [
        ("querystrings", "querystring"),
        ("headers", "header"),
        ("paths", "path"),
    ] {
        let entries = parameters
            .and_then(|p| p.get(group))
            .and_then(Json::as_object);
        for (name, value) in entries.into_iter().flatten() {
            let required = match value {
                Json::Bool(required) => *required,
                Json::Object(settings) => settings
                    .get("required")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
                _ => false,
            };
            found.insert(format!("method.request.{place}.{name}"), required);
        }
    }
    found
}

/// The id of the resource at `path` (the API's root for `/`, the given id for a path listed in
/// `restApiResources`) and the resource to wait for.
fn resource_reference(
    api: &ResourceId,
    path: &str,
    existing: &BTreeMap<String, String>,
) -> (Json, Option<ResourceId>) {
    if let Some(id) = existing.get(path) {
        return (json!(id), None);
    }
    if path == "/" || path.is_empty() {
        return (
            Reference::new(api.clone(), "root_resource_id").to_json(),
            None,
        );
    }
    let id = naming::id(kind::REST_API_RESOURCE, path);
    (Reference::new(id.clone(), "id").to_json(), Some(id))
}

fn method(
    name: &str,
    api_id: &Json,
    resource_id: Json,
    http_method: &str,
    integration: Json,
    depends_on: BTreeSet<ResourceId>,
) -> Desired {
    Desired {
        id: naming::id(kind::REST_API_METHOD, name),
        properties: MethodProperties {
            rest_api_id: api_id.clone(),
            resource_id,
            http_method: http_method.to_string(),
            authorization_type: "NONE".to_string(),
            integration,
            request_parameters: BTreeMap::new(),
            authorizer_id: Json::Null,
            authorization_scopes: Vec::new(),
            request_models: BTreeMap::new(),
            request_validator_id: Json::Null,
            api_key_required: false,
        }
        .to_properties(),
        inputs: Properties::new(),
        depends_on,
        replace_when: BTreeSet::from([
            "rest_api_id".to_string(),
            "resource_id".to_string(),
            "http_method".to_string(),
        ]),
    }
}

/// The headers the preflight answers with, as the Framework sets them (values quoted, as API
/// Gateway's response parameters take them).
fn preflight_headers(cors: &Json, methods: &[String]) -> Result<Json, String> {
    let mut origins: Vec<String> = match cors.get("origins").or_else(|| cors.get("origin")) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect(),
        Some(Json::String(origin)) => origin.split(',').map(|o| o.trim().to_string()).collect(),
        _ => vec!["*".to_string()],
    };
    if origins.len() > 1 {
        return Err(format!(
            "several CORS origins ({}) need a response template updraft does not write yet",
            origins.join(", ")
        ));
    }
    let origin = origins.pop().unwrap_or_else(|| "*".to_string());
    let headers: Vec<String> = match cors.get("headers") {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect(),
        _ => CORS_DEFAULT_HEADERS.iter().map(|h| h.to_string()).collect(),
    };
    let mut unique: Vec<String> = Vec::new();
    for method in methods {
        let expanded: Vec<String> = if method == "ANY" {
            ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]
                .iter()
                .map(|m| m.to_string())
                .collect()
        } else {
            vec![method.clone()]
        };
        for method in expanded {
            if !unique.contains(&method) {
                unique.push(method);
            }
        }
    }
    let mut response = serde_json::Map::new();
    response.insert(
        "Access-Control-Allow-Origin".into(),
        json!(format!("'{origin}'")),
    );
    response.insert(
        "Access-Control-Allow-Headers".into(),
        json!(format!("'{}'", headers.join(","))),
    );
    response.insert(
        "Access-Control-Allow-Methods".into(),
        json!(format!("'{}'", unique.join(","))),
    );
    if cors.get("allowCredentials").and_then(Json::as_bool) == Some(true) {
        response.insert("Access-Control-Allow-Credentials".into(), json!("'true'"));
    }
    if let Some(age) = cors.get("maxAge").filter(|a| !a.is_null()) {
        let age = age
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| age.to_string());
        response.insert("Access-Control-Max-Age".into(), json!(format!("'{age}'")));
    }
    if let Some(control) = cors.get("cacheControl").and_then(Json::as_str) {
        response.insert("Cache-Control".into(), json!(format!("'{control}'")));
    }
    Ok(Json::Object(response))
}

/// What a deployment serves, in a few characters: the endpoints, their functions and CORS (the
/// WebSocket API's deployment hashes its routes the same way).
pub(super) fn routes_hash(shape: &[Json]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<String> = shape.iter().map(Json::to_string).collect();
    sorted.sort();
    let digest = Sha256::digest(sorted.join("\n").as_bytes());
    hex::encode(digest)[..16].to_string()
}

#[cfg(test)]
mod tests;
