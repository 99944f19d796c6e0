//! HTTP triggers: `http` events served as an API Gateway REST API and `httpApi` events as an HTTP
//! API, on one port, each request turned into the event its route's payload version asks for and
//! the function's result turned back into a response.
//!
//! [`routes`] finds the route, [`crate::offline::events::apigw`] builds the event, [`response`]
//! and [`integration`] map the result, [`cors`] answers preflights. This file is the axum
//! handler that strings them together.

pub mod auth;
pub mod cors;
pub mod integration;
pub mod request;
pub mod response;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::Router;

use crate::offline::connection::{read_body, BodyError};
use crate::offline::events::{self, HttpRequest, Meta, RouteMatch};
use crate::offline::invoke::{Invocation, InvokeError, Invoker};
use crate::offline::server::Observer;
use cors::Cors;
use response::HttpResponse;
use routes::{Integration, Lookup, RouteTable};

/// API Gateway's request payload limit (10 MB).
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// The API id in events and host names.
pub const API_ID: &str = "offlineapi";

/// What the HTTP handler needs.
pub struct HttpState {
    pub table: RouteTable,
    pub invoker: Arc<dyn Invoker>,
    pub region: String,
    pub observer: Arc<dyn Observer>,
    /// The longest pause allowed within a request body.
    pub body_idle: std::time::Duration,
    pub auth: auth::Auth,
}

/// One request served, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    pub method: String,
    pub path: String,
    /// The function that ran, if a route matched.
    pub function: Option<String>,
    /// Its invocation's log (START to REPORT), if it ran: given with the request so that a
    /// request's lines are written together.
    pub invocation_log: Option<String>,
    pub status: u16,
    pub duration_ms: u128,
}

