//! `integration: lambda`: API Gateway's `AWS` integration, where request templates shape what
//! the function receives and integration responses map what it returns (or throws) to status
//! codes, as the Framework sets them up.
//!
//! The function receives the Framework's event: `body`, `method`, `principalId`, `stage`,
//! `cognitoPoolClaims`, `enhancedAuthContext`, `headers`, `query`, `path`, `identity`,
//! `stageVariables` and `requestPath`, from a JSON body or a form. `request.template` replaces
//! the template of a content type and `request.passThrough` sets what happens to the others
//! (`NEVER` by default). Its answer is the 200 response as it is; an error whose message holds
//! `[400]` (401, 403, 404, 422, 500, 502, 504) is that status code.
//!
//! The plan compares the templates by digest (the full text is an input), so a changed template
//! shows as one short field rather than pages of Velocity.

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{Integration, IntegrationType};
use aws_sdk_apigateway::Client;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::provider::aws::triggers::call_error;
use crate::provider::ProviderError;

/// The Framework's status codes for lambda integrations: the code and the pattern of the
/// function's error message that selects it (200 answers anything else).
pub const STATUS_CODES: &[(&str, &str)] = &[
    ("200", ""),
    ("400", r"[\s\S]*\[400\][\s\S]*"),
    ("401", r"[\s\S]*\[401\][\s\S]*"),
    ("403", r"[\s\S]*\[403\][\s\S]*"),
    ("404", r"[\s\S]*\[404\][\s\S]*"),
    ("422", r"[\s\S]*\[422\][\s\S]*"),
    (
        "500",
        r"[\s\S]*(Process\s?exited\s?before\s?completing\s?request|\[500\])[\s\S]*",
    ),
    ("502", r"[\s\S]*\[502\][\s\S]*"),
    (
        "504",
        r"([\s\S]*\[504\][\s\S]*)|(.*Task timed out after \d+\.\d+ seconds$)",
    ),
];

/// Writes the entries of `$map` as a JSON object, escaped.
const MAP_MACRO: &str = r##"#define( $entries )
{
#foreach( $key in $map.keySet() )
  "$util.escapeJavaScript($key)": "$util.escapeJavaScript($map.get($key)).replaceAll("\\'", "'")"#if( $foreach.hasNext ),#end
#end
}
#end
"##;

/// Everything but the body, shared by both templates.
const CONTEXT_FIELDS: &str = r#"  "method": "$context.httpMethod",
  "principalId": "$context.authorizer.principalId",
  "stage": "$context.stage",
  "cognitoPoolClaims": { "sub": "$context.authorizer.claims.sub" },
  #set( $map = $context.authorizer )
  "enhancedAuthContext": $entries,
  #set( $map = $input.params().header )
  "headers": $entries,
  #set( $map = $input.params().querystring )
  "query": $entries,
  #set( $map = $input.params().path )
  "path": $entries,
  #set( $map = $context.identity )
  "identity": $entries,
  #set( $map = $stageVariables )
  "stageVariables": $entries,
  "requestPath": "$context.resourcePath"
}
"#;

/// A JSON body, as it came.
fn json_template() -> String {
    format!("{MAP_MACRO}{{\n  \"body\": $input.json('$'),\n{CONTEXT_FIELDS}")
}

/// A form body, as an object of its decoded fields.
fn form_template() -> String {
    let body = r##"  "body": {
  #foreach( $pair in $input.path('$').split('&') )
    #set( $parts = $pair.split('=') )
    #if( $parts.size() >= 1 && $parts[0] != '' )
      #if( $parts.size() >= 2 )#set( $value = $util.urlDecode($parts[1]) )#else#set( $value = '' )#end
      "$util.escapeJavaScript($util.urlDecode($parts[0]))": "$util.escapeJavaScript($value)"#if( $foreach.hasNext ),#end
    #end
  #end
  },
"##;
    format!("{MAP_MACRO}{{\n{body}{CONTEXT_FIELDS}")
}

/// The request templates by content type: the defaults with the event's `request.template`
/// over them.
pub fn request_templates(custom: Option<&Json>) -> BTreeMap<String, String> {
    let mut templates = BTreeMap::from([
        ("application/json".to_string(), json_template()),
        (
            "application/x-www-form-urlencoded".to_string(),
            form_template(),
        ),
    ]);
    for (content_type, template) in custom.and_then(Json::as_object).into_iter().flatten() {
        if let Some(text) = template.as_str() {
            templates.insert(content_type.clone(), text.to_string());
        }
    }
    templates
}

/// What the plan compares of a template.
pub fn digest(template: &str) -> String {
    hex::encode(Sha256::digest(template.as_bytes()))[..16].to_string()
}

/// `request.passThrough` as API Gateway's passthrough behavior.
pub fn passthrough_behavior(setting: Option<&Json>) -> Result<String, String> {
    match setting.and_then(Json::as_str) {
        None => Ok("NEVER".to_string()),
        Some(value) => match value.to_ascii_uppercase().as_str() {
            behavior @ ("NEVER" | "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES") => Ok(behavior.into()),
            _ => Err(format!(
                "request.passThrough `{value}` is not NEVER, WHEN_NO_MATCH or WHEN_NO_TEMPLATES"
            )),
        },
    }
}

