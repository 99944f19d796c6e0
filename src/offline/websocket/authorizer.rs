//! The Lambda authorizer of a `$connect` route, run as API Gateway runs it for a WebSocket API:
//! before `$connect`, with the upgrade request as a `REQUEST` authorizer event (headers, query
//! string, the `$connect` route's `methodArn`). A missing identity source refuses with 401
//! without calling the function, as does an `Unauthorized` error; a policy that does not allow
//! `$connect` refuses with 403; any other failure with 500. An allowed connection's `$connect`
//! event carries the authorizer's `principalId` and `context` in `requestContext.authorizer`.
//!
//! WebSocket APIs do not cache authorizer answers, so every connection calls the function.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::events::{self, ConnectionContext};
use super::routes::CONNECT;
use super::WebSocketState;
use crate::offline::events::{Meta, ACCOUNT_ID};
use crate::offline::http::auth::config::{IdentitySource, LambdaAuthorizer};
use crate::offline::http::auth::policy::{self, Decision};
use crate::offline::invoke::{Invocation, InvocationResult};

/// What the authorizer decided about a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Let it connect; `requestContext.authorizer` of its `$connect` event.
    Allow(Value),
    /// Refuse the upgrade with this HTTP status.
    Refuse(u16),
}

/// The request being upgraded, as the authorizer sees it.
pub struct Upgrade<'a> {
    pub connection: &'a ConnectionContext,
    pub headers: &'a [(String, String)],
    pub query: &'a [(String, String)],
}

/// Runs `authorizer` for one connection.
pub async fn authorize(
    state: &WebSocketState,
    authorizer: &LambdaAuthorizer,
    upgrade: &Upgrade<'_>,
) -> Verdict {
    let note = |text: String| state.observer.authorization(&text);
    if let Some(missing) = authorizer
        .identity_sources
        .iter()
        .find(|source| identity(source, upgrade).is_none())
    {
        note(format!(
            "WebSocket $connect {}: refused without calling authorizer `{}`: the request has no {}",
            upgrade.connection.connection_id,
            authorizer.name,
            describe(missing)
        ));
        return Verdict::Refuse(401);
    }
    let resource = format!(
        "arn:aws:execute-api:{}:{ACCOUNT_ID}:{}/{}/{CONNECT}",
        state.region, upgrade.connection.api_id, upgrade.connection.stage
    );
    let meta = Meta::now(&state.region);
    let mut event = events::connect(upgrade.connection, upgrade.headers, upgrade.query, &meta);
    if let Some(fields) = event.as_object_mut() {
        fields.insert("type".into(), json!("REQUEST"));
        fields.insert("methodArn".into(), json!(resource));
        fields.insert("stageVariables".into(), json!({}));
    }
    let started = Instant::now();
    let invocation = Invocation {
        payload: event.to_string().into_bytes(),
        ..Invocation::default()
    };
    let completed = match state.invoker.invoke(&authorizer.function, invocation).await {
        Ok(completed) => completed,
        Err(error) => {
            state.observer.refused(&authorizer.function, &error);
            return Verdict::Refuse(500);
        }
    };
    state.observer.invocation(&authorizer.function, &completed);
    let answer: Value = match &completed.result {
        InvocationResult::Success(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        InvocationResult::Error { payload, .. } => {
            let error: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
            let message = error
                .get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("no error message");
            // Only this exact message means "no credentials"; any other failure is the
            // authorizer's own, which API Gateway answers with 500.
            if message == "Unauthorized" {
                return Verdict::Refuse(401);
            }
            note(format!(
                "authorizer `{}` failed: {message}",
                authorizer.name
            ));
            return Verdict::Refuse(500);
        }
    };
    if answer.as_str() == Some("Unauthorized") {
        return Verdict::Refuse(401);
    }
    let Some(document) = answer.get("policyDocument") else {
        note(format!(
            "authorizer `{}` answered without a policyDocument: refused with 500",
            authorizer.name
        ));
        return Verdict::Refuse(500);
    };
    match policy::evaluate(document, &resource) {
        Decision::Allow => {
            Verdict::Allow(authorizer_context(&answer, started.elapsed().as_millis()))
        }
        Decision::ExplicitDeny | Decision::ImplicitDeny => {
            note(format!(
                "WebSocket $connect {}: authorizer `{}` does not allow {resource}",
                upgrade.connection.connection_id, authorizer.name
            ));
            Verdict::Refuse(403)
        }
    }
}

/// `requestContext.authorizer` of the `$connect` event: the `context` values (as strings,
/// numbers and booleans, the only kinds API Gateway passes on), `principalId` and
/// `integrationLatency`.
fn authorizer_context(answer: &Value, latency_ms: u128) -> Value {
    let mut fields = Map::new();
    if let Some(context) = answer.get("context").and_then(Value::as_object) {
        for (key, value) in context {
            if matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                fields.insert(key.clone(), value.clone());
            }
        }
    }
    fields.insert(
        "principalId".into(),
        answer.get("principalId").cloned().unwrap_or(Value::Null),
    );
    fields.insert("integrationLatency".into(), json!(latency_ms));
    Value::Object(fields)
}

fn identity(source: &IdentitySource, upgrade: &Upgrade<'_>) -> Option<String> {
    let value = match source {
        IdentitySource::Header(name) => upgrade
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone()),
        IdentitySource::Query(name) => upgrade
            .query
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone()),
    };
    value.filter(|v| !v.is_empty())
}

fn describe(source: &IdentitySource) -> String {
    match source {
        IdentitySource::Header(name) => format!("`{name}` header"),
        IdentitySource::Query(name) => format!("`{name}` query parameter"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_scalars_and_adds_the_principal() {
        let answer = json!({
            "principalId": "alice",
            "context": {"user": "alice", "admin": true, "level": 3, "nested": {"a": 1}},
        });
        let context = authorizer_context(&answer, 7);
        assert_eq!(context["principalId"], "alice");
        assert_eq!(context["user"], "alice");
        assert_eq!(context["admin"], true);
        assert_eq!(context["level"], 3);
        assert_eq!(context["integrationLatency"], 7);
        assert!(context.get("nested").is_none(), "{context}");
    }
}
