//! The authorizers of `provider.httpApi.authorizers` and how a route names one: JWT
//! authorizers (`issuerUrl`, `audience`, `identitySource`) and Lambda request authorizers
//! (`type: request` with `functionName` of the service or `functionArn`, `resultTtlInSeconds`,
//! `enableSimpleResponses`, `payloadVersion`, `identitySource`). A Lambda authorizer that is a
//! function of the service gets the permission API Gateway needs to call it, unless
//! `managedExternally` says its owner grants it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use super::super::super::kinds::Typed;
use super::super::super::naming::{self, kind};
use super::super::permission::{self, Grant};
use super::super::{unsupported_setting, FunctionEvent};
use super::AuthorizerProperties;
use crate::plan::{Desired, Properties, Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

pub const HELP: &str = "name an authorizer defined under provider.httpApi.authorizers \
     (`authorizer: {name: NAME, scopes: [...]}`), or use `type: aws_iam`";

/// The authorizers by key, each with its resource id, and the permissions their functions need.
pub struct Authorizers {
    pub resources: BTreeMap<String, (Desired, ResourceId)>,
    pub permissions: Vec<Desired>,
}

/// The route's authorization type, authorizer and scopes.
pub fn route_authorizer(
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
    if kind.is_some_and(|k| k.eq_ignore_ascii_case("aws_iam")) {
        return Ok(("AWS_IAM", None, Json::Null));
    }
    let Some(name) = name else {
        return Err("the authorizer has no `name`".into());
    };
    let Some((desired, id)) = authorizers.get(name) else {
        return Err(format!(
            "the authorizer `{name}` is not defined under provider.httpApi.authorizers"
        ));
    };
    if desired.properties.get("authorizer_type") == Some(&json!("REQUEST")) {
        if scopes.is_some() {
            return Err("scopes apply to JWT authorizers only".into());
        }
        return Ok(("CUSTOM", Some(id.clone()), Json::Null));
    }
    let scopes = match scopes {
        Some(Json::Array(items)) if !items.is_empty() => Json::Array(items),
        Some(Json::String(scope)) => json!([scope]),
        _ => Json::Null,
    };
    Ok(("JWT", Some(id.clone()), scopes))
}

/// The authorizers of `provider.httpApi.authorizers`, by key.
pub fn authorizers(
    context: &Context<'_>,
    first: &FunctionEvent,
    api: &ResourceId,
    api_id: &Json,
) -> Result<Authorizers, ProviderError> {
    let mut found = Authorizers {
        resources: BTreeMap::new(),
        permissions: Vec::new(),
    };
    for (key, setting) in &context.service.provider.http_api.authorizers {
        let refuse = |message: String, help: &str| {
            unsupported_setting(first.function, first.event, &message, help)
        };
        let kind_setting = setting
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or("jwt")
            .to_ascii_lowercase();
        let name = setting
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or(key)
            .to_string();
        let sources = |default: Json| match setting.get("identitySource") {
            Some(Json::Array(items)) => Json::Array(items.clone()),
            Some(Json::String(source)) => json!([source]),
            _ => default,
        };
        let id = naming::id(kind::HTTP_API_AUTHORIZER, &name);
        let mut depends_on = BTreeSet::from([api.clone()]);
        let properties = match kind_setting.as_str() {
            "jwt" => {
                let audience = match setting.get("audience") {
                    Some(Json::Array(items)) => Json::Array(items.clone()),
                    Some(Json::String(audience)) => json!([audience]),
                    _ => json!([]),
                };
                let issuer = setting.get("issuerUrl").cloned().unwrap_or(Json::Null);
                AuthorizerProperties {
                    api_id: api_id.clone(),
                    name: name.clone(),
                    authorizer_type: Some("JWT".to_string()),
                    identity_source: sources(json!(["$request.header.Authorization"])),
                    jwt_configuration: json!({"audience": audience, "issuer": issuer}),
                    function_arn: Json::Null,
                    result_ttl_in_seconds: None,
                    enable_simple_responses: None,
                    payload_format_version: None,
                }
            }
            "request" => {
                let function_arn = match (
                    setting.get("functionName").and_then(Json::as_str),
                    setting.get("functionArn"),
                ) {
                    (Some(function), _) => {
                        let Some(target) = context.functions.get(function) else {
                            return Err(refuse(
                                format!("provider.httpApi.authorizers.{key}.functionName"),
                                &format!("`{function}` is not a function of this service: name one of its functions, or give `functionArn`"),
                            ));
                        };
                        depends_on.insert(target.id.clone());
                        let external =
                            setting.get("managedExternally").and_then(Json::as_bool) == Some(true);
                        if !external {
                            found.permissions.push(permission::desired(Grant {
                                function: target.id.clone(),
                                statement_id: permission::statement_id(&format!(
                                    "http-api-authorizer-{name}"
                                )),
                                principal: "apigateway.amazonaws.com".to_string(),
                                source_arn: Reference::new(api.clone(), "authorizers_source_arn")
                                    .to_json(),
                                source: Some(api.clone()),
                            }));
                        }
                        target.arn_reference()
                    }
                    (None, Some(Json::String(arn))) => json!(arn),
                    _ => {
                        return Err(refuse(
                            format!("provider.httpApi.authorizers.{key}"),
                            "a request authorizer needs `functionName` (a function of the \
                             service) or `functionArn` (as text)",
                        ))
                    }
                };
                let payload = match setting.get("payloadVersion") {
                    None | Some(Json::Null) => "2.0".to_string(),
                    Some(Json::String(version)) => version.clone(),
                    Some(other) => format!("{:.1}", other.as_f64().unwrap_or(2.0)),
                };
                let ttl = setting
                    .get("resultTtlInSeconds")
                    .and_then(|t| t.as_i64().or_else(|| t.as_str()?.parse().ok()))
                    .unwrap_or(0);
                AuthorizerProperties {
                    api_id: api_id.clone(),
                    name: name.clone(),
                    authorizer_type: Some("REQUEST".to_string()),
                    identity_source: sources(json!([])),
                    jwt_configuration: Json::Null,
                    function_arn,
                    result_ttl_in_seconds: Some(ttl),
                    enable_simple_responses: Some(
                        setting
                            .get("enableSimpleResponses")
                            .and_then(Json::as_bool)
                            .unwrap_or(false),
                    ),
                    payload_format_version: Some(payload),
                }
            }
            other => {
                return Err(refuse(
                    format!("provider.httpApi.authorizers.{key}.type: {other}"),
                    "HTTP API authorizers are `jwt` or `request`",
                ))
            }
        };
        let desired = Desired {
            id: id.clone(),
            properties: properties.to_properties(),
            inputs: Properties::new(),
            depends_on,
            replace_when: BTreeSet::from(["api_id".to_string(), "authorizer_type".to_string()]),
        };
        found.resources.insert(key.clone(), (desired, id));
    }
    Ok(found)
}
