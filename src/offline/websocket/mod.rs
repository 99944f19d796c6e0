//! `websocket` events served as an API Gateway WebSocket API on their own port: clients connect
//! with a WebSocket upgrade (at `/`, at `/{stage}` as AWS's URLs have it, or at any other path,
//! as serverless-offline accepts), `$connect` decides
//! whether they may, each message goes to the route the route selection expression names,
//! `$disconnect` runs when a connection ends, and functions reach their clients through the
//! `@connections` management API on the same port.
//!
//! [`routes`] knows the routes and picks one for a message, [`events`] builds what the
//! functions receive, [`dispatch`] runs them and acts on their answers, [`connections`] keeps the
//! open connections and their loops, [`management`] is `@connections`. This file is the
//! upgrade handler and the port's lifecycle.

pub mod authorizer;
pub mod connections;
pub mod dispatch;
pub mod events;
pub mod management;
pub mod routes;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Response, StatusCode, Uri};
use axum::Router;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::manifest::model::Service;
use crate::offline::connection::{self, Timeouts};
use crate::offline::invoke::Invoker;
use crate::offline::server::{self, Observer, OfflineError};
use connections::{ConnectionLimits, Connections};
use dispatch::Admission;
use events::ConnectionContext;
use routes::RouteTable;

/// The API id in events (`requestContext.apiId`).
pub const API_ID: &str = "offlinews";

/// API Gateway's limit on one frame (32 KB); a message may span frames up to 128 KB.
const MAX_FRAME_BYTES: usize = 32 * 1024;

/// What the WebSocket port needs.
pub struct WebSocketState {
    pub routes: RouteTable,
    pub invoker: Arc<dyn Invoker>,
    pub observer: Arc<dyn Observer>,
    pub region: String,
    pub stage: String,
    pub limits: ConnectionLimits,
    pub connections: Arc<Connections>,
    /// Cancelled to close every connection (each then runs its `$disconnect`).
    pub close_all: CancellationToken,
    /// The longest pause allowed within a `@connections` request body.
    pub body_idle: Duration,
    /// `--noAuth`: authorizers do not run.
    pub no_auth: bool,
}

/// One route run (or refused) on a connection, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketLog {
    pub route_key: String,
    pub connection_id: String,
    /// The function that ran, if a route matched.
    pub function: Option<String>,
    /// Its invocation's log (START to REPORT), if it ran.
    pub invocation_log: Option<String>,
    /// `ok`, `error`, or why nothing ran.
    pub outcome: String,
    pub duration_ms: u128,
}

/// The WebSocket port's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebSocketOptions {
    /// 0 picks a free port.
    pub port: u16,
    pub limits: ConnectionLimits,
    /// `--noAuth`: `$connect` runs without its authorizer.
    pub no_auth: bool,
}

impl Default for WebSocketOptions {
    /// Port 3001, as serverless-offline.
    fn default() -> WebSocketOptions {
        WebSocketOptions {
            port: 3001,
            limits: ConnectionLimits::default(),
            no_auth: false,
        }
    }
}

/// A route's authorizer is not a function of the service, so it cannot run offline: the route
/// admits every client.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("the WebSocket route `{route}` has an authorizer that is not a function of this service, which `updraft offline` cannot run: every client may connect")]
#[diagnostic(help(
    "name a function of the service as the authorizer (`authorizer: {{name: FUNCTION}}`), or \
     check the caller in the `$connect` function while running offline"
))]
pub struct AuthorizerNotRun {
    pub route: String,
}

/// A served WebSocket API.
pub struct WebSocketPort {
    pub address: SocketAddr,
    /// Route keys and their functions, sorted by key.
    pub routes: Vec<(String, String)>,
    /// Routes whose authorizer is not run.
    pub unenforced: Vec<AuthorizerNotRun>,
    close_all: CancellationToken,
    connections: Arc<Connections>,
}

impl WebSocketPort {
    pub fn url(&self) -> String {
        format!("ws://{}", self.address)
    }

    /// Closes every connection and waits (up to [`DISCONNECT_GRACE`]) for their `$disconnect`.
    pub async fn close_all(&self) {
        self.close_all.cancel();
        let _ = tokio::time::timeout(DISCONNECT_GRACE, self.connections.drained()).await;
    }
}

/// What the WebSocket port shares with the emulator's other ports.
pub struct Shared<'a> {
    pub invoker: Arc<dyn Invoker>,
    pub observer: Arc<dyn Observer>,
    pub stop: &'a CancellationToken,
    pub tasks: &'a mut JoinSet<()>,
}

