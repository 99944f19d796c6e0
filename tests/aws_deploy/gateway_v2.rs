//! The API Gateway v2 calls moto (5.2.5) does not implement, answered by the proxy so the HTTP
//! and WebSocket API tests can run as against AWS:
//!
//! - `GetAuthorizers` (`GET /v2/apis/{id}/authorizers`): listed from moto's own `GetAuthorizer`
//!   of each authorizer created through the proxy;
//! - `GetRouteResponses` (`GET /v2/apis/{id}/routes/{id}/routeresponses`): moto fails with a
//!   500; listed from moto's `GetRouteResponse` of each response created through the proxy;
//! - deployments (`CreateDeployment`, `GetDeployments`, `GetDeployment`, `DeleteDeployment`):
//!   moto has no such paths (404); kept here, with AWS's refusal to delete a deployment a stage
//!   serves;
//! - a stage's `deploymentId`: moto's `CreateStage` drops it and its `UpdateStage` fails with a
//!   500; the proxy remembers the deployment each stage serves, answers `UpdateStage` and adds
//!   `deploymentId` to moto's `GetStages`.
//!
//! Everything else goes to moto as it is.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;

use serde_json::{json, Value as Json};

/// What the proxy keeps of the API Gateway v2 resources made through it.
#[derive(Default)]
pub struct Gateway {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Authorizer ids by API id.
    authorizers: HashMap<String, Vec<String>>,
    /// Route response ids by API id and route id.
    route_responses: HashMap<(String, String), Vec<String>>,
    /// Deployments by API id, as API Gateway answers them.
    deployments: HashMap<String, Vec<Json>>,
    /// The deployment each stage serves, by API id and stage name.
    stages: HashMap<(String, String), String>,
    made: u64,
}

/// One request, as far as the gaps need it.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path split at `/`, without the leading one.
    pub parts: &'a [&'a str],
    /// The request head (request line and headers), for calls the proxy makes to moto itself.
    pub head: &'a str,
    pub body: &'a [u8],
}

