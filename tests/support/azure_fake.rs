//! A fake of the Azure control plane updraft deploys through: Azure Resource Manager (resource
//! groups, storage accounts and their keys, App Service plans, Function Apps with their app
//! settings and host keys, Application Insights components, the tags API, long-running
//! operations), Application Insights' query API (for a function's log), the apps' deployment endpoint (Kudu's OneDeploy `api/publish` and deployment
//! status) and the apps' own HTTP host. No emulator of these exists, so this one speaks their
//! wire format (ARM's `{"error": {"code", "message"}}`, `Azure-AsyncOperation` and `Location`
//! headers with `Retry-After`) and holds every request body to the published API descriptions
//! vendored in `tests/fixtures/azure-specs/` (see `azure_spec.rs`): an unknown field, a wrong
//! type, a read-only or a missing required property is answered 400 `InvalidRequestContent`
//! and recorded so a test can fail on it. Blobs are not faked: the storage accounts it creates
//! point at an Azurite blob endpoint given at start.
//!
//! What it keeps to, from Azure's documentation:
//! - every call names the `api-version` updraft pins for its provider, or is refused 400;
//! - a resource in a missing group is 404 `ResourceGroupNotFound`, a missing resource 404
//!   `ResourceNotFound`, a DELETE of a missing resource 204;
//! - a storage account is created asynchronously (202 and `Location`), a Function App too (201
//!   and `Azure-AsyncOperation`, `InProgress` for a poll, then `Succeeded`), a resource group is
//!   deleted asynchronously with everything in it (202 and `Location`);
//! - a Flex Consumption plan (`FC1`) takes only Linux function apps that carry a
//!   `functionAppConfig`, and a site's `serverFarmId` must name an existing plan;
//! - OneDeploy takes a zip with `host.json` at its root and reports the deployment as Kudu does
//!   (status 1 building, 4 success, 3 failed);
//! - 409 (another operation on the resource, or another deployment) and 429 (throttled, with
//!   `Retry-After`) come on demand.
//!
//! It is shared by the tests (`#[path]`) and `examples/azure_fake.rs`, which runs it on its own.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value as Json};

#[path = "azure_fake_apps.rs"]
mod apps;
#[path = "azure_spec.rs"]
mod azure_spec;
#[path = "azure_fake_behaviour.rs"]
mod behaviour;

/// The account and key Azurite serves by default; the fake's storage accounts answer with them
/// so that blob calls reach Azurite.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// One request, as the log records it: method, path and query (no body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: String,
}

