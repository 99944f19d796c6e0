//! `alb` events: the service's Application Load Balancer listener rules served on their own
//! port (`--albPort`, 3003 by default), each request sent to the function of the first rule it
//! matches ([`rules`]) as the load balancer's Lambda event ([`event`]).
//!
//! The port is opened only when the service has `alb` events. A request no rule matches gets
//! a 404 naming the request, where a real load balancer would take the listener's default
//! action, which is not part of the service.

pub mod event;
pub mod rules;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, Response};
use axum::Router;
use serde_json::json;

use crate::offline::http::response::HttpResponse;
use crate::offline::http::{into_axum, request, RequestLog, MAX_REQUEST_BYTES};
use crate::offline::invoke::{Invocation, Invoker};
use crate::offline::server::Observer;
use rules::Rule;

/// What the load balancer's handler needs.
pub struct AlbState {
    pub rules: Vec<Rule>,
    pub invoker: Arc<dyn Invoker>,
    pub observer: Arc<dyn Observer>,
    /// The longest pause allowed within a request body.
    pub body_idle: Duration,
}

pub fn router(state: Arc<AlbState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(
    State(state): State<Arc<AlbState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let read = request::read(&parts, body, peer, MAX_REQUEST_BYTES, state.body_idle).await;
    let (request, function, invocation_log, response) = match read {
        Err((request, response)) => (request, None, None, response),
        Ok(request) => match rules::find(&state.rules, &request) {
            None => {
                let response = no_rule(&request.method, &request.path);
                (request, None, None, response)
            }
            Some(rule) => {
                let invocation = Invocation {
                    payload: event::event(&request, rule).to_string().into_bytes(),
                    ..Invocation::default()
                };
                match state.invoker.invoke(&rule.function, invocation).await {
                    Ok(completed) => {
                        let response = event::response(&completed.result, rule.multi_value_headers);
                        (
                            request,
                            Some(rule.function.clone()),
                            Some(completed.log),
                            response,
                        )
                    }
                    Err(_) => (
                        request,
                        Some(rule.function.clone()),
                        None,
                        event::bad_gateway(),
                    ),
                }
            }
        },
    };
    state.observer.request(&RequestLog {
        method: request.method.clone(),
        path: request.path.clone(),
        function,
        invocation_log,
        status: response.status,
        duration_ms: started.elapsed().as_millis(),
    });
    into_axum(response)
}

fn no_rule(method: &str, path: &str) -> HttpResponse {
    HttpResponse {
        status: 404,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({
            "statusCode": 404,
            "error": "Not Found",
            "message": format!("no alb event of this service matches {method} {path}"),
        })
        .to_string()
        .into_bytes(),
    }
}