pub fn router(state: Arc<HttpState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(
    State(state): State<Arc<HttpState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let mut request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
        source_ip: peer.ip().to_string(),
    };
    let declared = parts
        .headers
        .get("content-length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok());
    let read = read_body(declared, body, MAX_REQUEST_BYTES, state.body_idle).await;
    let served = match read {
        Ok(bytes) => {
            request.body = bytes;
            serve(&state, &request).await
        }
        Err(BodyError::TooLarge { .. }) => {
            Served::without_function(HttpResponse::message(413, "Request Too Long"))
        }
        Err(BodyError::Broken(_)) => {
            Served::without_function(HttpResponse::message(400, "Bad Request"))
        }
        Err(BodyError::Stalled(_)) => {
            Served::without_function(HttpResponse::message(408, "Request Timeout"))
        }
    };
    state.observer.request(&RequestLog {
        method: request.method.clone(),
        path: request.path.clone(),
        function: served.function,
        invocation_log: served.invocation_log,
        status: served.response.status,
        duration_ms: started.elapsed().as_millis(),
    });
    into_axum(served.response)
}

/// What [`serve`] did with a request.
pub struct Served {
    /// The function whose route matched.
    pub function: Option<String>,
    /// The log of its invocation, when it ran.
    pub invocation_log: Option<String>,
    pub response: HttpResponse,
}

impl Served {
    fn without_function(response: HttpResponse) -> Served {
        Served {
            function: None,
            invocation_log: None,
            response,
        }
    }
}

/// Routes one request and runs its function.
pub async fn serve(state: &HttpState, request: &HttpRequest) -> Served {
    let origin = request.header("origin");
    if request.method == "OPTIONS" && request.header("access-control-request-method").is_some() {
        if let Some(cors) = preflight_cors(&state.table, &request.path) {
            let response = HttpResponse {
                status: 204,
                headers: cors.preflight_headers(origin),
                body: Vec::new(),
            };
            return Served::without_function(response);
        }
    }
    let (route, path_parameters, api_path) =
        match state.table.lookup(&request.method, &request.path) {
            Lookup::Found {
                route,
                path_parameters,
                api_path,
            } => (route, path_parameters, api_path),
            Lookup::OtherMethods(_) | Lookup::NotFound => {
                return Served::without_function(HttpResponse::not_found())
            }
        };
    let stage = match route.version {
        events::PayloadVersion::Rest => state.table.stage.clone(),
        _ => "$default".to_string(),
    };
    let matched = RouteMatch {
        version: route.version,
        method: route.method.clone(),
        resource: route.resource.clone(),
        path: match route.version {
            events::PayloadVersion::Rest => api_path,
            _ => request.path.clone(),
        },
        stage,
        path_parameters,
        api_id: API_ID.to_string(),
    };
    let authorized = match state
        .auth
        .check(
            route,
            request,
            &matched,
            &state.region,
            &*state.invoker,
            &*state.observer,
        )
        .await
    {
        Ok(authorized) => authorized,
        Err(mut response) => {
            add_cors(route, origin, &mut response);
            return Served {
                function: Some(route.function.clone()),
                invocation_log: None,
                response,
            };
        }
    };
    let event = match route.integration {
        Integration::Proxy => {
            let mut event = events::apigw::event(request, &matched, &Meta::now(&state.region));
            events::apigw::authorize(
                &mut event,
                route.version,
                authorized.authorization.as_ref(),
                authorized.api_key.as_deref(),
            );
            event
        }
        Integration::Lambda => {
            let mut event = integration::request_event(request, &matched);
            authorized.fill_template_event(&mut event);
            event
        }
    };
    let invocation = Invocation {
        payload: event.to_string().into_bytes(),
        ..Invocation::default()
    };
    let mut invocation_log = None;
    let mut response = match state.invoker.invoke(&route.function, invocation).await {
        Ok(completed) => {
            let response = match route.integration {
                Integration::Proxy => response::from_result(route.version, &completed.result),
                Integration::Lambda => integration::response(&completed.result),
            };
            invocation_log = Some(completed.log);
            response
        }
        Err(error) => refused(&error),
    };
    add_cors(route, origin, &mut response);
    Served {
        function: Some(route.function.clone()),
        invocation_log,
        response,
    }
}

/// The route's CORS headers, where the response has not set them itself.
fn add_cors(route: &routes::Route, origin: Option<&str>, response: &mut HttpResponse) {
    if let Some(cors) = &route.cors {
        for (name, value) in cors.response_headers(origin) {
            if response.header(&name).is_none() {
                response.headers.push((name, value));
            }
        }
    }
}

/// The CORS settings of every route on a path, merged (a REST API answers one preflight for
/// all the methods of a resource).
fn preflight_cors(table: &RouteTable, path: &str) -> Option<Cors> {
    let mut merged: Option<Cors> = None;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
        if let Lookup::Found { route, .. } = table.lookup(method, path) {
            if let Some(cors) = &route.cors {
                merged = Some(match merged {
                    Some(existing) => existing.merge(cors),
                    None => cors.clone(),
                });
            }
        }
    }
    merged
}

/// An invocation the engine would not attempt, as API Gateway reports it.
fn refused(error: &InvokeError) -> HttpResponse {
    match error {
        InvokeError::PayloadTooLarge { .. } => HttpResponse::message(413, "Request Too Long"),
        InvokeError::TooManyRequests { .. } => HttpResponse::message(429, "Too Many Requests"),
        InvokeError::ShuttingDown => HttpResponse::message(503, "Service Unavailable"),
        InvokeError::UnknownFunction { .. } | InvokeError::Start { .. } => {
            HttpResponse::internal_error()
        }
    }
}

/// Converts the result of a translation into an axum response.
pub fn into_axum(response: HttpResponse) -> Response<Body> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(response.status).unwrap_or(StatusCode::BAD_GATEWAY));
    if let Some(headers) = builder.headers_mut() {
        for (name, value) in &response.headers {
            // A header a handler wrote that HTTP cannot carry is left out rather than failing
            // the whole response.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
    }
    builder
        .body(Body::from(Bytes::from(response.body)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