/// Binds the port and serves it, when the service has `websocket` events.
pub async fn start(
    service: &Service,
    host: &IpAddr,
    options: &WebSocketOptions,
    timeouts: Timeouts,
    shared: Shared<'_>,
) -> Result<Option<WebSocketPort>, OfflineError> {
    let routes = RouteTable::from_service(service);
    if routes.is_empty() {
        return Ok(None);
    }
    const PURPOSE: &str = "the WebSocket API";
    let listener = server::bind(*host, options.port, PURPOSE).await?;
    let address = listener.local_addr().map_err(|source| OfflineError::Bind {
        address: SocketAddr::new(*host, options.port),
        purpose: PURPOSE,
        source,
    })?;
    let listing = routes
        .routes
        .values()
        .map(|route| (route.key.clone(), route.function.clone()))
        .collect();
    let unenforced = routes
        .routes
        .values()
        .filter(|route| route.unrunnable_authorizer && !options.no_auth)
        .map(|route| AuthorizerNotRun {
            route: route.key.clone(),
        })
        .collect();
    let close_all = shared.stop.child_token();
    let connections = Arc::new(Connections::default());
    let state = Arc::new(WebSocketState {
        routes,
        invoker: shared.invoker,
        observer: shared.observer,
        region: service.provider.region.clone(),
        stage: service.provider.stage.clone(),
        limits: options.limits,
        connections: Arc::clone(&connections),
        close_all: close_all.clone(),
        body_idle: timeouts.body_idle,
        no_auth: options.no_auth,
    });
    shared
        .tasks
        .spawn(serve(listener, state, timeouts, shared.stop.clone()));
    Ok(Some(WebSocketPort {
        address,
        routes: listing,
        unenforced,
        close_all,
        connections,
    }))
}

pub fn router(state: Arc<WebSocketState>) -> Router {
    management::routes().fallback(upgrade).with_state(state)
}

/// Serves the port until `stop`, then waits (briefly) for the connections' `$disconnect`.
pub async fn serve(
    listener: TcpListener,
    state: Arc<WebSocketState>,
    timeouts: Timeouts,
    stop: CancellationToken,
) {
    let connections = Arc::clone(&state.connections);
    connection::serve(listener, router(state), timeouts, stop).await;
    let _ = tokio::time::timeout(DISCONNECT_GRACE, connections.drained()).await;
}

/// How long stopping waits for connections to close and run `$disconnect`.
pub const DISCONNECT_GRACE: Duration = Duration::from_secs(10);

async fn upgrade(
    State(state): State<Arc<WebSocketState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let Ok(upgrade) = upgrade else {
        return answer(StatusCode::UPGRADE_REQUIRED, "Upgrade Required");
    };
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    let context = ConnectionContext {
        connection_id: connection_id(),
        connected_at: chrono::Utc::now().timestamp_millis(),
        domain_name: host_name(host).to_string(),
        stage: state.stage.clone(),
        api_id: API_ID.to_string(),
        source_ip: peer.ip().to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
    };
    // Counted from here, so that stopping waits for a connection still in `$connect`.
    let live = state.connections.live();
    match dispatch::connect(&state, &context, &header_pairs, &query).await {
        Admission::Refuse(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let message = match status {
                StatusCode::BAD_GATEWAY => "Internal server error",
                _ => status.canonical_reason().unwrap_or("Forbidden"),
            };
            answer(status, message)
        }
        Admission::Accept => {
            let stop = state.close_all.clone();
            let opened = state.connections.open(context);
            let id = opened.connection.context.connection_id.clone();
            let connections = Arc::clone(&state.connections);
            upgrade
                .max_frame_size(MAX_FRAME_BYTES)
                .max_message_size(management::MAX_MESSAGE_BYTES)
                .on_failed_upgrade(move |_| connections.remove(&id))
                .on_upgrade(move |socket| connections::run(state, socket, opened, live, stop))
        }
    }
}

fn answer(status: StatusCode, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "message": message }).to_string()))
        .unwrap_or_default()
}

/// The host without its port (`[::1]:3001` gives `[::1]`).
fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// An id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`): 10 random bytes in URL-safe base64,
/// so the SDKs' percent-encoding of `=` in the `@connections` path is exercised as on AWS.
fn connection_id() -> String {
    use base64::Engine as _;
    let random = uuid::Uuid::new_v4();
    let bytes = random.as_bytes();
    base64::engine::general_purpose::URL_SAFE.encode(&bytes[..10])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_drop_the_port() {
        assert_eq!(host_name("localhost:3001"), "localhost");
        assert_eq!(host_name("[::1]:3001"), "[::1]");
        assert_eq!(host_name("example.com"), "example.com");
    }

    #[test]
    fn connection_ids_look_like_api_gateways() {
        let id = connection_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
    }
}
