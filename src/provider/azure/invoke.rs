//! `updraft invoke` on Azure: an HTTP function is called through its URL, as its callers call
//! it, with the app's default function key when its `authLevel` asks for one; any other
//! function is started through the host's admin endpoint (`POST /admin/functions/{name}` with
//! the master key and `{"input": ...}`), which Azure answers 202 without waiting for the run.
//! The keys come from `host/default/listkeys`; they are sent only to the app's own host.

use azure_core::http::Method;
use serde_json::{json, Value as Json};

use super::arm;
use super::backend::AzureBackend;
use super::resources::WEB_API;
use crate::provider::{InvocationType, InvokeRequest, InvokeResponse, ProviderError};

pub async fn invoke(
    backend: &AzureBackend,
    request: &InvokeRequest,
) -> Result<InvokeResponse, ProviderError> {
    if request.invocation_type == InvocationType::DryRun {
        return Err(ProviderError::Unsupported {
            what: "`--type DryRun` on Azure".into(),
            span: None,
            help: "Azure has no dry run: invoke without `--type`".into(),
        });
    }
    let app = &backend.reading.app;
    let function = app
        .functions
        .iter()
        .find(|function| function.key == request.function)
        .ok_or_else(|| ProviderError::Call {
            operation: "invoke".into(),
            resource: request.function.clone(),
            message: "the manifest has no such function".into(),
            help: "`updraft info` lists the app's functions".into(),
        })?;
    let path = backend.names.app_path();
    let failed = |operation: &str, error: arm::ArmError| {
        backend.failed(
            operation,
            &crate::plan::ResourceId::new(super::resources::FUNCTION_APP, &backend.names.app),
            error,
        )
    };
    let site = backend
        .arm
        .get(&path, WEB_API)
        .await
        .map_err(|e| failed("read the Function App", e))?
        .ok_or_else(|| ProviderError::Call {
            operation: "invoke".into(),
            resource: backend.names.app.clone(),
            message: "the Function App does not exist".into(),
            help: "run `updraft deploy` first".into(),
        })?;
    let keys = backend
        .arm
        .call(
            Method::Post,
            &format!("{path}/host/default/listkeys"),
            WEB_API,
            None,
        )
        .await
        .map_err(|e| failed("list the app's keys", e))?
        .body;
    let host = site
        .pointer("/properties/defaultHostName")
        .and_then(Json::as_str);
    let base = backend.endpoints.functions_of(&backend.names.app, host);
    // No credential: the function's host must never see a management token.
    let plain = arm::pipeline(None, "");
    let http = function
        .bindings
        .iter()
        .find(|binding| binding["type"] == "httpTrigger");
    let (method, url, key, body) = match http {
        Some(trigger) => {
            let route = route_for(
                trigger["route"].as_str().unwrap_or(&function.key),
                &function.key,
            )?;
            let methods: Vec<String> = trigger["methods"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_uppercase)
                        .collect()
                })
                .unwrap_or_default();
            let method = if methods.is_empty() || methods.iter().any(|m| m == "POST") {
                Method::Post
            } else if methods.iter().any(|m| m == "GET") {
                Method::Get
            } else {
                match methods[0].as_str() {
                    "PUT" => Method::Put,
                    "PATCH" => Method::Patch,
                    "DELETE" => Method::Delete,
                    _ => Method::Get,
                }
            };
            let anonymous = trigger["authLevel"].as_str() == Some("anonymous");
            let key = if anonymous {
                None
            } else if trigger["authLevel"].as_str() == Some("admin") {
                keys.get("masterKey").and_then(Json::as_str)
            } else {
                keys.pointer("/functionKeys/default")
                    .or_else(|| keys.get("masterKey"))
                    .and_then(Json::as_str)
            };
            let body = (method != Method::Get).then(|| request.payload.clone());
            (method, format!("{base}/api/{route}"), key, body)
        }
        None => {
            let input = String::from_utf8_lossy(&request.payload).to_string();
            (
                Method::Post,
                format!("{base}/admin/functions/{}", function.key),
                keys.get("masterKey").and_then(Json::as_str),
                Some(json!({"input": input}).to_string().into_bytes()),
            )
        }
    };
    let mut call = azure_core::http::Request::new(
        azure_core::http::Url::parse(&url).map_err(|error| ProviderError::Call {
            operation: "invoke".into(),
            resource: url.clone(),
            message: error.to_string(),
            help: "check UPDRAFT_AZURE_FUNCTIONS_ENDPOINT".into(),
        })?,
        method,
    );
    if let Some(key) = key {
        call.insert_header("x-functions-key", key.to_string());
    }
    if let Some(body) = body {
        call.insert_header("content-type", "application/json");
        call.set_body(body);
    }
    let (status, payload) =
        arm::send_request(&plain, call)
            .await
            .map_err(|error| ProviderError::Call {
                operation: "invoke".into(),
                resource: url.clone(),
                message: error.to_string(),
                help: "check the network; `updraft info` shows the app's URLs".into(),
            })?;
    Ok(InvokeResponse::from_http(status, payload))
}

/// The route with its optional parameters (`{name?}`) left out; a required one cannot be
/// guessed.
fn route_for(template: &str, function: &str) -> Result<String, ProviderError> {
    let mut parts = Vec::new();
    for part in template.trim_matches('/').split('/') {
        if part.starts_with('{') && part.ends_with("?}") {
            continue;
        }
        if part.starts_with('{') {
            return Err(ProviderError::Unsupported {
                what: format!("invoking `{function}`, whose route `{template}` has the parameter {part}"),
                span: None,
                help: "call the URL `updraft info` shows with the parameter filled in (curl), or make the parameter optional (`{name?}`)".into(),
            });
        }
        parts.push(part);
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::route_for;

    #[test]
    fn optional_route_parameters_are_left_out_of_an_invocation() {
        assert_eq!(route_for("hello/{name?}", "hello").unwrap(), "hello");
        assert_eq!(route_for("/jobs/", "jobs").unwrap(), "jobs");
        assert!(route_for("items/{id}", "item").is_err());
    }
}
