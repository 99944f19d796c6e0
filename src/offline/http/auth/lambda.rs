//! Lambda authorizers: the event the authorizer function is sent (TOKEN, REST REQUEST, HTTP API
//! payload 1.0 and 2.0), and its answer (an IAM policy, or `{isAuthorized, context}` for HTTP
//! API simple responses) turned into a decision, reused from the cache while it is fresh.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::config::{AuthorizerPayload, IdentitySource, LambdaAuthorizer};
use super::policy::{self, Decision};
use super::{Check, Refusal};
use crate::offline::events::apigw::{self, Authorization};
use crate::offline::events::{Meta, PayloadVersion, ACCOUNT_ID};
use crate::offline::invoke::{Invocation, InvocationResult};

/// Runs (or reuses) the authorizer for one request.
pub async fn authorize(
    authorizer: &LambdaAuthorizer,
    check: &Check<'_>,
) -> Result<Authorization, Refusal> {
    let rest = authorizer.payload.is_rest();
    let mut identities = Vec::new();
    for source in &authorizer.identity_sources {
        match identity_value(source, check) {
            Some(value) => identities.push(value),
            None => {
                check.note(&format!(
                    "{} {}: refused without calling authorizer `{}`: the request has no {}",
                    check.request.method,
                    check.request.path,
                    authorizer.name,
                    describe(source)
                ));
                return Err(Refusal::Unauthorized);
            }
        }
    }
    if let (Some(expression), Some(token)) = (&authorizer.validation_expression, identities.first())
    {
        validate_token(authorizer, expression, token, check)?;
    }
    let resource = resource_arn(check);
    let cache_key = identities.join("\u{0}");
    let cacheable = authorizer.ttl_seconds > 0 && !identities.is_empty();
    let cached = if cacheable {
        check.auth.answers.get(&authorizer.name, &cache_key)
    } else {
        None
    };
    let answer = match cached {
        Some(answer) => answer,
        None => {
            let answer = invoke(authorizer, check, &resource, &identities).await?;
            if cacheable {
                check.auth.answers.put(
                    &authorizer.name,
                    &cache_key,
                    Duration::from_secs(authorizer.ttl_seconds),
                    answer.clone(),
                );
            }
            answer
        }
    };
    decide(authorizer, check, &answer, &resource, rest)
}

/// API Gateway matches the whole token against `identityValidationExpression` before calling
/// the authorizer.
fn validate_token(
    authorizer: &LambdaAuthorizer,
    expression: &str,
    token: &str,
    check: &Check<'_>,
) -> Result<(), Refusal> {
    let anchored = format!("^(?:{expression})$");
    match regex::Regex::new(&anchored) {
        Ok(pattern) if pattern.is_match(token) => Ok(()),
        Ok(_) => {
            check.note(&format!(
                "{} {}: refused without calling authorizer `{}`: the token does not match its \
                 identityValidationExpression",
                check.request.method, check.request.path, authorizer.name
            ));
            Err(Refusal::Unauthorized)
        }
        Err(error) => {
            check.note(&format!(
                "authorizer `{}`: identityValidationExpression is not a valid pattern: {error}",
                authorizer.name
            ));
            Err(Refusal::AuthorizerFailed)
        }
    }
}

fn identity_value(source: &IdentitySource, check: &Check<'_>) -> Option<String> {
    let value = match source {
        IdentitySource::Header(name) => check.request.header(name).map(str::to_string),
        IdentitySource::Query(name) => check
            .request
            .query_pairs()
            .into_iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value),
    };
    value.filter(|v| !v.is_empty())
}

