//! What the HTTP API ([`super::http_api`]) and the WebSocket API ([`super::websocket`]) share:
//! both are API Gateway v2 APIs, found by one `GetApis` listing and told apart by their
//! protocol, with the same ARNs, the same "not found" answer and the same Lambda integration
//! URIs.
//!
//! The listing is made once per read and split by protocol here, so each reader sees only its
//! own APIs: the HTTP API reader never takes a WebSocket API for a stale HTTP API (and plans
//! its deletion), and a service without WebSocket events costs no call more than before.

use aws_sdk_apigatewayv2::error::ProvideErrorMetadata;
use aws_sdk_apigatewayv2::types::{Api, AuthorizationType, IntegrationType, ProtocolType};
use aws_sdk_apigatewayv2::Client;
use serde_json::Value as Json;

use super::{call_error, owned, Site};
use crate::plan::Live;
use crate::provider::ProviderError;

/// API Gateway's answer for an id that does not exist (any more).
pub const NOT_FOUND: &str = "NotFoundException";

pub fn not_found<E: ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some(NOT_FOUND)
}

/// The ARN that tags an API (and, with `/stages/{name}`, its stage).
pub fn api_arn(site: &Site, api_id: &str) -> String {
    format!(
        "arn:{}:apigateway:{}::/apis/{api_id}",
        site.partition, site.region
    )
}

/// The ARN the API's Lambda permissions name as their source: any route of any stage.
pub fn source_arn(site: &Site, api_id: &str) -> String {
    format!(
        "arn:{}:execute-api:{}:{}:{api_id}/*",
        site.partition, site.region, site.account
    )
}

/// The ARN the API's Lambda authorizers are called from.
pub fn authorizers_source_arn(site: &Site, api_id: &str) -> String {
    format!(
        "arn:{}:execute-api:{}:{}:{api_id}/authorizers/*",
        site.partition, site.region, site.account
    )
}

/// The URI API Gateway invokes a Lambda function by, for integrations and authorizers that
/// need the full form (WebSocket APIs, Lambda authorizers).
pub fn invocation_uri(site: &Site, function_arn: &str) -> String {
    format!(
        "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        site.partition, site.region
    )
}

/// The function ARN inside an invocation URI; `None` for any other URI.
pub fn function_arn_of(uri: &str) -> Option<&str> {
    uri.split_once("/functions/")
        .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
}

/// The APIs of the account tagged as the service's and stage's, from one `GetApis` listing
/// (followed page by page).
pub async fn owned_apis(client: &Client, site: &Site) -> Result<Vec<Api>, ProviderError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .get_apis()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| call_error("apigateway:GET /apis", "HTTP and WebSocket APIs", &e))?;
        found.extend(
            page.items()
                .iter()
                .filter(|api| {
                    let tags = api.tags().cloned().unwrap_or_default();
                    owned(&tags, &site.service, &site.stage)
                })
                .cloned(),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Whether the API serves WebSocket connections (any other is an HTTP API).
pub fn is_websocket(api: &Api) -> bool {
    api.protocol_type() == Some(&ProtocolType::Websocket)
}

/// The service's HTTP and WebSocket APIs with everything in them, from one listing.
/// `authorizers_defined` says the deploy state records authorizers, so they are read even when
/// no route uses one.
pub async fn live(
    client: &Client,
    site: &Site,
    authorizers_defined: bool,
) -> Result<Vec<Live>, ProviderError> {
    let apis = owned_apis(client, site).await?;
    let (http, websocket): (Vec<Api>, Vec<Api>) = apis.into_iter().partition(|a| !is_websocket(a));
    let (http, websocket) = tokio::join!(
        super::http_api::live(client, site, &http, authorizers_defined),
        super::websocket::live(client, site, &websocket, authorizers_defined),
    );
    let mut found = http?;
    found.extend(websocket?);
    Ok(found)
}

/// A list of strings from a JSON list (anything else is no strings).
pub fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A route as both APIs put it: the HTTP API's carries scopes, the WebSocket API's a route
/// response selection expression.
pub struct RouteCall<'a> {
    pub route_key: &'a str,
    /// The integration's id.
    pub integration_id: &'a str,
    pub authorization_type: &'a str,
    pub authorizer_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub selection: Option<String>,
}

/// Creates the route, or updates the `existing` one in place; its id.
pub async fn put_route(
    client: &Client,
    api_id: &str,
    existing: Option<String>,
    route: RouteCall<'_>,
    resource: &str,
) -> Result<String, ProviderError> {
    let target = format!("integrations/{}", route.integration_id);
    let authorization = AuthorizationType::from(route.authorization_type);
    match existing {
        Some(route_id) => {
            client
                .update_route()
                .api_id(api_id)
                .route_id(&route_id)
                .target(target)
                .authorization_type(authorization)
                .set_authorizer_id(route.authorizer_id)
                .set_authorization_scopes(route.scopes)
                .set_route_response_selection_expression(route.selection)
                .send()
                .await
                .map_err(|e| call_error("apigateway:PATCH /apis/{id}/routes", resource, &e))?;
            Ok(route_id)
        }
        None => Ok(client
            .create_route()
            .api_id(api_id)
            .route_key(route.route_key)
            .target(target)
            .authorization_type(authorization)
            .set_authorizer_id(route.authorizer_id)
            .set_authorization_scopes(route.scopes)
            .set_route_response_selection_expression(route.selection)
            .send()
            .await
            .map_err(|e| call_error("apigateway:POST /apis/{id}/routes", resource, &e))?
            .route_id()
            .unwrap_or_default()
            .to_string()),
    }
}

/// Creates the Lambda proxy integration, or updates the `existing` one in place; its id. The
/// HTTP API's gives its payload format version; a WebSocket API's has none.
pub async fn put_integration(
    client: &Client,
    api_id: &str,
    existing: Option<String>,
    uri: String,
    payload_format_version: Option<String>,
    resource: &str,
) -> Result<String, ProviderError> {
    match existing {
        Some(integration_id) => {
            client
                .update_integration()
                .api_id(api_id)
                .integration_id(&integration_id)
                .integration_type(IntegrationType::AwsProxy)
                .integration_uri(uri)
                .set_payload_format_version(payload_format_version)
                .send()
                .await
                .map_err(|e| {
                    call_error("apigateway:PATCH /apis/{id}/integrations", resource, &e)
                })?;
            Ok(integration_id)
        }
        None => Ok(client
            .create_integration()
            .api_id(api_id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(uri)
            .set_payload_format_version(payload_format_version)
            .send()
            .await
            .map_err(|e| call_error("apigateway:POST /apis/{id}/integrations", resource, &e))?
            .integration_id()
            .unwrap_or_default()
            .to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_uri_gives_back_its_function_arn() {
        let site = Site {
            service: "chat".into(),
            stage: "dev".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
        };
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:chat-dev-connect";
        let uri = invocation_uri(&site, arn);
        assert_eq!(
            uri,
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/\
             arn:aws:lambda:eu-west-1:123456789012:function:chat-dev-connect/invocations"
        );
        assert_eq!(function_arn_of(&uri), Some(arn));
        assert_eq!(function_arn_of(arn), None);
    }
}
