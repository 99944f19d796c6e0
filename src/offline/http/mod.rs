//! HTTP triggers: `http` events served as an API Gateway REST API and `httpApi` events as an HTTP
//! API, on one port, each request turned into the event its route's payload version asks for and
//! the function's result turned back into a response.
//!
//! [`routes`] finds the route, [`crate::offline::events::apigw`] builds the event, [`response`]
//! and [`integration`] map the result, [`cors`] answers preflights, [`validation`] refuses what
//! API Gateway's request validator would. This file is the axum
//! handler that strings them together.

pub mod auth;
pub mod cors;
pub mod integration;
pub mod request;
pub mod resource_routes;
pub mod response;
pub mod routes;
pub mod tls;
pub mod validation;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::Router;

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
    let (request, served) =
        match request::read(&parts, body, peer, MAX_REQUEST_BYTES, state.body_idle).await {
            Ok(request) => {
                let served = serve(&state, &request).await;
                (request, served)
            }
            Err((request, refusal)) => (request, Served::without_function(refusal)),
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
                return Served::without_function(not_found(&state.table, request))
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
        Err(response) => {
            return Served {
                function: Some(route.function.clone()),
                invocation_log: None,
                response: with_cors(response, route, origin),
            };
        }
    };
    // API Gateway checks the caller before it validates the request.
    if let Some(refusal) = route
        .validation
        .as_ref()
        .and_then(|validation| validation.check(request, &matched.path_parameters))
    {
        return Served {
            function: Some(route.function.clone()),
            invocation_log: None,
            response: with_cors(refusal, route, origin),
        };
    }
    if let Some(uri) = &route.proxy {
        let response = resource_routes::forward(uri, request, &matched.path_parameters).await;
        return Served::without_function(with_cors(response, route, origin));
    }
    let mut event = match route.integration {
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
    if let (Some(name), Integration::Proxy) = (&route.operation_name, route.integration) {
        if let Some(context) = event
            .get_mut("requestContext")
            .and_then(|c| c.as_object_mut())
        {
            context.insert("operationName".into(), name.clone().into());
        }
    }
    let invocation = Invocation {
        payload: event.to_string().into_bytes(),
        ..Invocation::default()
    };
    let mut invocation_log = None;
    let response = match state.invoker.invoke(&route.function, invocation).await {
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
    Served {
        function: Some(route.function.clone()),
        invocation_log,
        response: with_cors(response, route, origin),
    }
}

/// A route's CORS headers on a response. A REST route leaves the handler's own in place (with
/// proxy integration they are the handler's to set); an HTTP API with CORS configured answers a
/// request that has an `Origin` with its configuration only, dropping the handler's, as AWS
/// documents.
fn with_cors(
    mut response: HttpResponse,
    route: &routes::Route,
    origin: Option<&str>,
) -> HttpResponse {
    let Some(cors) = &route.cors else {
        return response;
    };
    let http_api = route.version != events::PayloadVersion::Rest;
    if http_api {
        if origin.is_none() {
            return response;
        }
        response
            .headers
            .retain(|(name, _)| !name.to_ascii_lowercase().starts_with("access-control-"));
    }
    for (name, value) in cors.response_headers(origin) {
        if response.header(&name).is_none() {
            response.headers.push((name, value));
        }
    }
    response
}

/// API Gateway's 404 (its `message`), with what serverless-offline adds to help find the right
/// path: the route asked for and every route there is.
fn not_found(table: &RouteTable, request: &HttpRequest) -> HttpResponse {
    let body = serde_json::json!({
        "statusCode": 404,
        "error": "updraft offline: route not found.",
        "message": "Not Found",
        "currentRoute": format!("{} - {}", request.method.to_ascii_lowercase(), request.path),
        "existingRoutes": table.listed(),
    });
    HttpResponse {
        status: 404,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
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
