//! What the Google Cloud fake does with a request once routed (`gcp_fake.rs` routes them):
//! checking a body against the discovery documents, what Google fills in, long-running
//! operations, masked PATCHes, signed uploads and Cloud Logging's `entries.list`.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};
use updraft::provider::gcp::discovery::{self, Enums};

use super::{error, ok, Cloud, Operation, DEFAULT_ACCOUNT};

#[derive(Clone, Copy)]
pub(super) enum Api {
    Functions,
    Scheduler,
    Run,
    Logging,
}

/// The request's JSON body, checked against `schema`; a body that is not JSON, or does not fit,
/// is answered as Google answers it.
pub(super) fn request_body(
    cloud: &mut Cloud,
    parsed: &Result<Json, String>,
    api: Api,
    schema: &str,
    enums: Enums,
) -> Result<Json, Box<Response>> {
    let body = parsed
        .clone()
        .map_err(|message| Box::new(error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)))?;
    match checked(cloud, api, schema, &body, enums) {
        Some(refused) => Err(Box::new(refused)),
        None => Ok(body),
    }
}

/// Checks `body` against `schema`; a misfit is recorded and answered as Google does.
pub(super) fn checked(
    cloud: &mut Cloud,
    api: Api,
    schema: &str,
    body: &Json,
    enums: Enums,
) -> Option<Response> {
    let documents = cloud.documents.clone().expect("the documents");
    let document = match api {
        Api::Functions => &documents.functions,
        Api::Scheduler => &documents.scheduler,
        Api::Run => &documents.run,
        Api::Logging => &documents.logging,
    };
    let violations = discovery::check_with(document, schema, body, enums);
    if violations.is_empty() {
        return None;
    }
    let message = violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    cloud.violations.push(format!("{schema}: {message}"));
    Some(error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        format!("Invalid JSON payload received. {message}"),
    ))
}

pub(super) fn next_id(cloud: &mut Cloud, kind: &str) -> String {
    cloud.next_id += 1;
    format!("{kind}-{}", cloud.next_id)
}

/// 409 while another operation on `function` runs.
pub(super) fn busy(cloud: &Cloud, function: &str) -> Option<Response> {
    let blocked = cloud
        .blocked
        .get(function)
        .is_some_and(|until| std::time::Instant::now() < *until);
    (blocked
        || cloud
            .operations
            .values()
            .any(|operation| operation.function == function && operation.polls_left > 0))
    .then(|| {
            error(
                StatusCode::CONFLICT,
                "ABORTED",
                format!("An operation on function {function} is already in progress. Please try again later."),
            )
        })
}

/// A Cloud Run service exists while its function does.
pub(super) fn service_exists(cloud: &Cloud, service: &str) -> bool {
    cloud
        .functions
        .values()
        .any(|f| f.pointer("/serviceConfig/service").and_then(Json::as_str) == Some(service))
}

/// What Google adds to a function it deploys.
pub(super) fn server_fields(
    base: &str,
    mut function: Json,
    project: &str,
    location: &str,
    id: &str,
) -> Json {
    function["state"] = json!("ACTIVE");
    function["environment"] = json!("GEN_2");
    function["updateTime"] = json!("2026-01-01T00:00:00Z");
    function["url"] = json!(format!(
        "https://{location}-{project}.cloudfunctions.net/{id}"
    ));
    if !function["serviceConfig"].is_object() {
        function["serviceConfig"] = json!({});
    }
    let config = &mut function["serviceConfig"];
    config["service"] = json!(format!(
        "projects/{project}/locations/{location}/services/{id}"
    ));
    config["uri"] = json!(format!("{base}/fn/{id}"));
    if config.get("serviceAccountEmail").is_none_or(Json::is_null) {
        config["serviceAccountEmail"] = json!(DEFAULT_ACCOUNT);
    }
    if config.get("maxInstanceCount").is_none_or(Json::is_null) {
        config["maxInstanceCount"] = json!(100);
    }
    if !config["environmentVariables"].is_object() {
        config["environmentVariables"] = json!({});
    }
    config["environmentVariables"]["LOG_EXECUTION_ID"] = json!("true");
    function
}

/// A masked PATCH: each path of `mask` (`serviceConfig.availableMemory`) takes the body's value,
/// or is cleared when the body has none; nothing else changes.
pub(super) fn apply_mask(target: &mut Json, body: &Json, mask: &str) {
    for path in mask.split(',') {
        let pointer = format!("/{}", path.replace('.', "/"));
        set_path(target, &pointer, body.pointer(&pointer).cloned());
    }
}

/// Sets (or, for `None`, removes) the value at a JSON pointer, making objects on the way.
pub(super) fn set_path(target: &mut Json, pointer: &str, value: Option<Json>) {
    let keys: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let mut node = target;
    for key in &keys[..keys.len() - 1] {
        if !node[*key].is_object() {
            node[*key] = json!({});
        }
        node = &mut node[*key];
    }
    let last = keys[keys.len() - 1];
    match value {
        Some(value) => node[last] = value,
        None => {
            if let Some(object) = node.as_object_mut() {
                object.remove(last);
            }
        }
    }
}