impl Gateway {
    /// The proxy's own answer to a call moto lacks; `None` to forward the request.
    pub fn answer(&self, request: &Request, upstream: &str) -> Option<Vec<u8>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let body: Json = serde_json::from_slice(request.body).unwrap_or(Json::Null);
        match (request.method, request.parts) {
            ("GET", ["v2", "apis", api, "authorizers"]) => {
                let ids = state.authorizers.get(*api).cloned().unwrap_or_default();
                drop(state);
                let paths = ids
                    .iter()
                    .map(|id| format!("/v2/apis/{api}/authorizers/{id}"))
                    .collect();
                Some(list(upstream, request.head, paths, "authorizerId"))
            }
            ("GET", ["v2", "apis", api, "routes", route, "routeresponses"]) => {
                let key = (api.to_string(), route.to_string());
                let ids = state.route_responses.get(&key).cloned().unwrap_or_default();
                drop(state);
                let paths = ids
                    .iter()
                    .map(|id| format!("/v2/apis/{api}/routes/{route}/routeresponses/{id}"))
                    .collect();
                Some(list(upstream, request.head, paths, "routeResponseId"))
            }
            ("POST", ["v2", "apis", api, "deployments"]) => {
                state.made += 1;
                let deployment = json!({
                    "deploymentId": format!("dep{:05}", state.made),
                    "deploymentStatus": "DEPLOYED",
                    "description": body.get("description").cloned().unwrap_or(Json::Null),
                    "autoDeployed": false,
                });
                state
                    .deployments
                    .entry(api.to_string())
                    .or_default()
                    .push(deployment.clone());
                Some(answer_json(201, &deployment))
            }
            ("GET", ["v2", "apis", api, "deployments"]) => {
                let items = state.deployments.get(*api).cloned().unwrap_or_default();
                Some(answer_json(200, &json!({ "items": items })))
            }
            ("GET", ["v2", "apis", api, "deployments", id]) => {
                match find_deployment(&state, api, id) {
                    Some(deployment) => Some(answer_json(200, &deployment)),
                    None => Some(error(
                        404,
                        "NotFoundException",
                        "Invalid Deployment identifier",
                    )),
                }
            }
            ("DELETE", ["v2", "apis", api, "deployments", id]) => {
                if find_deployment(&state, api, id).is_none() {
                    return Some(error(
                        404,
                        "NotFoundException",
                        "Invalid Deployment identifier",
                    ));
                }
                let served = state
                    .stages
                    .iter()
                    .any(|((stage_api, _), served)| stage_api == api && served == id);
                if served {
                    return Some(error(
                        400,
                        "BadRequestException",
                        "Active stages pointing to this deployment must be moved or deleted",
                    ));
                }
                if let Some(list) = state.deployments.get_mut(*api) {
                    list.retain(|d| d["deploymentId"].as_str() != Some(id));
                }
                Some(answer_json(204, &Json::Null))
            }
            ("PATCH", ["v2", "apis", api, "stages", stage]) => {
                let key = (api.to_string(), stage.to_string());
                if let Some(deployment) = body.get("deploymentId").and_then(Json::as_str) {
                    state.stages.insert(key.clone(), deployment.to_string());
                }
                let deployment = state.stages.get(&key).cloned();
                Some(answer_json(
                    200,
                    &json!({"stageName": stage, "deploymentId": deployment}),
                ))
            }
            _ => None,
        }
    }

    /// Notes what moto made or deleted, and mends its answer where it leaves something out.
    pub fn after(&self, request: &Request, answer: Vec<u8>) -> Vec<u8> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let created: Json = serde_json::from_slice(answer_body(&answer)).unwrap_or(Json::Null);
        let sent: Json = serde_json::from_slice(request.body).unwrap_or(Json::Null);
        let text =
            |value: &Json, key: &str| value.get(key).and_then(Json::as_str).map(str::to_string);
        match (request.method, request.parts) {
            ("POST", ["v2", "apis", api, "authorizers"]) => {
                if let Some(id) = text(&created, "authorizerId") {
                    state
                        .authorizers
                        .entry(api.to_string())
                        .or_default()
                        .push(id);
                }
            }
            ("DELETE", ["v2", "apis", api, "authorizers", id]) => {
                if let Some(ids) = state.authorizers.get_mut(*api) {
                    ids.retain(|known| known != id);
                }
            }
            ("POST", ["v2", "apis", api, "routes", route, "routeresponses"]) => {
                if let Some(id) = text(&created, "routeResponseId") {
                    let key = (api.to_string(), route.to_string());
                    state.route_responses.entry(key).or_default().push(id);
                }
            }
            ("DELETE", ["v2", "apis", api, "routes", route, "routeresponses", id]) => {
                let key = (api.to_string(), route.to_string());
                if let Some(ids) = state.route_responses.get_mut(&key) {
                    ids.retain(|known| known != id);
                }
            }
            ("POST", ["v2", "apis", api, "stages"]) => {
                if let (Some(stage), Some(deployment)) =
                    (text(&sent, "stageName"), text(&sent, "deploymentId"))
                {
                    state.stages.insert((api.to_string(), stage), deployment);
                }
            }
            ("DELETE", ["v2", "apis", api, "stages", stage]) => {
                state.stages.remove(&(api.to_string(), stage.to_string()));
            }
            ("DELETE", ["v2", "apis", api]) => {
                state.deployments.remove(*api);
                state.stages.retain(|(stage_api, _), _| stage_api != api);
            }
            ("GET", ["v2", "apis", api, "stages"]) => {
                let mut listed = created;
                for item in listed["items"].as_array_mut().into_iter().flatten() {
                    let stage = item["stageName"].as_str().unwrap_or_default().to_string();
                    if let Some(deployment) = state.stages.get(&(api.to_string(), stage)) {
                        item["deploymentId"] = json!(deployment);
                    }
                }
                if listed.is_object() {
                    return answer_json(200, &listed);
                }
            }
            _ => {}
        }
        answer
    }
}

fn find_deployment(state: &State, api: &str, id: &str) -> Option<Json> {
    state
        .deployments
        .get(api)?
        .iter()
        .find(|d| d["deploymentId"].as_str() == Some(id))
        .cloned()
}

/// A list as API Gateway answers it, from moto's answer to a `GET` of each path.
fn list(upstream: &str, head: &str, paths: Vec<String>, id_key: &str) -> Vec<u8> {
    // The original headers go along: moto finds the service by the signature's scope.
    let headers: String = head
        .split("\r\n")
        .skip(1)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            let key = line.split(':').next().unwrap_or_default().trim();
            !key.eq_ignore_ascii_case("connection") && !key.eq_ignore_ascii_case("content-length")
        })
        .map(|line| format!("{line}\r\n"))
        .collect();
    let mut items = Vec::new();
    for path in paths {
        let request = format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n");
        let Ok(mut server) = TcpStream::connect(upstream) else {
            continue;
        };
        if server.write_all(request.as_bytes()).is_err() {
            continue;
        }
        let mut answer = Vec::new();
        let _ = server.read_to_end(&mut answer);
        if let Ok(item) = serde_json::from_slice::<Json>(answer_body(&answer)) {
            if item.get(id_key).is_some() {
                items.push(item);
            }
        }
    }
    answer_json(200, &json!({ "items": items }))
}

fn answer_json(status: u16, body: &Json) -> Vec<u8> {
    let body = match body {
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let reason = match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        _ => "Not Found",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An error as API Gateway answers it: the code in `x-amzn-ErrorType`, the message in the body.
fn error(status: u16, code: &str, message: &str) -> Vec<u8> {
    let body = json!({ "message": message }).to_string();
    let reason = if status == 400 {
        "Bad Request"
    } else {
        "Not Found"
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The body of an answer moto gave with a `Content-Length`.
pub fn answer_body(answer: &[u8]) -> &[u8] {
    answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|end| &answer[end + 4..])
        .unwrap_or_default()
}
