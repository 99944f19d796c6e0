//! What the Azure fake does with a request to an app (`azure_fake.rs` routes them): the
//! deployment endpoint's OneDeploy and deployment status, and the app's own HTTP host, which
//! reads the `function.json` files of the package it was sent.

use std::collections::BTreeMap;
use std::io::Read;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value as Json};

use super::behaviour::{FUNCTION_KEY, MASTER_KEY};
use super::{answer, error, next_id, Cloud, Deployment};

/// The deployment endpoint (Kudu) of an app: `{app}/api/publish` and its deployments.
pub(super) fn scm(
    cloud: &mut Cloud,
    method: &Method,
    rest: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let app = parts[0].to_string();
    if site_of(cloud, &app).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No app `{app}`: create the Function App first."),
        );
    }
    match (method.as_str(), &parts[1..]) {
        ("POST", ["api", "publish"]) => {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if content_type != "application/zip" {
                return error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    "OneDeploy takes `content-type: application/zip`.",
                );
            }
            let busy = cloud
                .deployments
                .values()
                .any(|d| d.app == app && d.polls_left > 0);
            if busy {
                return error(
                    StatusCode::CONFLICT,
                    "Conflict",
                    "There is a deployment currently in progress. Please try again when it \
                     completes.",
                );
            }
            let failure = functions_of_zip(body).err();
            cloud.packages.insert(app.clone(), body.to_vec());
            let id = next_id(cloud, "deployment");
            let polls_left = cloud.polls_per_operation;
            cloud.deployments.insert(
                id.clone(),
                Deployment {
                    app: app.clone(),
                    polls_left,
                    failure,
                },
            );
            let mut response = answer(StatusCode::ACCEPTED, &Json::Null);
            let url = format!("{}/scm/{app}/api/deployments/{id}", cloud.base);
            response
                .headers_mut()
                .insert("location", url.parse().expect("a header value"));
            response
        }
        ("GET", ["api", "deployments", id]) => {
            let id = if *id == "latest" {
                cloud
                    .deployments
                    .iter()
                    .filter(|(_, d)| d.app == app)
                    .map(|(id, _)| id.clone())
                    .next_back()
            } else {
                Some(id.to_string())
            };
            let Some(deployment) = id.as_ref().and_then(|id| cloud.deployments.get_mut(id)) else {
                return error(StatusCode::NOT_FOUND, "NotFound", "No such deployment.");
            };
            let running = deployment.polls_left > 0;
            deployment.polls_left = deployment.polls_left.saturating_sub(1);
            let (status, text) = match (running, &deployment.failure) {
                (true, _) => (1, "Building and deploying".to_string()),
                (false, Some(message)) => (3, message.clone()),
                (false, None) => (4, String::new()),
            };
            answer(
                StatusCode::OK,
                &json!({
                    "id": id,
                    "status": status,
                    "status_text": text,
                    "complete": !running,
                    "deployer": "OneDeploy",
                }),
            )
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The fake's deployment endpoint serves no {method} {rest}."),
        ),
    }
}

fn site_of(cloud: &Cloud, app: &str) -> Option<Json> {
    let suffix = format!("/providers/microsoft.web/sites/{}", app.to_lowercase());
    cloud
        .resources
        .iter()
        .find(|(id, _)| id.ends_with(&suffix))
        .map(|(_, site)| site.clone())
}

/// An HTTP trigger, as a package's `function.json` declares it.
#[derive(Debug, Clone)]
struct HttpTrigger {
    function: String,
    route: String,
    methods: Vec<String>,
    auth_level: String,
}

/// The functions in a OneDeploy zip, by name, with their HTTP triggers; refuses a package the
/// Functions host would not start.
fn functions_of_zip(zip: &[u8]) -> Result<BTreeMap<String, Option<HttpTrigger>>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| format!("the package is not a zip: {e}"))?;
    if archive.by_name("host.json").is_err() {
        return Err("host.json was not found at the root of the package".into());
    }
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    let mut functions = BTreeMap::new();
    for name in names {
        let Some(function) = name.strip_suffix("/function.json") else {
            continue;
        };
        if function.contains('/') {
            continue;
        }
        let mut text = String::new();
        archive
            .by_name(&name)
            .map_err(|e| e.to_string())?
            .read_to_string(&mut text)
            .map_err(|e| format!("{name}: {e}"))?;
        let document: Json =
            serde_json::from_str(&text).map_err(|e| format!("{name} is not JSON: {e}"))?;
        let bindings = document
            .get("bindings")
            .and_then(Json::as_array)
            .ok_or_else(|| format!("{name} has no `bindings` list"))?;
        let http = bindings
            .iter()
            .find(|b| b.get("type").and_then(Json::as_str) == Some("httpTrigger"))
            .map(|binding| HttpTrigger {
                function: function.to_string(),
                route: binding
                    .get("route")
                    .and_then(Json::as_str)
                    .unwrap_or(function)
                    .to_string(),
                methods: binding
                    .get("methods")
                    .and_then(Json::as_array)
                    .map(|m| {
                        m.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_uppercase)
                            .collect()
                    })
                    .unwrap_or_default(),
                auth_level: binding
                    .get("authLevel")
                    .and_then(Json::as_str)
                    .unwrap_or("function")
                    .to_lowercase(),
            });
        functions.insert(function.to_string(), http);
    }
    Ok(functions)
}