pub(super) fn operation(
    cloud: &mut Cloud,
    function: &str,
    verb: &'static str,
    result: Option<Json>,
) -> Response {
    let parts: Vec<&str> = function.split('/').collect();
    let id = next_id(cloud, "operation");
    let name = format!(
        "projects/{}/locations/{}/operations/{id}",
        parts[1], parts[3]
    );
    // A build needs its source uploaded.
    let error = result.as_ref().and_then(|f| {
        let source = f.pointer("/buildConfig/source/storageSource")?;
        let key = format!(
            "{}/{}",
            source.get("bucket")?.as_str()?,
            source.get("object")?.as_str()?
        );
        (!cloud.objects.contains_key(&key)).then(|| {
            format!("Build failed: the source gs://{key} does not exist; upload it to the URL generateUploadUrl gave first")
        })
    });
    let polls_left = cloud.polls_per_operation;
    cloud.operations.insert(
        name.clone(),
        Operation {
            polls_left,
            function: function.to_string(),
            verb,
            result,
            error,
        },
    );
    ok(operation_json(cloud, &name))
}

pub(super) fn operation_json(cloud: &Cloud, name: &str) -> Json {
    let operation = &cloud.operations[name];
    let total = cloud.polls_per_operation.max(1);
    let progress = total - operation.polls_left.min(total);
    let (build, service) = match (operation.polls_left, progress) {
        (0, _) => ("COMPLETE", "COMPLETE"),
        (_, 0) => ("IN_PROGRESS", "NOT_STARTED"),
        _ => ("COMPLETE", "IN_PROGRESS"),
    };
    let mut body = json!({
        "name": name,
        "metadata": {
            "@type": "type.googleapis.com/google.cloud.functions.v2.OperationMetadata",
            "target": operation.function,
            "verb": operation.verb,
            "apiVersion": "v2",
            "stages": [
                {"name": "BUILD", "state": build},
                {"name": "SERVICE", "state": service},
            ],
        },
        "done": operation.polls_left == 0,
    });
    if operation.polls_left == 0 {
        match (&operation.error, &operation.result) {
            (Some(message), _) => body["error"] = json!({"code": 3, "message": message}),
            (None, Some(function)) => {
                let mut response = function.clone();
                response["@type"] = json!("type.googleapis.com/google.cloud.functions.v2.Function");
                body["response"] = response;
            }
            (None, None) => {
                body["response"] = json!({"@type": "type.googleapis.com/google.protobuf.Empty"})
            }
        }
    }
    body
}

/// One poll: the operation moves a step; when it ends, its change takes effect.
pub(super) fn poll(cloud: &mut Cloud, name: &str) -> Response {
    let Some(operation) = cloud.operations.get_mut(name) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Operation '{name}' not found"),
        );
    };
    if operation.polls_left > 0 {
        operation.polls_left -= 1;
        if operation.polls_left == 0 {
            let function = operation.function.clone();
            match (&operation.error, &operation.result) {
                (Some(_), _) => {
                    if let Some(f) = cloud.functions.get_mut(&function) {
                        f["state"] = json!("FAILED");
                    }
                }
                (None, Some(result)) => {
                    let result = result.clone();
                    cloud.functions.insert(function, result);
                }
                (None, None) => {
                    cloud.functions.remove(&function);
                    let service = function.replace("/functions/", "/services/");
                    cloud.policies.remove(&service);
                }
            }
        }
    }
    ok(operation_json(cloud, name))
}

/// The PUT of a function's zip to its signed upload URL.
pub(super) fn upload(
    cloud: &mut Cloud,
    method: &Method,
    token: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let signature_error = |message: &str| {
        (
            StatusCode::FORBIDDEN,
            format!("<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code><Message>{message}</Message></Error>"),
        )
            .into_response()
    };
    if method != Method::PUT {
        return signature_error(
            "The request signature we calculated does not match: the URL was signed for PUT",
        );
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    if content_type != Some("application/zip") {
        return signature_error("The request signature we calculated does not match: the URL was signed with content-type: application/zip");
    }
    let Some(upload) = cloud.uploads.get_mut(token) else {
        return signature_error("The upload URL is not one this service gave");
    };
    if !body.starts_with(b"PK") {
        return (StatusCode::BAD_REQUEST, "the body is not a zip archive").into_response();
    }
    let key = format!("{}/{}", upload.bucket, upload.object);
    cloud.objects.insert(key, body.to_vec());
    StatusCode::OK.into_response()
}

/// `entries.list`, for the filters updraft writes: a service name and a time window (RFC 3339
/// times in UTC compare as text), oldest first, `pageSize` at a time.
pub(super) fn list_entries(cloud: &Cloud, request: &Json) -> Response {
    let filter = request["filter"].as_str().unwrap_or_default();
    let quoted_after = |marker: &str| {
        filter
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string)
    };
    let service = quoted_after("resource.labels.service_name=\"");
    let from = quoted_after("timestamp>=\"");
    let until = quoted_after("timestamp<\"");
    let projects: Vec<String> = request["resourceNames"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let matching: Vec<&Json> = cloud
        .entries
        .iter()
        .filter(|entry| {
            let project = format!(
                "projects/{}",
                entry["resource"]["labels"]["project_id"]
                    .as_str()
                    .unwrap_or_default()
            );
            let time = entry["timestamp"].as_str().unwrap_or_default();
            projects.contains(&project)
                && service
                    .as_deref()
                    .is_none_or(|s| entry["resource"]["labels"]["service_name"] == s)
                && from.as_deref().is_none_or(|from| time >= from)
                && until.as_deref().is_none_or(|until| time < until)
        })
        .collect();
    let size = request["pageSize"]
        .as_u64()
        .filter(|n| *n > 0)
        .unwrap_or(50) as usize;
    let start: usize = request["pageToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let page: Vec<&Json> = matching.iter().skip(start).take(size).copied().collect();
    let mut body = json!({"entries": page});
    if start + size < matching.len() {
        body["nextPageToken"] = json!((start + size).to_string());
    }
    ok(body)
}
