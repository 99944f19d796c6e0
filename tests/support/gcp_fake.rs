//! A fake of the Google Cloud control plane updraft deploys through: Cloud Functions v2
//! (functions, long-running operations, `generateUploadUrl` and the signed PUT), Cloud
//! Scheduler v1 jobs, and the IAM policy of Cloud Run v2 services. No emulator of these APIs
//! exists, so this one speaks their REST wire format (Google's JSON, `google.rpc.Status`
//! errors) and holds every request body to the published discovery documents vendored in
//! `tests/fixtures/gcp-discovery/`: an unknown field, a wrong type or a bad enum is answered
//! 400 `INVALID_ARGUMENT`, as Google does, and recorded so a test can fail on it.
//!
//! What it keeps to, from Google's documentation:
//! - a create or a PATCH answers an operation that is `done: false` for a few polls (with the
//!   build and service stages moving), then `done: true` with the function as its response;
//! - a PATCH changes exactly the `updateMask` paths (without a mask, the whole function is
//!   replaced, resetting what the body leaves out);
//! - a change while another operation on the function runs is refused 409 `ABORTED`;
//! - an upload URL accepts a PUT with `content-type: application/zip`, the header it was signed
//!   with, and a build fails when the source was never uploaded;
//! - Google fills in what a create leaves out: `LOG_EXECUTION_ID`, the default compute service
//!   account, at most 100 instances, the URL and the Cloud Run service.
//!
//! It is shared by the tests (`#[path]`) and `examples/gcp_fake.rs`, which runs it on its own.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value as Json};
use updraft::provider::gcp::discovery::Enums;

#[path = "gcp_fake_behaviour.rs"]
mod behaviour;
use behaviour::{
    apply_mask, busy, list_entries, next_id, operation, poll, request_body, server_fields,
    service_exists, upload, Api,
};

const FUNCTIONS_DOCUMENT: &str = include_str!("../fixtures/gcp-discovery/cloudfunctions.v2.json");
const SCHEDULER_DOCUMENT: &str = include_str!("../fixtures/gcp-discovery/cloudscheduler.v1.json");
const RUN_DOCUMENT: &str = include_str!("../fixtures/gcp-discovery/run.v2.json");
const LOGGING_DOCUMENT: &str = include_str!("../fixtures/gcp-discovery/logging.v2.json");

/// The account Google gives a function that names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012-compute@developer.gserviceaccount.com";

/// One request, as the log records it: method, path and query (without the client's `$alt`),
/// no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: String,
}

impl Logged {
    /// Whether the request changes nothing.
    pub fn is_read(&self) -> bool {
        self.method == "GET"
    }
}

impl std::fmt::Display for Logged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query)?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Operation {
    /// Polls still answered `done: false`.
    polls_left: u32,
    function: String,
    verb: &'static str,
    /// The function after the change (`None` for a delete).
    result: Option<Json>,
    /// Set when the change fails (a build without uploaded source).
    error: Option<String>,
}

#[derive(Debug)]
struct Upload {
    bucket: String,
    object: String,
}

#[derive(Default)]
struct Cloud {
    base: String,
    functions: BTreeMap<String, Json>,
    operations: BTreeMap<String, Operation>,
    uploads: BTreeMap<String, Upload>,
    /// `bucket/object` of every upload that arrived.
    objects: BTreeMap<String, Vec<u8>>,
    jobs: BTreeMap<String, Json>,
    policies: BTreeMap<String, Json>,
    /// Cloud Logging entries, in the order they were written.
    entries: Vec<Json>,
    log: Vec<Logged>,
    violations: Vec<String>,
    next_id: u64,
    polls_per_operation: u32,
    documents: Option<Arc<Documents>>,
    /// Functions another client is changing, until when: changes are refused 409 meanwhile.
    blocked: BTreeMap<String, std::time::Instant>,
}

struct Documents {
    functions: Json,
    scheduler: Json,
    run: Json,
    logging: Json,
}