fn describe(source: &IdentitySource) -> String {
    match source {
        IdentitySource::Header(name) => format!("`{name}` header"),
        IdentitySource::Query(name) => format!("`{name}` query parameter"),
    }
}

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{path}`, the path as the API
/// sees it (without a REST API's stage).
fn resource_arn(check: &Check<'_>) -> String {
    let matched = check.matched;
    format!(
        "arn:aws:execute-api:{}:{ACCOUNT_ID}:{}/{}/{}{}",
        check.region, matched.api_id, matched.stage, check.request.method, matched.path
    )
}

async fn invoke(
    authorizer: &LambdaAuthorizer,
    check: &Check<'_>,
    resource: &str,
    identities: &[String],
) -> Result<Value, Refusal> {
    let event = event(authorizer, check, resource, identities);
    let invocation = Invocation {
        payload: event.to_string().into_bytes(),
        ..Invocation::default()
    };
    let completed = match check.invoker.invoke(&authorizer.function, invocation).await {
        Ok(completed) => completed,
        Err(error) => {
            check.note(&format!(
                "authorizer `{}` was not invoked: {error}",
                authorizer.name
            ));
            return Err(Refusal::AuthorizerFailed);
        }
    };
    check.observer.invocation(&authorizer.function, &completed);
    match &completed.result {
        InvocationResult::Success(bytes) => {
            let answer: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            if answer.as_str() == Some("Unauthorized") {
                return Err(Refusal::Unauthorized);
            }
            Ok(answer)
        }
        InvocationResult::Error { payload, .. } => {
            let error: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
            // Only this exact message means "no credentials"; any other failure is the
            // authorizer's own fault, which API Gateway answers with 500.
            if error.get("errorMessage").and_then(Value::as_str) == Some("Unauthorized") {
                Err(Refusal::Unauthorized)
            } else {
                check.note(&format!(
                    "authorizer `{}` failed: {}",
                    authorizer.name,
                    error
                        .get("errorMessage")
                        .and_then(Value::as_str)
                        .unwrap_or("no error message")
                ));
                Err(Refusal::AuthorizerFailed)
            }
        }
    }
}

/// The event the authorizer function receives.
fn event(
    authorizer: &LambdaAuthorizer,
    check: &Check<'_>,
    resource: &str,
    identities: &[String],
) -> Value {
    if authorizer.payload == AuthorizerPayload::Token {
        return json!({
            "type": "TOKEN",
            "authorizationToken": identities.first().cloned().unwrap_or_default(),
            "methodArn": resource,
        });
    }
    let mut matched = check.matched.clone();
    matched.version = match authorizer.payload {
        AuthorizerPayload::HttpApiV2 => PayloadVersion::V2,
        AuthorizerPayload::HttpApiV1 => PayloadVersion::HttpApiV1,
        _ => PayloadVersion::Rest,
    };
    let mut event = apigw::event(check.request, &matched, &Meta::now(check.region));
    let Some(fields) = event.as_object_mut() else {
        return event;
    };
    // Authorizers are not sent the body.
    fields.remove("body");
    fields.remove("isBase64Encoded");
    fields.insert("type".into(), json!("REQUEST"));
    match authorizer.payload {
        AuthorizerPayload::HttpApiV2 => {
            fields.insert("routeArn".into(), json!(resource));
            fields.insert("identitySource".into(), json!(identities));
        }
        AuthorizerPayload::HttpApiV1 => {
            fields.insert("methodArn".into(), json!(resource));
            fields.insert("identitySource".into(), json!(identities.join(",")));
            fields.insert(
                "authorizationToken".into(),
                json!(identities.first().cloned().unwrap_or_default()),
            );
        }
        _ => {
            fields.insert("methodArn".into(), json!(resource));
        }
    }
    event
}

/// The answer turned into a decision for this request.
fn decide(
    authorizer: &LambdaAuthorizer,
    check: &Check<'_>,
    answer: &Value,
    resource: &str,
    rest: bool,
) -> Result<Authorization, Refusal> {
    let invalid = |why: &str| {
        check.note(&format!(
            "authorizer `{}` answered what API Gateway rejects: {why}",
            authorizer.name
        ));
        Refusal::AuthorizerFailed
    };
    if authorizer.simple_responses {
        return match answer.get("isAuthorized").and_then(Value::as_bool) {
            Some(true) => Ok(Authorization::Lambda {
                principal_id: None,
                context: context_map(answer.get("context"), false).map_err(|why| invalid(&why))?,
            }),
            Some(false) => Err(Refusal::Forbidden),
            None => Err(invalid("a simple response needs a boolean `isAuthorized`")),
        };
    }
    let principal_id = match answer.get("principalId") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => return Err(invalid("an IAM policy answer needs a `principalId`")),
    };
    let Some(document) = answer.get("policyDocument") else {
        return Err(invalid("an IAM policy answer needs a `policyDocument`"));
    };
    match policy::evaluate(document, resource) {
        Decision::Allow => Ok(Authorization::Lambda {
            principal_id: Some(principal_id),
            context: context_map(answer.get("context"), rest).map_err(|why| invalid(&why))?,
        }),
        Decision::ExplicitDeny => Err(Refusal::ExplicitDeny),
        Decision::ImplicitDeny => Err(Refusal::ImplicitDeny),
    }
}

/// A REST API passes only string, number and boolean context values, each as a string; an
/// HTTP API passes the context as it is.
fn context_map(context: Option<&Value>, rest: bool) -> Result<Map<String, Value>, String> {
    let map = match context {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err("`context` must be an object".to_string()),
    };
    if !rest {
        return Ok(map.clone());
    }
    map.iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                _ => {
                    return Err(format!(
                        "context value `{key}` is not a string, number or boolean"
                    ))
                }
            };
            Ok((key.clone(), Value::String(text)))
        })
        .collect()
}