/// An app's own host: `{app}/api/{route}` for HTTP triggers, `{app}/admin/functions/{name}` for
/// the rest. It runs no code: it answers with what the function would be sent, after the
/// routing and key checks the Functions host makes.
pub(super) fn app_host(
    cloud: &mut Cloud,
    method: &Method,
    rest: &str,
    headers: &HeaderMap,
    query: &BTreeMap<String, String>,
    body: &[u8],
) -> Response {
    let (app, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(package) = cloud.packages.get(app).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("App `{app}` has no code deployed."),
        );
    };
    let functions = functions_of_zip(&package).unwrap_or_default();
    let key = headers
        .get("x-functions-key")
        .and_then(|v| v.to_str().ok())
        .or(query.get("code").map(String::as_str))
        .unwrap_or_default()
        .to_string();
    let text = String::from_utf8_lossy(body).to_string();
    if let Some(name) = path.strip_prefix("admin/functions/") {
        if key != MASTER_KEY {
            return error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "The master key is needed.",
            );
        }
        if method != Method::POST || !functions.contains_key(name) {
            return error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("No function `{name}`."),
            );
        }
        return answer(StatusCode::ACCEPTED, &Json::Null);
    }
    let Some(route) = path.strip_prefix("api/") else {
        return error(StatusCode::NOT_FOUND, "NotFound", "No such path.");
    };
    let trigger = functions
        .values()
        .flatten()
        .find(|t| route_matches(&t.route, route));
    let Some(trigger) = trigger else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No route `{route}`."),
        );
    };
    if !trigger.methods.is_empty() && !trigger.methods.contains(&method.to_string()) {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("`{route}` takes {}.", trigger.methods.join(", ")),
        );
    }
    let authorized = key == FUNCTION_KEY || key == MASTER_KEY;
    if trigger.auth_level != "anonymous" && !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "A function key is needed.",
        );
    }
    answer(
        StatusCode::OK,
        &json!({
            "function": trigger.function,
            "served_by": "the updraft Azure fake",
            "method": method.as_str(),
            "authorized": authorized,
            "body": serde_json::from_str::<Json>(&text).unwrap_or(Json::String(text)),
        }),
    )
}

/// Whether `path` fits a Functions route template (`items/{id}`, `{*rest}`).
fn route_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    for (index, part) in template.iter().enumerate() {
        if part.starts_with("{*") {
            return true;
        }
        let Some(given) = path.get(index) else {
            return part.ends_with("?}");
        };
        let parameter = part.starts_with('{') && part.ends_with('}');
        if !parameter && !part.eq_ignore_ascii_case(given) {
            return false;
        }
    }
    template.len() == path.len()
}

/// Application Insights' query API: `v1/apps/{appId}/query` with the query updraft sends for a
/// function's log. The fake reads only what that query says (the window, `operation_Name`,
/// `line contains`) from its text, and answers in the API's table format.
pub(super) fn insights_query(
    cloud: &mut Cloud,
    method: &Method,
    rest: &str,
    body: &[u8],
) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let ["v1", "apps", app_id, "query"] = parts.as_slice() else {
        return error(
            StatusCode::NOT_FOUND,
            "PathNotFoundError",
            format!("No path `{rest}`."),
        );
    };
    let known = cloud
        .resources
        .values()
        .any(|r| r.pointer("/properties/AppId").and_then(Json::as_str) == Some(app_id));
    if method != Method::POST || !known {
        return error(
            StatusCode::NOT_FOUND,
            "ApplicationNotFoundError",
            format!("Application not found: {app_id}"),
        );
    }
    let query = serde_json::from_slice::<Json>(body)
        .ok()
        .and_then(|b| b.get("query").and_then(Json::as_str).map(str::to_string))
        .unwrap_or_default();
    let between = |start: &str, end: &str| -> Option<String> {
        let from = query.find(start)? + start.len();
        let to = query[from..].find(end)? + from;
        Some(query[from..to].replace("\\'", "'").replace("\\\\", "\\"))
    };
    let (Some(since), Some(function)) = (
        between("timestamp >= datetime(", ")"),
        between("operation_Name =~ '", "'\n"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadArgumentError",
            "The query names no window or no operation.",
        );
    };
    let until = between("timestamp < datetime(", ")");
    let contains = between("line contains '", "'\n");
    let rows: Vec<Json> = cloud
        .traces
        .iter()
        .filter(|t| t.function.eq_ignore_ascii_case(&function))
        .filter(|t| t.timestamp.as_str() >= since.as_str())
        .filter(|t| {
            until
                .as_ref()
                .is_none_or(|u| t.timestamp.as_str() < u.as_str())
        })
        .filter(|t| {
            contains
                .as_ref()
                .is_none_or(|c| t.message.contains(c.as_str()))
        })
        .map(|t| json!([t.timestamp, t.message, t.item_id, "instance-1"]))
        .collect();
    answer(
        StatusCode::OK,
        &json!({"tables": [{
            "name": "PrimaryResult",
            "columns": [
                {"name": "timestamp", "type": "datetime"},
                {"name": "line", "type": "string"},
                {"name": "itemId", "type": "string"},
                {"name": "cloud_RoleInstance", "type": "string"},
            ],
            "rows": rows,
        }]}),
    )
}