/// The fake, serving on a loopback port until dropped.
pub struct GcpFake {
    cloud: Arc<Mutex<Cloud>>,
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GcpFake {
    /// Starts the fake on `port` (0: any free port) of 127.0.0.1, on a thread of its own.
    pub fn start(port: u16) -> GcpFake {
        let documents = Arc::new(Documents {
            functions: serde_json::from_str(FUNCTIONS_DOCUMENT).expect("cloudfunctions.v2.json"),
            scheduler: serde_json::from_str(SCHEDULER_DOCUMENT).expect("cloudscheduler.v1.json"),
            run: serde_json::from_str(RUN_DOCUMENT).expect("run.v2.json"),
            logging: serde_json::from_str(LOGGING_DOCUMENT).expect("logging.v2.json"),
        });
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .expect("a loopback port for the fake");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let cloud = Arc::new(Mutex::new(Cloud {
            base: url.clone(),
            polls_per_operation: 2,
            documents: Some(documents),
            ..Cloud::default()
        }));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&cloud);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                let app = Router::new().fallback(handle).with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        GcpFake {
            cloud,
            url,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Every request so far, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.cloud.lock().unwrap().log.clone()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.cloud.lock().unwrap().log.clear();
    }

    /// Request bodies that did not fit the published schemas.
    pub fn violations(&self) -> Vec<String> {
        self.cloud.lock().unwrap().violations.clone()
    }

    /// The functions, by full name.
    pub fn functions(&self) -> BTreeMap<String, Json> {
        self.cloud.lock().unwrap().functions.clone()
    }

    /// The scheduler jobs, by full name.
    pub fn jobs(&self) -> BTreeMap<String, Json> {
        self.cloud.lock().unwrap().jobs.clone()
    }

    /// The IAM policy of a Cloud Run service, by full name.
    pub fn policy(&self, service: &str) -> Option<Json> {
        self.cloud.lock().unwrap().policies.get(service).cloned()
    }

    /// The zip uploaded as a function's current source.
    pub fn source_of(&self, function: &str) -> Option<Vec<u8>> {
        let cloud = self.cloud.lock().unwrap();
        let source = cloud
            .functions
            .get(function)?
            .pointer("/buildConfig/source/storageSource")?;
        let key = format!(
            "{}/{}",
            source.get("bucket")?.as_str()?,
            source.get("object")?.as_str()?
        );
        cloud.objects.get(&key).cloned()
    }

    /// Puts a function there as someone else's tool would (no updraft labels).
    pub fn insert_function(&self, name: &str, function: Json) {
        self.cloud
            .lock()
            .unwrap()
            .functions
            .insert(name.to_string(), function);
    }

    /// Writes a log line of a function's Cloud Run service, as its runtime would.
    pub fn add_log_line(&self, project: &str, function_id: &str, timestamp: &str, text: &str) {
        let mut cloud = self.cloud.lock().unwrap();
        let insert_id = next_id(&mut cloud, "entry");
        cloud.entries.push(json!({
            "logName": format!("projects/{project}/logs/run.googleapis.com%2Fstdout"),
            "resource": {
                "type": "cloud_run_revision",
                "labels": {
                    "project_id": project,
                    "service_name": function_id,
                    "revision_name": format!("{function_id}-00001-abc"),
                    "location": "us-central1"
                }
            },
            "textPayload": text,
            "timestamp": timestamp,
            "insertId": insert_id,
            "labels": {"instanceId": "00f4instance"}
        }));
    }

    /// Has another client's operation run on `function` for `duration`: updraft's changes to it
    /// are refused with 409 `ABORTED` until then.
    pub fn block_changes(&self, function: &str, duration: std::time::Duration) {
        self.cloud
            .lock()
            .unwrap()
            .blocked
            .insert(function.to_string(), std::time::Instant::now() + duration);
    }

    /// Removes a function behind updraft's back.
    pub fn remove_function(&self, name: &str) {
        self.cloud.lock().unwrap().functions.remove(name);
    }
}

impl Drop for GcpFake {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Google's error body.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body =
        json!({"error": {"code": status.as_u16(), "message": message.into(), "status": code}});
    (status, axum::Json(body)).into_response()
}

fn ok(body: Json) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn handle(
    State(cloud): State<Arc<Mutex<Cloud>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = percent_encoding::percent_decode_str(uri.path())
        .decode_utf8_lossy()
        .to_string();
    let query: BTreeMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut cloud = cloud.lock().unwrap();
    let shown_query = query
        .iter()
        .filter(|(key, _)| key.as_str() != "$alt")
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    cloud.log.push(Logged {
        method: method.to_string(),
        path: path.clone(),
        query: shown_query,
    });
    let enums = if query
        .get("$alt")
        .is_some_and(|alt| alt.contains("enum-encoding=int"))
    {
        Enums::Numbers
    } else {
        Enums::Names
    };
    // The body as JSON, or why it is not.
    let parsed: Result<Json, String> = if body.is_empty() {
        Ok(json!({}))
    } else {
        serde_json::from_slice(&body).map_err(|e| format!("Invalid JSON payload received. {e}"))
    };
    if let Some(token) = path.strip_prefix("/upload/") {
        return upload(&mut cloud, &method, token, &headers, &body);
    }
    if let Some(function) = path.strip_prefix("/fn/") {
        // A function's URL: the fake runs no code; it answers with what it was sent, so a test
        // sees what a function would get.
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        return ok(json!({
            "function": function,
            "served_by": "the updraft Google Cloud fake",
            "method": method.as_str(),
            "contentType": header("content-type"),
            "cloudEventType": header("ce-type"),
            "authorized": header("authorization").is_some(),
            "body": parsed.clone().unwrap_or(Json::Null),
        }));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        // --- Cloud Functions v2
        ("GET", ["v2", "projects", p, "locations", l, "functions"]) => {
            let parent = format!("projects/{p}/locations/{l}/functions/");
            let functions: Vec<Json> = cloud
                .functions
                .iter()
                .filter(|(name, _)| name.starts_with(&parent))
                .map(|(_, f)| f.clone())
                .collect();
            ok(json!({"functions": functions}))
        }
        ("POST", ["v2", "projects", p, "locations", l, "functions"]) => {
            let body = match request_body(&mut cloud, &parsed, Api::Functions, "Function", enums) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let Some(id) = query.get("functionId") else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "functionId is required",
                );
            };
            let name = format!("projects/{p}/locations/{l}/functions/{id}");
            if cloud.functions.contains_key(&name) {
                return error(
                    StatusCode::CONFLICT,
                    "ALREADY_EXISTS",
                    format!("Function {id} in region {l} in project {p} already exists"),
                );
            }
            let mut function = body;
            function["name"] = json!(name);
            let result = server_fields(&cloud.base, function, p, l, id);
            let mut placeholder = result.clone();
            placeholder["state"] = json!("DEPLOYING");
            cloud.functions.insert(name.clone(), placeholder);
            operation(&mut cloud, &name, "create", Some(result))
        }
        ("POST", ["v2", "projects", _, "locations", l, "functions:generateUploadUrl"]) => {
            let token = next_id(&mut cloud, "upload");
            let bucket = format!("gcf-v2-uploads-123456789012.{l}.cloudfunctions.appspot.com");
            let object = format!("{token}.zip");
            cloud.uploads.insert(
                token.clone(),
                Upload {
                    bucket: bucket.clone(),
                    object: object.clone(),
                },
            );
            ok(json!({
                "uploadUrl": format!("{}/upload/{token}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-SignedHeaders=content-type%3Bhost", cloud.base),
                "storageSource": {"bucket": bucket, "object": object},
            }))
        }
        ("GET", ["v2", "projects", _, "locations", _, "functions", _]) => {
            let name = path.trim_start_matches("/v2/").to_string();
            match cloud.functions.get(&name) {
                Some(function) => ok(function.clone()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Resource '{name}' was not found"),
                ),
            }
        }
        ("PATCH", ["v2", "projects", _, "locations", _, "functions", _]) => {
            let name = path.trim_start_matches("/v2/").to_string();
            let body = match request_body(&mut cloud, &parsed, Api::Functions, "Function", enums) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let Some(current) = cloud.functions.get(&name).cloned() else {
                return error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Resource '{name}' was not found"),
                );
            };
            if let Some(busy) = busy(&cloud, &name) {
                return busy;
            }
            let mut next = current.clone();
            match query.get("updateMask").filter(|m| !m.is_empty()) {
                Some(mask) => apply_mask(&mut next, &body, mask),
                None => {
                    // No mask: the body replaces the function; only output fields survive.
                    let mut replaced = body.clone();
                    for output in [
                        "name",
                        "url",
                        "state",
                        "environment",
                        "updateTime",
                        "createTime",
                    ] {
                        replaced[output] = current[output].clone();
                    }
                    next = replaced;
                }
            }
            let parts: Vec<&str> = name.split('/').collect();
            let result = server_fields(&cloud.base, next, parts[1], parts[3], parts[5]);
            let mut deploying = current;
            deploying["state"] = json!("DEPLOYING");
            cloud.functions.insert(name.clone(), deploying);
            operation(&mut cloud, &name, "update", Some(result))
        }
        ("DELETE", ["v2", "projects", _, "locations", _, "functions", _]) => {
            let name = path.trim_start_matches("/v2/").to_string();
            if !cloud.functions.contains_key(&name) {
                return error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Resource '{name}' was not found"),
                );
            }
            if let Some(busy) = busy(&cloud, &name) {
                return busy;
            }
            if let Some(function) = cloud.functions.get_mut(&name) {
                function["state"] = json!("DELETING");
            }
            operation(&mut cloud, &name, "delete", None)
        }
        ("GET", ["v2", "projects", _, "locations", _, "operations", _]) => {
            let name = path.trim_start_matches("/v2/").to_string();
            poll(&mut cloud, &name)
        }
        // --- Cloud Run v2: the IAM policy of a function's service
        ("GET", ["v2", "projects", _, "locations", _, "services", service])
            if service.ends_with(":getIamPolicy") =>
        {
            let name = path
                .trim_start_matches("/v2/")
                .trim_end_matches(":getIamPolicy")
                .to_string();
            if !service_exists(&cloud, &name) {
                return error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Resource '{name}' does not exist."),
                );
            }
            ok(cloud
                .policies
                .get(&name)
                .cloned()
                .unwrap_or_else(|| json!({"etag": "BwYAAAAAAAA="})))
        }
        ("POST", ["v2", "projects", _, "locations", _, "services", service])
            if service.ends_with(":setIamPolicy") =>
        {
            let name = path
                .trim_start_matches("/v2/")
                .trim_end_matches(":setIamPolicy")
                .to_string();
            let body = match request_body(
                &mut cloud,
                &parsed,
                Api::Run,
                "GoogleIamV1SetIamPolicyRequest",
                enums,
            ) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            if !service_exists(&cloud, &name) {
                return error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Resource '{name}' does not exist."),
                );
            }
            let mut policy = body.get("policy").cloned().unwrap_or_else(|| json!({}));
            // An etag is bytes, written in base64 in Google's JSON.
            let etag = next_id(&mut cloud, "etag");
            policy["etag"] = json!(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                etag
            ));
            cloud.policies.insert(name, policy.clone());
            ok(policy)
        }
        // --- Cloud Logging v2
        ("POST", ["v2", "entries:list"]) => {
            let body = match request_body(
                &mut cloud,
                &parsed,
                Api::Logging,
                "ListLogEntriesRequest",
                enums,
            ) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            list_entries(&cloud, &body)
        }
        // --- Cloud Scheduler v1
        ("GET", ["v1", "projects", p, "locations", l, "jobs"]) => {
            let parent = format!("projects/{p}/locations/{l}/jobs/");
            let jobs: Vec<Json> = cloud
                .jobs
                .iter()
                .filter(|(name, _)| name.starts_with(&parent))
                .map(|(_, job)| job.clone())
                .collect();
            ok(json!({"jobs": jobs}))
        }
        ("POST", ["v1", "projects", p, "locations", l, "jobs"]) => {
            let body = match request_body(&mut cloud, &parsed, Api::Scheduler, "Job", enums) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let Some(name) = body.get("name").and_then(Json::as_str).map(str::to_string) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "job name is required",
                );
            };
            if !name.starts_with(&format!("projects/{p}/locations/{l}/jobs/")) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    format!("job name {name} is not under the parent"),
                );
            }
            if cloud.jobs.contains_key(&name) {
                return error(
                    StatusCode::CONFLICT,
                    "ALREADY_EXISTS",
                    format!("Job {name} already exists."),
                );
            }
            let mut job = body;
            job["state"] = json!("ENABLED");
            job["userUpdateTime"] = json!("2026-01-01T00:00:00Z");
            cloud.jobs.insert(name, job.clone());
            ok(job)
        }
        ("GET", ["v1", "projects", _, "locations", _, "jobs", _]) => {
            let name = path.trim_start_matches("/v1/").to_string();
            match cloud.jobs.get(&name) {
                Some(job) => ok(job.clone()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Job not found: {name}"),
                ),
            }
        }
        ("PATCH", ["v1", "projects", _, "locations", _, "jobs", _]) => {
            let name = path.trim_start_matches("/v1/").to_string();
            let body = match request_body(&mut cloud, &parsed, Api::Scheduler, "Job", enums) {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let Some(mut job) = cloud.jobs.get(&name).cloned() else {
                return error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Job not found: {name}"),
                );
            };
            match query.get("updateMask").filter(|m| !m.is_empty()) {
                Some(mask) => apply_mask(&mut job, &body, mask),
                None => {
                    let state = job["state"].clone();
                    job = body;
                    job["state"] = state;
                }
            }
            cloud.jobs.insert(name, job.clone());
            ok(job)
        }
        ("DELETE", ["v1", "projects", _, "locations", _, "jobs", _]) => {
            let name = path.trim_start_matches("/v1/").to_string();
            match cloud.jobs.remove(&name) {
                Some(_) => ok(json!({})),
                None => error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("Job not found: {name}"),
                ),
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("the fake does not serve {method} {path}"),
        ),
    }
}
