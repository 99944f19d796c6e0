//! `--resourceRoutes`: the REST API methods declared under `resources:` as
//! `AWS::ApiGateway::Method` with an `HTTP_PROXY` integration, served offline by forwarding the
//! request to the integration's `Uri` (path parameters put in, the query string kept), as API
//! Gateway does once deployed.
//!
//! A method's path is rebuilt from its `AWS::ApiGateway::Resource` chain: each resource's
//! `PathPart` under its `ParentId` (another resource's `Ref`, or the API's root resource).

use std::sync::OnceLock;

use indexmap::IndexMap;
use serde_json::Value;

use super::response::HttpResponse;
use crate::offline::events::HttpRequest;

/// One proxied method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyMethod {
    /// The method's logical id (what the request log names).
    pub logical_id: String,
    /// Upper case, or `ANY`.
    pub method: String,
    /// `/upstream/{proxy+}`.
    pub path: String,
    pub uri: String,
}

/// A method under `resources:` that cannot be served offline.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("resource route `{logical_id}` is not served offline: {reason}")]
#[diagnostic(help(
    "--resourceRoutes serves `AWS::ApiGateway::Method`s with `Integration.Type: HTTP_PROXY`, \
     a literal `Uri` and a `ResourceId` that is a `Ref` to an `AWS::ApiGateway::Resource`"
))]
pub struct ResourceRouteError {
    pub logical_id: String,
    pub reason: String,
}

/// The proxied methods of `resources:` (the whole `resources` value, with its `Resources` map).
pub fn read(resources: Option<&Value>) -> (Vec<ProxyMethod>, Vec<ResourceRouteError>) {
    let mut methods = Vec::new();
    let mut errors = Vec::new();
    let Some(templates) = resources
        .and_then(|r| r.get("Resources"))
        .and_then(Value::as_object)
    else {
        return (methods, errors);
    };
    let typed =
        |resource: &Value, kind: &str| resource.get("Type").and_then(Value::as_str) == Some(kind);
    let paths: IndexMap<&str, &Value> = templates
        .iter()
        .filter(|(_, resource)| typed(resource, "AWS::ApiGateway::Resource"))
        .map(|(id, resource)| (id.as_str(), resource))
        .collect();
    for (id, resource) in templates {
        if !typed(resource, "AWS::ApiGateway::Method") {
            continue;
        }
        let properties = resource.get("Properties");
        let integration = properties.and_then(|p| p.get("Integration"));
        let error = |reason: &str| ResourceRouteError {
            logical_id: id.clone(),
            reason: reason.to_string(),
        };
        if integration
            .and_then(|i| i.get("Type"))
            .and_then(Value::as_str)
            != Some("HTTP_PROXY")
        {
            errors.push(error("only HTTP_PROXY integrations are proxied"));
            continue;
        }
        let Some(uri) = integration
            .and_then(|i| i.get("Uri"))
            .and_then(Value::as_str)
        else {
            errors.push(error("its Integration.Uri is not a literal URL"));
            continue;
        };
        let method = properties
            .and_then(|p| p.get("HttpMethod"))
            .and_then(Value::as_str)
            .unwrap_or("ANY")
            .to_ascii_uppercase();
        let Some(path) = properties
            .and_then(|p| p.get("ResourceId"))
            .and_then(|r| path_of(r, &paths, 0))
        else {
            errors.push(error(
                "its ResourceId does not lead to the API's root resource",
            ));
            continue;
        };
        methods.push(ProxyMethod {
            logical_id: id.clone(),
            method,
            path,
            uri: uri.to_string(),
        });
    }
    (methods, errors)
}

/// The path of the resource a `ResourceId` names: `{"Ref": id}` walks up the parents;
/// `Fn::GetAtt: [api, RootResourceId]` is the root.
fn path_of(reference: &Value, paths: &IndexMap<&str, &Value>, depth: usize) -> Option<String> {
    // A chain longer than any API's is a loop.
    if depth > 64 {
        return None;
    }
    let root = reference
        .get("Fn::GetAtt")
        .and_then(Value::as_array)
        .and_then(|items| items.get(1))
        .and_then(Value::as_str)
        == Some("RootResourceId");
    if root {
        return Some(String::new());
    }
    let id = reference.get("Ref").and_then(Value::as_str)?;
    let properties = paths.get(id)?.get("Properties")?;
    let part = properties.get("PathPart").and_then(Value::as_str)?;
    let parent = path_of(properties.get("ParentId")?, paths, depth + 1)?;
    Some(format!("{parent}/{part}"))
}

/// The request forwarded to `uri` with `{name}` replaced by the path parameters; the upstream's
/// answer as it came, or 502 when it cannot be reached.
pub async fn forward(
    uri: &str,
    request: &HttpRequest,
    path_parameters: &IndexMap<String, String>,
) -> HttpResponse {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    });
    let mut target = uri.to_string();
    for (name, value) in path_parameters {
        target = target.replace(&format!("{{{name}}}"), value);
    }
    if !request.raw_query.is_empty() {
        target.push('?');
        target.push_str(&request.raw_query);
    }
    let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
        return HttpResponse::internal_error();
    };
    let mut outgoing = client.request(method, &target).body(request.body.clone());
    for (name, value) in &request.headers {
        if !is_hop_by_hop(name) && name != "host" {
            outgoing = outgoing.header(name, value);
        }
    }
    let Ok(answer) = outgoing.send().await else {
        return HttpResponse::internal_error();
    };
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .filter(|(name, _)| !is_hop_by_hop(name.as_str()) && name.as_str() != "content-length")
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    match answer.bytes().await {
        Ok(body) => HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        },
        Err(_) => HttpResponse::internal_error(),
    }
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-authorization"
            | "proxy-authenticate"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn methods_get_their_path_from_the_resource_chain() {
        let resources = json!({"Resources": {
            "Upstream": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "ParentId": {"Fn::GetAtt": ["ApiGatewayRestApi", "RootResourceId"]},
                "PathPart": "upstream"}},
            "Greedy": {"Type": "AWS::ApiGateway::Resource", "Properties": {
                "ParentId": {"Ref": "Upstream"}, "PathPart": "{proxy+}"}},
            "ProxyMethod": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "ResourceId": {"Ref": "Greedy"}, "HttpMethod": "get",
                "Integration": {"Type": "HTTP_PROXY", "Uri": "http://h/{proxy}"}}},
            "MockMethod": {"Type": "AWS::ApiGateway::Method", "Properties": {
                "ResourceId": {"Ref": "Upstream"}, "HttpMethod": "GET",
                "Integration": {"Type": "MOCK"}}},
        }});
        let (methods, errors) = read(Some(&resources));
        assert_eq!(
            methods,
            vec![ProxyMethod {
                logical_id: "ProxyMethod".into(),
                method: "GET".into(),
                path: "/upstream/{proxy+}".into(),
                uri: "http://h/{proxy}".into(),
            }]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].logical_id, "MockMethod");
    }
}
