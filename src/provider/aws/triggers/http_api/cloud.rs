//! Reading and changing the HTTP API: the service's APIs come from the one `GetApis` listing
//! shared with the WebSocket API ([`super::super::api_gateway_v2`]), then one listing each of
//! its integrations, routes and stages, and of its authorizers when a route uses one or the
//! service defines some.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_apigatewayv2::error::ProvideErrorMetadata;
use aws_sdk_apigatewayv2::types::{Api, AuthorizerType, Cors, JwtConfiguration, ProtocolType};
use aws_sdk_apigatewayv2::Client;
use serde_json::{json, Value as Json};

use super::{
    normalize_cors, AuthorizerProperties, HttpApiProperties, IntegrationProperties,
    RouteProperties, StageProperties,
};
use crate::plan::{Action, Live, Properties, ResourceId, Step};
use crate::provider::aws::call::deleted;
use crate::provider::aws::kinds::{TagChange, Typed};
use crate::provider::aws::naming::{self, kind};
use crate::provider::aws::triggers::api_gateway_v2::{
    self, api_arn, function_arn_of, is_websocket, not_found, put_integration, put_route, strings,
    RouteCall, NOT_FOUND,
};
use crate::provider::aws::triggers::{attribute, call_error, function_name_of, Site};
use crate::provider::ProviderError;