impl Logged {
    /// Whether the request changes nothing: a GET, or one of the POSTs that only list
    /// (`config/appsettings/list`, `listKeys`, `host/default/listkeys`).
    pub fn is_read(&self) -> bool {
        self.method == "GET"
            || (self.method == "POST" && self.path.to_lowercase().ends_with("/list"))
            || (self.method == "POST" && self.path.to_lowercase().ends_with("/listkeys"))
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

/// A long-running operation: polls still answered `InProgress`, and what it ends as.
#[derive(Debug)]
struct Operation {
    polls_left: u32,
    failure: Option<String>,
    /// The resource a `Location` poll answers with when done, by lower-case id.
    resource: Option<String>,
}

/// A OneDeploy deployment of one app.
#[derive(Debug, Clone)]
struct Deployment {
    app: String,
    polls_left: u32,
    failure: Option<String>,
}

/// A failure the next matching request gets instead of its answer.
#[derive(Debug, Clone)]
struct Injected {
    method: String,
    path_contains: String,
    status: u16,
}

/// A line a function wrote to Application Insights.
#[derive(Debug, Clone)]
struct Trace {
    function: String,
    /// RFC 3339 in UTC with milliseconds, so that text order is time order.
    timestamp: String,
    message: String,
    item_id: String,
}

#[derive(Default)]
pub(crate) struct Cloud {
    /// Application Insights traces, of every component.
    traces: Vec<Trace>,
    base: String,
    blob_endpoint: String,
    /// Resources by lower-case id, with the id as ARM spells it in `id`.
    resources: BTreeMap<String, Json>,
    /// App settings of each site, by the site's lower-case id.
    settings: BTreeMap<String, BTreeMap<String, String>>,
    operations: BTreeMap<String, Operation>,
    deployments: BTreeMap<String, Deployment>,
    /// The last zip each app was sent, by app name.
    packages: BTreeMap<String, Vec<u8>>,
    injected: VecDeque<Injected>,
    log: Vec<Logged>,
    violations: Vec<String>,
    next_id: u64,
    polls_per_operation: u32,
    specs: Option<Arc<Specs>>,
}

pub(crate) struct Specs {
    web: azure_spec::Spec,
    storage: azure_spec::Spec,
    resources: azure_spec::Spec,
    insights: azure_spec::Spec,
}

/// The fake, serving on a loopback port until dropped.
pub struct AzureFake {
    cloud: Arc<Mutex<Cloud>>,
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AzureFake {
    /// Starts the fake on `port` (0: any free port) of 127.0.0.1, on a thread of its own; its
    /// storage accounts report `blob_endpoint` (Azurite's `http://127.0.0.1:N/devstoreaccount1`).
    pub fn start(port: u16, blob_endpoint: &str) -> AzureFake {
        let specs = Arc::new(Specs {
            web: azure_spec::Spec::parse(azure_spec::WEB),
            storage: azure_spec::Spec::parse(azure_spec::STORAGE),
            resources: azure_spec::Spec::parse(azure_spec::RESOURCES),
            insights: azure_spec::Spec::parse(azure_spec::INSIGHTS),
        });
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .expect("a loopback port for the fake");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let cloud = Arc::new(Mutex::new(Cloud {
            base: url.clone(),
            blob_endpoint: format!("{}/", blob_endpoint.trim_end_matches('/')),
            polls_per_operation: 1,
            specs: Some(specs),
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
        AzureFake {
            cloud,
            url,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The environment that points updraft at this fake.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("UPDRAFT_AZURE_ENDPOINT", self.url.clone()),
            ("UPDRAFT_AZURE_SCM_ENDPOINT", format!("{}/scm", self.url)),
            (
                "UPDRAFT_AZURE_FUNCTIONS_ENDPOINT",
                format!("{}/functions", self.url),
            ),
            (
                "UPDRAFT_AZURE_INSIGHTS_ENDPOINT",
                format!("{}/insights", self.url),
            ),
            ("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION.to_string()),
        ]
    }

    /// Has `function` write `message` to Application Insights at `timestamp` (RFC 3339, UTC,
    /// milliseconds), as the Functions host would.
    pub fn add_trace(&self, function: &str, timestamp: &str, message: &str) {
        let mut cloud = self.cloud.lock().unwrap();
        let item_id = next_id(&mut cloud, "item");
        cloud.traces.push(Trace {
            function: function.to_string(),
            timestamp: timestamp.to_string(),
            message: message.to_string(),
            item_id,
        });
    }

    /// Every request so far, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.cloud.lock().unwrap().log.clone()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.cloud.lock().unwrap().log.clear();
    }

    /// Request bodies that did not fit the published descriptions.
    pub fn violations(&self) -> Vec<String> {
        self.cloud.lock().unwrap().violations.clone()
    }

    /// The ids of every resource, as ARM spells them.
    pub fn resource_ids(&self) -> Vec<String> {
        let cloud = self.cloud.lock().unwrap();
        cloud
            .resources
            .values()
            .filter_map(|r| r.get("id").and_then(Json::as_str).map(str::to_string))
            .collect()
    }

    /// The resource whose id ends with `suffix` (case-insensitive), if one does.
    pub fn resource(&self, suffix: &str) -> Option<Json> {
        let suffix = suffix.to_lowercase();
        let cloud = self.cloud.lock().unwrap();
        cloud
            .resources
            .iter()
            .find(|(id, _)| id.ends_with(&suffix))
            .map(|(_, r)| r.clone())
    }

    /// The app settings of the site named `app`.
    pub fn app_settings(&self, app: &str) -> Option<BTreeMap<String, String>> {
        let suffix = format!("/sites/{}", app.to_lowercase());
        let cloud = self.cloud.lock().unwrap();
        cloud
            .settings
            .iter()
            .find(|(id, _)| id.ends_with(&suffix))
            .map(|(_, s)| s.clone())
    }

    /// The zip last published to `app`.
    pub fn package_of(&self, app: &str) -> Option<Vec<u8>> {
        self.cloud.lock().unwrap().packages.get(app).cloned()
    }

    /// Puts a resource there as someone else's tool would (no updraft tags).
    pub fn insert(&self, id: &str, resource: Json) {
        let mut resource = resource;
        resource["id"] = json!(id);
        self.cloud
            .lock()
            .unwrap()
            .resources
            .insert(id.to_lowercase(), resource);
    }

    /// Deletes the resource whose id ends with `suffix` (case-insensitive) as the portal would:
    /// at once, with its app settings.
    pub fn remove(&self, suffix: &str) {
        let suffix = suffix.to_lowercase();
        let mut cloud = self.cloud.lock().unwrap();
        cloud.resources.retain(|id, _| !id.ends_with(&suffix));
        cloud.settings.retain(|id, _| !id.ends_with(&suffix));
    }

    /// Sets one app setting of the site named `app` as the portal would.
    pub fn set_app_setting(&self, app: &str, name: &str, value: &str) {
        let suffix = format!("/sites/{}", app.to_lowercase());
        let mut cloud = self.cloud.lock().unwrap();
        if let Some((_, settings)) = cloud
            .settings
            .iter_mut()
            .find(|(id, _)| id.ends_with(&suffix))
        {
            settings.insert(name.to_string(), value.to_string());
        }
    }

    /// Every resource tagged as `service` and `stage`'s, as `type name`, sorted.
    pub fn owned(&self, service: &str, stage: &str) -> Vec<String> {
        let cloud = self.cloud.lock().unwrap();
        let mut owned: Vec<String> = cloud
            .resources
            .values()
            .filter(|resource| {
                resource
                    .pointer("/tags/updraft-service")
                    .and_then(Json::as_str)
                    == Some(service)
                    && resource
                        .pointer("/tags/updraft-stage")
                        .and_then(Json::as_str)
                        == Some(stage)
            })
            .map(|resource| {
                format!(
                    "{} {}",
                    resource["type"].as_str().unwrap_or_default(),
                    resource["name"].as_str().unwrap_or_default()
                )
            })
            .collect();
        owned.sort();
        owned
    }

    /// The next `times` requests with `method` whose path contains `path_contains` get `status`
    /// (409 `Conflict`, 429 `TooManyRequests` with `Retry-After: 0`, 500 ...) instead.
    pub fn fail_next(&self, method: &str, path_contains: &str, status: u16, times: usize) {
        let mut cloud = self.cloud.lock().unwrap();
        for _ in 0..times {
            cloud.injected.push_back(Injected {
                method: method.to_string(),
                path_contains: path_contains.to_lowercase(),
                status,
            });
        }
    }
}

impl Drop for AzureFake {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The subscription the fake's environment names.
pub const SUBSCRIPTION: &str = "00000000-0000-0000-0000-00000000feed";

/// ARM's error body.
pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"error": {"code": code, "message": message.into()}}).to_string(),
    )
        .into_response()
}

pub(crate) fn answer(status: StatusCode, body: &Json) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
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
    cloud.log.push(Logged {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().unwrap_or_default().to_string(),
    });
    let lower = path.to_lowercase();
    if let Some(position) = cloud
        .injected
        .iter()
        .position(|i| i.method == method.as_str() && lower.contains(&i.path_contains))
    {
        let injected = cloud.injected.remove(position).expect("present");
        return injected_failure(injected.status);
    }
    if let Some(rest) = path.strip_prefix("/scm/") {
        return apps::scm(&mut cloud, &method, rest, &headers, &body);
    }
    if let Some(rest) = path.strip_prefix("/functions/") {
        return apps::app_host(&mut cloud, &method, rest, &headers, &query, &body);
    }
    if let Some(rest) = path.strip_prefix("/insights/") {
        return apps::insights_query(&mut cloud, &method, rest, &body);
    }
    if let Some(id) = path.strip_prefix("/operations/") {
        let location_style = query.get("style").is_some_and(|s| s == "location");
        return behaviour::poll(&mut cloud, id, location_style);
    }
    let parsed: Result<Json, String> = if body.is_empty() {
        Ok(Json::Null)
    } else {
        serde_json::from_slice(&body).map_err(|e| format!("the request body is not JSON: {e}"))
    };
    behaviour::management(&mut cloud, &method, &path, &query, parsed)
}

fn injected_failure(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = match status.as_u16() {
        409 => (
            "Conflict",
            "Another operation is in progress on the resource; try again later.",
        ),
        429 => (
            "TooManyRequests",
            "The request is being throttled; retry after the interval given.",
        ),
        _ => ("InternalServerError", "An unexpected error occurred."),
    };
    let mut response = error(status, code, message);
    response
        .headers_mut()
        .insert("retry-after", "0".parse().expect("a header value"));
    response
}

pub(crate) fn next_id(cloud: &mut Cloud, kind: &str) -> String {
    cloud.next_id += 1;
    format!("{kind}-{}", cloud.next_id)
}