/// The method's `integration` property for a lambda integration, and the templates' texts.
pub fn integration(
    function_arn: Json,
    templates: &BTreeMap<String, String>,
    passthrough: &str,
    response_headers: &Json,
) -> Json {
    let digests: BTreeMap<&String, String> = templates
        .iter()
        .map(|(content_type, text)| (content_type, digest(text)))
        .collect();
    let responses: BTreeMap<&str, &str> = STATUS_CODES.iter().copied().collect();
    json!({
        "type": "AWS",
        "function_arn": function_arn,
        "passthrough_behavior": passthrough,
        "request_templates": digests,
        "responses": responses,
        "response_headers": response_headers,
    })
}

/// The headers every response carries for CORS (`Access-Control-Allow-Origin`, and
/// `-Credentials` when allowed), quoted as response parameters take them.
pub fn cors_response_headers(cors: Option<&Json>) -> Json {
    let Some(cors) = cors else {
        return json!({});
    };
    let origin = match cors.get("origins").or_else(|| cors.get("origin")) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Some(Json::String(origin)) => origin.clone(),
        _ => "*".to_string(),
    };
    let mut headers = serde_json::Map::new();
    headers.insert(
        "Access-Control-Allow-Origin".into(),
        json!(format!("'{origin}'")),
    );
    if cors.get("allowCredentials").and_then(Json::as_bool) == Some(true) {
        headers.insert("Access-Control-Allow-Credentials".into(), json!("'true'"));
    }
    Json::Object(headers)
}

/// The `integration` property of a lambda integration as API Gateway reports it.
pub fn read(integration: &Integration, function_arn: Option<&str>) -> Json {
    let digests: BTreeMap<&String, String> = integration
        .request_templates()
        .into_iter()
        .flatten()
        .map(|(content_type, text)| (content_type, digest(text)))
        .collect();
    let responses: BTreeMap<&String, &str> = integration
        .integration_responses()
        .into_iter()
        .flatten()
        .map(|(status, response)| (status, response.selection_pattern().unwrap_or_default()))
        .collect();
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
    json!({
        "type": "AWS",
        "function_arn": function_arn,
        "passthrough_behavior": integration.passthrough_behavior(),
        "request_templates": digests,
        "responses": responses,
        "response_headers": headers,
    })
}

/// Puts the integration, then a method response and an integration response per status code.
pub async fn put(
    client: &Client,
    method: MethodAddress<'_>,
    uri: String,
    integration: &Json,
    templates: BTreeMap<String, String>,
    resource: &str,
) -> Result<(), ProviderError> {
    let MethodAddress {
        api_id,
        resource_id,
        http_method,
    } = method;
    client
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(http_method)
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri(uri)
        .set_passthrough_behavior(
            integration["passthrough_behavior"]
                .as_str()
                .map(str::to_string),
        )
        .set_request_templates(Some(templates.into_iter().collect()))
        .send()
        .await
        .map_err(|e| {
            call_error(
                "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/integration",
                resource,
                &e,
            )
        })?;
    let headers: Vec<(String, String)> = integration["response_headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(header, value)| {
            (
                format!("method.response.header.{header}"),
                value.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (status, pattern) in integration["responses"].as_object().into_iter().flatten() {
        client
            .put_method_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .status_code(status)
            .set_response_parameters(Some(
                headers.iter().map(|(k, _)| (k.clone(), false)).collect(),
            ))
            .send()
            .await
            .map_err(|e| {
                call_error(
                    "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/responses/{status}",
                    resource,
                    &e,
                )
            })?;
        client
            .put_integration_response()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .status_code(status)
            .set_selection_pattern(
                pattern
                    .as_str()
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
            )
            .set_response_parameters(Some(headers.iter().cloned().collect()))
            .send()
            .await
            .map_err(|e| {
                call_error(
                    "apigateway:PUT /restapis/{id}/resources/{id}/methods/{method}/integration/responses/{status}",
                    resource,
                    &e,
                )
            })?;
    }
    Ok(())
}

/// Where a method is.
pub struct MethodAddress<'a> {
    pub api_id: &'a str,
    pub resource_id: &'a str,
    pub http_method: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_template_replaces_its_content_type_and_keeps_the_other_default() {
        let templates = request_templates(Some(&json!({"application/json": "{\"id\": 1}"})));
        assert_eq!(templates["application/json"], "{\"id\": 1}");
        assert!(templates["application/x-www-form-urlencoded"].contains("urlDecode"));
    }

    #[test]
    fn the_default_templates_give_the_framework_event_fields() {
        for template in request_templates(None).values() {
            for field in [
                "\"body\"",
                "\"method\"",
                "\"principalId\"",
                "\"stage\"",
                "\"cognitoPoolClaims\"",
                "\"enhancedAuthContext\"",
                "\"headers\"",
                "\"query\"",
                "\"path\"",
                "\"identity\"",
                "\"stageVariables\"",
                "\"requestPath\"",
            ] {
                assert!(template.contains(field), "{field} in {template}");
            }
        }
    }

    #[test]
    fn a_pass_through_setting_is_checked() {
        assert_eq!(passthrough_behavior(None).as_deref(), Ok("NEVER"));
        assert_eq!(
            passthrough_behavior(Some(&json!("when_no_match"))).as_deref(),
            Ok("WHEN_NO_MATCH")
        );
        assert!(passthrough_behavior(Some(&json!("sometimes"))).is_err());
    }
}