/// The API's attributes: its id, URL and the ARNs its permissions name.
fn attributes(site: &Site, api_id: &str, endpoint: Option<&str>) -> Properties {
    let url = endpoint
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://{api_id}.execute-api.{}.amazonaws.com", site.region));
    Properties::from([
        ("id".to_string(), json!(api_id)),
        ("url".to_string(), json!(url)),
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

/// The service's HTTP API and everything in it, among the service's APIs (WebSocket APIs are
/// the WebSocket reader's).
pub async fn live(
    client: &Client,
    site: &Site,
    apis: &[Api],
    authorizers_defined: bool,
) -> Result<Vec<Live>, ProviderError> {
    let mut found = Vec::new();
    for api in apis.iter().filter(|api| !is_websocket(api)) {
        let (Some(api_id), Some(name)) = (api.api_id(), api.name()) else {
            continue;
        };
        let tags = api.tags().cloned().unwrap_or_default();
        let id = naming::id(kind::HTTP_API, name);
        let cors = api.cors_configuration().map(|cors| {
            normalize_cors(&json!({
                "allow_origins": cors.allow_origins(),
                "allow_headers": cors.allow_headers(),
                "allow_methods": cors.allow_methods(),
                "allow_credentials": cors.allow_credentials(),
                "expose_headers": cors.expose_headers(),
                "max_age": cors.max_age(),
            }))
        });
        let attributes = attributes(site, api_id, api.api_endpoint());
        let url = attributes
            .get("url")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        found.push(Live {
            id: id.clone(),
            properties: HttpApiProperties {
                name: name.to_string(),
                protocol_type: api.protocol_type().map(|p| p.as_str().to_string()),
                cors: cors.unwrap_or(Json::Null),
                disable_execute_api_endpoint: api.disable_execute_api_endpoint().unwrap_or(false),
                tags: tags.into_iter().collect(),
            }
            .to_properties(),
            attributes,
            depends_on: BTreeSet::new(),
        });
        found.extend(children(client, &id, api_id, &url, authorizers_defined).await?);
    }
    Ok(found)
}

/// The integrations, authorizers, routes and stages of one API.
async fn children(
    client: &Client,
    api: &ResourceId,
    api_id: &str,
    api_url: &str,
    authorizers_defined: bool,
) -> Result<Vec<Live>, ProviderError> {
    let what = format!("HTTP API {}", api.name);
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
    let authorizers =
        if authorizers_defined || routes.items().iter().any(|r| r.authorizer_id().is_some()) {
            client
                .get_authorizers()
                .api_id(api_id)
                .max_results("500")
                .send()
                .await
                .map_err(|e| call_error("apigateway:GET /apis/{id}/authorizers", &what, &e))?
                .items()
                .to_vec()
        } else {
            Vec::new()
        };
    let stages = stages.map_err(|e| call_error("apigateway:GET /apis/{id}/stages", &what, &e))?;
    let mut found = Vec::new();
    let mut integration_names: BTreeMap<String, ResourceId> = BTreeMap::new();
    for integration in integrations.items() {
        let (Some(integration_id), uri) =
            (integration.integration_id(), integration.integration_uri())
        else {
            continue;
        };
        let uri = uri.unwrap_or_default();
        let function = function_name_of(uri);
        let id = naming::id(
            kind::HTTP_API_INTEGRATION,
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
                integration_uri: json!(uri),
                payload_format_version: integration.payload_format_version().map(str::to_string),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(integration_id))]),
            depends_on,
        });
    }
    let mut authorizer_names: BTreeMap<String, ResourceId> = BTreeMap::new();
    for authorizer in &authorizers {
        let (Some(authorizer_id), Some(name)) = (authorizer.authorizer_id(), authorizer.name())
        else {
            continue;
        };
        let id = naming::id(kind::HTTP_API_AUTHORIZER, name);
        authorizer_names.insert(authorizer_id.to_string(), id.clone());
        let jwt = authorizer.jwt_configuration();
        let lambda = authorizer.authorizer_type() == Some(&AuthorizerType::Request);
        let function_arn = authorizer
            .authorizer_uri()
            .filter(|_| lambda)
            .and_then(function_arn_of);
        let mut depends_on = BTreeSet::from([api.clone()]);
        if let Some(function) = function_arn.and_then(function_name_of) {
            depends_on.insert(naming::id(kind::FUNCTION, function));
        }
        found.push(Live {
            id,
            properties: AuthorizerProperties {
                api_id: json!(api_id),
                name: name.to_string(),
                authorizer_type: authorizer.authorizer_type().map(|t| t.as_str().to_string()),
                identity_source: json!(authorizer.identity_source()),
                jwt_configuration: match lambda {
                    true => Json::Null,
                    false => json!({
                        "audience": jwt.map(|j| j.audience()).unwrap_or_default(),
                        "issuer": jwt.and_then(|j| j.issuer()),
                    }),
                },
                function_arn: json!(function_arn),
                result_ttl_in_seconds: lambda.then(|| {
                    authorizer
                        .authorizer_result_ttl_in_seconds()
                        .unwrap_or(0)
                        .into()
                }),
                enable_simple_responses: lambda
                    .then(|| authorizer.enable_simple_responses().unwrap_or(false)),
                payload_format_version: authorizer
                    .authorizer_payload_format_version()
                    .filter(|_| lambda)
                    .map(str::to_string),
            }
            .to_properties(),
            attributes: Properties::from([("id".to_string(), json!(authorizer_id))]),
            depends_on,
        });
    }
    for route in routes.items() {
        let (Some(route_id), Some(route_key)) = (route.route_id(), route.route_key()) else {
            continue;
        };
        let integration_id = route
            .target()
            .and_then(|t| t.strip_prefix("integrations/"))
            .map(str::to_string);
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
        let scopes = route.authorization_scopes();
        let (method, url) = match route_key.split_once(' ') {
            Some((method, path)) => (method, format!("{api_url}{path}")),
            None => ("ANY", api_url.to_string()),
        };
        let function = integration_id
            .as_ref()
            .and_then(|i| integration_names.get(i))
            .map(|i| i.name.clone());
        found.push(Live {
            id: naming::id(kind::HTTP_API_ROUTE, route_key),
            properties: RouteProperties {
                api_id: json!(api_id),
                route_key: route_key.to_string(),
                integration_id: json!(integration_id),
                authorization_type: route
                    .authorization_type()
                    .map(|t| t.as_str())
                    .unwrap_or("NONE")
                    .to_string(),
                authorizer_id: json!(route.authorizer_id()),
                authorization_scopes: if scopes.is_empty() {
                    Json::Null
                } else {
                    json!(scopes)
                },
            }
            .to_properties(),
            attributes: Properties::from([
                ("id".to_string(), json!(route_id)),
                ("method".to_string(), json!(method)),
                ("url".to_string(), json!(url)),
                ("function".to_string(), json!(function)),
            ]),
            depends_on,
        });
    }
    for stage in stages.items() {
        let Some(name) = stage.stage_name() else {
            continue;
        };
        found.push(Live {
            id: naming::id(kind::HTTP_API_STAGE, name),
            properties: StageProperties {
                api_id: json!(api_id),
                stage_name: name.to_string(),
                auto_deploy: stage.auto_deploy().unwrap_or(false),
                tags: stage
                    .tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            }
            .to_properties(),
            attributes: Properties::new(),
            depends_on: BTreeSet::from([api.clone()]),
        });
    }
    Ok(found)
}

