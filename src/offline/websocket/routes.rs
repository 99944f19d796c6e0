//! The WebSocket API's routes, from the service's `websocket` events, and the choice of a route
//! for an incoming message by the API's route selection expression.
//!
//! API Gateway evaluates `provider.websocketsApiRouteSelectionExpression` (`$request.body.action`
//! unless set) against the message parsed as JSON: a string found there names the route. A
//! message that is not JSON, has no such field, or names a route that does not exist goes to
//! `$default`; without `$default` the client is told `Forbidden`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::model::events::DEFAULT_WEBSOCKET_ROUTE_SELECTION;
use crate::manifest::model::Service;
use crate::offline::http::auth::config::{websocket_authorizer, LambdaAuthorizer};

pub const CONNECT: &str = "$connect";
pub const DISCONNECT: &str = "$disconnect";
pub const DEFAULT: &str = "$default";

/// One route: its key, the function behind it and whether its answer goes back to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub key: String,
    /// The function's key under `functions:`.
    pub function: String,
    /// `routeResponseSelectionExpression: $default`: the handler's `body` is sent back.
    pub two_way: bool,
    /// The Lambda authorizer that runs before `$connect`.
    pub authorizer: Option<LambdaAuthorizer>,
    /// The event names an authorizer that is not a function of the service, which the emulator
    /// cannot run.
    pub unrunnable_authorizer: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteTable {
    pub routes: BTreeMap<String, Route>,
    /// The JSON path inside the message named by the selection expression, or `None` when the
    /// expression does not read the body (every message then goes to `$default`).
    selection: Option<Vec<String>>,
    pub selection_expression: String,
}

impl RouteTable {
    /// The routes of every function's `websocket` events; the first event of a route key wins
    /// (deploy refuses a key given twice).
    pub fn from_service(service: &Service) -> RouteTable {
        let mut routes = BTreeMap::new();
        for (key, function) in &service.functions {
            for event in &function.events {
                let Some(route) = event.websocket_route() else {
                    continue;
                };
                let route_key = route.route_key.trim().to_string();
                if route_key.is_empty() {
                    continue;
                }
                routes.entry(route_key.clone()).or_insert(Route {
                    key: route_key,
                    function: key.clone(),
                    two_way: route.response_selection.as_deref() == Some("$default"),
                    authorizer: route
                        .authorizer
                        .as_ref()
                        .and_then(|setting| websocket_authorizer(service, setting)),
                    unrunnable_authorizer: route
                        .authorizer
                        .as_ref()
                        .is_some_and(|setting| websocket_authorizer(service, setting).is_none()),
                });
            }
        }
        let selection_expression = service
            .provider
            .raw
            .get("websocketsApiRouteSelectionExpression")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_WEBSOCKET_ROUTE_SELECTION)
            .to_string();
        RouteTable {
            routes,
            selection: body_path(&selection_expression),
            selection_expression,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Route> {
        self.routes.get(key)
    }

    /// The route key the selection expression gives for a message (before falling back to
    /// `$default`): `None` when the message does not name one.
    pub fn selected_key(&self, message: &str) -> Option<String> {
        let path = self.selection.as_ref()?;
        let parsed: Value = serde_json::from_str(message).ok()?;
        let mut value = &parsed;
        for segment in path {
            value = value.get(segment)?;
        }
        value.as_str().map(str::to_string)
    }

    /// The route a message goes to: the one it names, else `$default`.
    pub fn route_for(&self, message: &str) -> Option<&Route> {
        self.selected_key(message)
            .and_then(|key| self.routes.get(&key))
            .filter(|route| !is_reserved(&route.key))
            .or_else(|| self.routes.get(DEFAULT))
    }
}

/// `$connect` and `$disconnect` are never chosen by a message.
fn is_reserved(key: &str) -> bool {
    key == CONNECT || key == DISCONNECT
}

/// `$request.body.a.b` (or `${request.body.a.b}`) as `["a", "b"]`.
fn body_path(expression: &str) -> Option<Vec<String>> {
    let expression = expression.trim();
    let inner = expression
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .map(|inner| format!("${inner}"))
        .unwrap_or_else(|| expression.to_string());
    let path = inner.strip_prefix("$request.body.")?;
    let segments: Vec<String> = path.split('.').map(str::to_string).collect();
    if segments.iter().any(String::is_empty) {
        return None;
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(selection: &str, keys: &[&str]) -> RouteTable {
        RouteTable {
            routes: keys
                .iter()
                .map(|key| {
                    (
                        key.to_string(),
                        Route {
                            key: key.to_string(),
                            function: "f".into(),
                            two_way: false,
                            authorizer: None,
                            unrunnable_authorizer: false,
                        },
                    )
                })
                .collect(),
            selection: body_path(selection),
            selection_expression: selection.into(),
        }
    }

    #[test]
    fn messages_route_by_their_action_else_to_default() {
        let routes = table("$request.body.action", &["$default", "sendMessage"]);
        let key = |m: &str| routes.route_for(m).map(|r| r.key.clone());
        assert_eq!(
            key(r#"{"action":"sendMessage"}"#).as_deref(),
            Some("sendMessage")
        );
        assert_eq!(key(r#"{"action":"other"}"#).as_deref(), Some("$default"));
        assert_eq!(key("not json").as_deref(), Some("$default"));
        assert_eq!(key(r#"{"action":7}"#).as_deref(), Some("$default"));
        assert_eq!(key(r#"{"action":"$connect"}"#).as_deref(), Some("$default"));
    }

    #[test]
    fn nested_selection_expressions_read_into_the_message() {
        let routes = table("${request.body.meta.kind}", &["ping"]);
        assert_eq!(
            routes
                .selected_key(r#"{"meta":{"kind":"ping"}}"#)
                .as_deref(),
            Some("ping")
        );
        assert!(routes.route_for(r#"{"meta":{}}"#).is_none());
    }
}