/// Applies one step to a resource of the HTTP API.
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
    if step.action == Action::Replace || step.action == Action::Delete {
        delete(client, step, &api_id).await?;
        if step.action == Action::Delete {
            return Ok(Properties::new());
        }
    }
    let existing = if step.action == Action::Update {
        attribute(live, "id")
    } else {
        None
    };
    match step.id.kind.as_str() {
        kind::HTTP_API => {
            let wanted = HttpApiProperties::from_properties(properties, &step.id)?;
            let cors = Some(&wanted.cors).filter(|c| !c.is_null()).map(to_cors);
            let disable = wanted.disable_execute_api_endpoint;
            let (api_id, endpoint) = match existing {
                Some(api_id) => {
                    client
                        .update_api()
                        .api_id(&api_id)
                        .name(&wanted.name)
                        .set_cors_configuration(cors.clone())
                        .disable_execute_api_endpoint(disable)
                        .send()
                        .await
                        .map_err(|e| call_error("apigateway:PATCH /apis/{id}", &resource, &e))?;
                    if cors.is_none() {
                        match client
                            .delete_cors_configuration()
                            .api_id(&api_id)
                            .send()
                            .await
                        {
                            Ok(_) => {}
                            Err(e) if not_found(&e) => {}
                            Err(e) => {
                                return Err(call_error(
                                    "apigateway:DELETE /apis/{id}/cors",
                                    &resource,
                                    &e,
                                ))
                            }
                        }
                    }
                    let current = HttpApiProperties::live_of(step)?
                        .map(|c| c.tags)
                        .unwrap_or_default();
                    let change = TagChange::between(&current, &wanted.tags);
                    retag(client, &api_arn(site, &api_id), change, &resource).await?;
                    let endpoint = live
                        .and_then(|l| l.attributes.get("url"))
                        .and_then(Json::as_str)
                        .map(str::to_string);
                    (api_id, endpoint)
                }
                None => {
                    let created = client
                        .create_api()
                        .name(&wanted.name)
                        .protocol_type(ProtocolType::Http)
                        .set_cors_configuration(cors)
                        .disable_execute_api_endpoint(disable)
                        .set_tags(Some(wanted.tags.clone().into_iter().collect()))
                        .send()
                        .await
                        .map_err(|e| call_error("apigateway:POST /apis", &resource, &e))?;
                    let api_id = created.api_id().unwrap_or_default().to_string();
                    (api_id, created.api_endpoint().map(str::to_string))
                }
            };
            Ok(attributes(site, &api_id, endpoint.as_deref()))
        }
        kind::HTTP_API_INTEGRATION => {
            let wanted = IntegrationProperties::from_properties(properties, &step.id)?;
            let uri = wanted
                .integration_uri
                .as_str()
                .unwrap_or_default()
                .to_string();
            let payload = Some(wanted.payload_format_version.unwrap_or_default());
            let integration_id =
                put_integration(client, &api_id, existing, uri, payload, &resource).await?;
            Ok(Properties::from([(
                "id".to_string(),
                json!(integration_id),
            )]))
        }
        kind::HTTP_API_AUTHORIZER => {
            let wanted = AuthorizerProperties::from_properties(properties, &step.id)?;
            let jwt = Some(&wanted.jwt_configuration);
            let configuration = JwtConfiguration::builder()
                .set_audience(Some(strings(jwt.and_then(|j| j.get("audience")))))
                .set_issuer(
                    jwt.and_then(|j| j.get("issuer"))
                        .and_then(Json::as_str)
                        .map(str::to_string),
                )
                .build();
            let sources = strings(Some(&wanted.identity_source));
            if wanted.authorizer_type.as_deref() == Some("REQUEST") {
                let authorizer_id =
                    lambda_authorizer(client, site, &api_id, existing, &wanted, &resource).await?;
                return Ok(Properties::from([("id".to_string(), json!(authorizer_id))]));
            }
            let authorizer_id = match existing {
                Some(authorizer_id) => {
                    client
                        .update_authorizer()
                        .api_id(&api_id)
                        .authorizer_id(&authorizer_id)
                        .name(&wanted.name)
                        .authorizer_type(AuthorizerType::Jwt)
                        .set_identity_source(Some(sources))
                        .jwt_configuration(configuration)
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
                    .authorizer_type(AuthorizerType::Jwt)
                    .set_identity_source(Some(sources))
                    .jwt_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| {
                        call_error("apigateway:POST /apis/{id}/authorizers", &resource, &e)
                    })?
                    .authorizer_id()
                    .unwrap_or_default()
                    .to_string(),
            };
            Ok(Properties::from([("id".to_string(), json!(authorizer_id))]))
        }
        kind::HTTP_API_ROUTE => {
            let wanted = RouteProperties::from_properties(properties, &step.id)?;
            let scopes = Some(&wanted.authorization_scopes)
                .filter(|s| !s.is_null())
                .map(|s| strings(Some(s)));
            let route = RouteCall {
                route_key: &wanted.route_key,
                integration_id: wanted.integration_id.as_str().unwrap_or_default(),
                authorization_type: &wanted.authorization_type,
                authorizer_id: wanted.authorizer_id.as_str().map(str::to_string),
                scopes,
                selection: None,
            };
            let route_id = put_route(client, &api_id, existing, route, &resource).await?;
            Ok(Properties::from([("id".to_string(), json!(route_id))]))
        }
        kind::HTTP_API_STAGE => {
            let wanted = StageProperties::from_properties(properties, &step.id)?;
            let stage = &wanted.stage_name;
            let arn = format!("{}/stages/{stage}", api_arn(site, &api_id));
            if existing.is_some() || step.action == Action::Update {
                // Only the tags of the auto-deployed stage can differ.
                let current = StageProperties::live_of(step)?
                    .map(|c| c.tags)
                    .unwrap_or_default();
                let change = TagChange::between(&current, &wanted.tags);
                retag(client, &arn, change, &resource).await?;
            } else {
                match client
                    .create_stage()
                    .api_id(&api_id)
                    .stage_name(stage)
                    .auto_deploy(true)
                    .set_tags(Some(wanted.tags.clone().into_iter().collect()))
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if e.code() == Some("ConflictException") => {}
                    Err(e) => {
                        return Err(call_error(
                            "apigateway:POST /apis/{id}/stages",
                            &resource,
                            &e,
                        ))
                    }
                }
            }
            Ok(Properties::new())
        }
        _ => Err(ProviderError::Internal {
            resource: step.id.clone(),
            message: "not an HTTP API resource".to_string(),
        }),
    }
}

async fn delete(client: &Client, step: &Step, api_id: &str) -> Result<(), ProviderError> {
    let resource = step.id.to_string();
    let id = attribute(step.live.as_ref(), "id").unwrap_or_default();
    match step.id.kind.as_str() {
        kind::HTTP_API => deleted(
            client.delete_api().api_id(&id).send().await,
            NOT_FOUND,
            "apigateway:DELETE /apis/{id}",
            &resource,
        ),
        kind::HTTP_API_INTEGRATION => deleted(
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
        kind::HTTP_API_AUTHORIZER => deleted(
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
        kind::HTTP_API_ROUTE => deleted(
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
        kind::HTTP_API_STAGE => deleted(
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

/// The API a resource of the HTTP API belongs to (empty for the API itself).
fn parent_api(properties: &Properties, id: &ResourceId) -> Result<String, ProviderError> {
    let api_id = match id.kind.as_str() {
        kind::HTTP_API_INTEGRATION => {
            IntegrationProperties::from_properties(properties, id)?.api_id
        }
        kind::HTTP_API_AUTHORIZER => AuthorizerProperties::from_properties(properties, id)?.api_id,
        kind::HTTP_API_ROUTE => RouteProperties::from_properties(properties, id)?.api_id,
        kind::HTTP_API_STAGE => StageProperties::from_properties(properties, id)?.api_id,
        _ => Json::Null,
    };
    Ok(api_id.as_str().unwrap_or_default().to_string())
}

crate::provider::aws::triggers::api_gateway_retag!(
    Client,
    "apigateway:POST /tags",
    "apigateway:DELETE /tags"
);

fn to_cors(cors: &Json) -> Cors {
    Cors::builder()
        .set_allow_origins(Some(strings(cors.get("allow_origins"))))
        .set_allow_headers(Some(strings(cors.get("allow_headers"))))
        .set_allow_methods(Some(strings(cors.get("allow_methods"))))
        .allow_credentials(
            cors.get("allow_credentials")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        )
        .set_expose_headers(Some(strings(cors.get("expose_headers"))).filter(|h| !h.is_empty()))
        .set_max_age(
            cors.get("max_age")
                .and_then(Json::as_i64)
                .and_then(|age| i32::try_from(age).ok()),
        )
        .build()
}

/// Creates or updates a Lambda request authorizer, giving its id.
async fn lambda_authorizer(
    client: &Client,
    site: &Site,
    api_id: &str,
    existing: Option<String>,
    wanted: &AuthorizerProperties,
    resource: &str,
) -> Result<String, ProviderError> {
    let uri = wanted
        .function_arn
        .as_str()
        .map(|arn| api_gateway_v2::invocation_uri(site, arn));
    let sources = strings(Some(&wanted.identity_source));
    let ttl = wanted.result_ttl_in_seconds.map(|t| t as i32);
    match existing {
        Some(authorizer_id) => {
            client
                .update_authorizer()
                .api_id(api_id)
                .authorizer_id(&authorizer_id)
                .name(&wanted.name)
                .authorizer_type(AuthorizerType::Request)
                .set_authorizer_uri(uri)
                .set_identity_source(Some(sources))
                .set_authorizer_result_ttl_in_seconds(ttl)
                .set_enable_simple_responses(wanted.enable_simple_responses)
                .set_authorizer_payload_format_version(wanted.payload_format_version.clone())
                .send()
                .await
                .map_err(|e| call_error("apigateway:PATCH /apis/{id}/authorizers", resource, &e))?;
            Ok(authorizer_id)
        }
        None => Ok(client
            .create_authorizer()
            .api_id(api_id)
            .name(&wanted.name)
            .authorizer_type(AuthorizerType::Request)
            .set_authorizer_uri(uri)
            .set_identity_source(Some(sources))
            .set_authorizer_result_ttl_in_seconds(ttl)
            .set_enable_simple_responses(wanted.enable_simple_responses)
            .set_authorizer_payload_format_version(wanted.payload_format_version.clone())
            .send()
            .await
            .map_err(|e| call_error("apigateway:POST /apis/{id}/authorizers", resource, &e))?
            .authorizer_id()
            .unwrap_or_default()
            .to_string()),
    }
}
