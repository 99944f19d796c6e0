//! JWT authorizers of HTTP APIs: the bearer token's signature checked against the issuer's keys
//! (`{issuerUrl}/.well-known/openid-configuration` → `jwks_uri`, fetched with a timeout and
//! kept), then its claims as API Gateway checks them: `iss`, `aud` or `client_id`, `exp`,
//! `nbf`, and the route's scopes.
//!
//! An issuer whose keys cannot be fetched gets its tokens refused, with a log line saying so
//! (API Gateway would refuse them too); `--ignoreJWTSignature` skips the signature, for tokens
//! made up in tests.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::config::JwtAuthorizer;
use super::{Check, Refusal};
use crate::offline::events::apigw::Authorization;

/// How long fetching an issuer's configuration or keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long fetched keys are used before they are fetched again.
const KEYS_FRESH_FOR: Duration = Duration::from_secs(3600);
/// A token naming a key the set lacks fetches the set again, and a failed fetch is tried again,
/// at most this often (issuers rotate keys; a client sending random key ids, or an issuer that
/// does not answer, must not make every request wait for a fetch).
const REFETCH_AFTER: Duration = Duration::from_secs(30);

/// Every issuer's keys, as last fetched.
#[derive(Default)]
pub struct KeyStore {
    sets: tokio::sync::Mutex<HashMap<String, Fetched>>,
}

/// When an issuer's keys were fetched, and what came back (the reason, when nothing usable).
type Fetched = (Instant, Result<Vec<Jwk>, String>);

impl KeyStore {
    /// The issuer's key for a token's `kid` (or its only key, for a token without one).
    async fn key(&self, issuer: &str, kid: Option<&str>) -> Result<DecodingKey, String> {
        // Held across the fetch: concurrent requests for one issuer wait for one fetch.
        let mut sets = self.sets.lock().await;
        let stale = match sets.get(issuer) {
            None => true,
            Some((fetched, Err(_))) => fetched.elapsed() > REFETCH_AFTER,
            Some((fetched, Ok(keys))) => {
                fetched.elapsed() > KEYS_FRESH_FOR
                    || (find(keys, kid).is_none() && fetched.elapsed() > REFETCH_AFTER)
            }
        };
        if stale {
            let keys = fetch_keys(issuer).await;
            sets.insert(issuer.to_string(), (Instant::now(), keys));
        }
        let keys = match sets.get(issuer) {
            Some((_, Ok(keys))) => keys.as_slice(),
            Some((_, Err(why))) => return Err(why.clone()),
            None => &[],
        };
        let jwk = find(keys, kid).ok_or_else(|| match kid {
            Some(kid) => format!("the issuer's key set has no key `{kid}`"),
            None => "the token names no key (`kid`) and the issuer has several".to_string(),
        })?;
        DecodingKey::from_jwk(jwk).map_err(|error| format!("the issuer's key is unusable: {error}"))
    }
}

fn find<'a>(keys: &'a [Jwk], kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|jwk| jwk.common.key_id.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

async fn fetch_keys(issuer: &str) -> Result<Vec<Jwk>, String> {
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|error| format!("cannot make an HTTP client: {error}"))?;
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let configuration = fetch_json(&client, &discovery).await?;
    let jwks_uri = configuration
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{discovery} has no `jwks_uri`"))?;
    let set = fetch_json(&client, jwks_uri).await?;
    // A key of a type this emulator cannot use is skipped, not fatal to the whole set.
    let keys: Vec<Jwk> = set
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|key| serde_json::from_value(key.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(format!("{jwks_uri} has no usable keys"));
    }
    Ok(keys)
}

async fn fetch_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| format!("cannot fetch {url}: {error}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|error| format!("{url} is not JSON: {error}"))
}

/// Checks the request's token; its claims and scopes for the event.
pub async fn authorize(
    authorizer: &JwtAuthorizer,
    check: &Check<'_>,
) -> Result<Authorization, Refusal> {
    let refuse = |why: &str| {
        check.note(&format!(
            "{} {}: JWT authorizer `{}` refused the token: {why}",
            check.request.method, check.request.path, authorizer.name
        ));
        Refusal::Unauthorized
    };
    let header_value = check.request.header(&authorizer.header).unwrap_or_default();
    let token = strip_bearer(header_value);
    if token.is_empty() {
        return Err(refuse(&format!("no `{}` header", authorizer.header)));
    }
    let claims: Map<String, Value> = if check.auth.options.ignore_jwt_signature {
        jsonwebtoken::dangerous::insecure_decode(token)
            .map_err(|error| refuse(&format!("it cannot be decoded: {error}")))?
            .claims
    } else {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|error| refuse(&format!("it cannot be decoded: {error}")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
        ) {
            return Err(refuse(&format!(
                "{:?} is not an algorithm API Gateway accepts",
                header.alg
            )));
        }
        let key = check
            .auth
            .keys
            .key(&authorizer.issuer, header.kid.as_deref())
            .await
            .map_err(|why| refuse(&format!("{why} (--ignoreJWTSignature skips this check)")))?;
        let mut validation = Validation::new(header.alg);
        // The claims are checked below, API Gateway's way.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|error| refuse(&format!("bad signature: {error}")))?
            .claims
    };
    check_claims(authorizer, &claims, now()).map_err(|why| refuse(&why))?;
    let scopes = token_scopes(&claims);
    if !authorizer.scopes.is_empty() {
        let granted = scopes
            .as_ref()
            .is_some_and(|scopes| scopes.iter().any(|s| authorizer.scopes.contains(s)));
        if !granted {
            check.note(&format!(
                "{} {}: JWT authorizer `{}`: the token has none of the scopes {:?}",
                check.request.method, check.request.path, authorizer.name, authorizer.scopes
            ));
            return Err(Refusal::Forbidden);
        }
    }
    Ok(Authorization::Jwt {
        claims: claims
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(claim_text(value))))
            .collect(),
        scopes,
    })
}

fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
        _ => value,
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// `iss`, `aud`/`client_id`, `exp` (required) and `nbf`, as API Gateway checks them.
fn check_claims(
    authorizer: &JwtAuthorizer,
    claims: &Map<String, Value>,
    now: i64,
) -> Result<(), String> {
    let issuer = claims.get("iss").and_then(Value::as_str);
    if issuer != Some(authorizer.issuer.as_str()) {
        return Err(format!(
            "issuer {issuer:?} is not the authorizer's `{}`",
            authorizer.issuer
        ));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let client_id = claims.get("client_id").and_then(Value::as_str);
    let known = |candidate: &str| authorizer.audience.iter().any(|a| a == candidate);
    if !audiences.iter().any(|a| known(a)) && !client_id.is_some_and(known) {
        return Err("neither `aud` nor `client_id` is one of the authorizer's audiences".into());
    }
    match claims.get("exp").and_then(Value::as_i64) {
        None => return Err("it has no `exp`".into()),
        Some(expiry) if expiry <= now => return Err("it has expired".into()),
        Some(_) => {}
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|not_before| not_before > now)
    {
        return Err("it is not valid yet (`nbf`)".into());
    }
    Ok(())
}

/// `scope` (space-separated) or `scp` (a list or a string).
fn token_scopes(claims: &Map<String, Value>) -> Option<Vec<String>> {
    let text_scopes = |text: &str| text.split_whitespace().map(str::to_string).collect();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(text)), _) => Some(text_scopes(text)),
        (_, Some(Value::Array(items))) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        (_, Some(Value::String(text))) => Some(text_scopes(text)),
        _ => None,
    }
}

/// API Gateway hands claims to the function as strings: numbers and booleans written out,
/// lists as `[a b]`.
fn claim_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(claim_text).collect::<Vec<_>>().join(" ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn authorizer() -> JwtAuthorizer {
        JwtAuthorizer {
            name: "jwt".into(),
            header: "authorization".into(),
            issuer: "https://issuer.test".into(),
            audience: vec!["app".into()],
            scopes: vec![],
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn claims_are_checked_for_issuer_audience_and_times() {
        let good = json!({"iss": "https://issuer.test", "aud": ["other", "app"], "exp": 200});
        assert_eq!(
            check_claims(&authorizer(), &claims(good.clone()), 100),
            Ok(())
        );
        let by_client = json!({"iss": "https://issuer.test", "client_id": "app", "exp": 200});
        assert_eq!(check_claims(&authorizer(), &claims(by_client), 100), Ok(()));
        assert!(check_claims(&authorizer(), &claims(good.clone()), 200).is_err());
        let mut wrong_issuer = good.clone();
        wrong_issuer["iss"] = json!("https://issuer.test/");
        assert!(check_claims(&authorizer(), &claims(wrong_issuer), 100).is_err());
        let mut early = good;
        early["nbf"] = json!(150);
        assert!(check_claims(&authorizer(), &claims(early), 100).is_err());
    }

    #[test]
    fn scopes_come_from_scope_or_scp_and_claims_become_text() {
        assert_eq!(
            token_scopes(&claims(json!({"scope": "read write"}))),
            Some(vec!["read".to_string(), "write".to_string()])
        );
        assert_eq!(
            token_scopes(&claims(json!({"scp": ["read"]}))),
            Some(vec!["read".to_string()])
        );
        assert_eq!(token_scopes(&claims(json!({}))), None);
        assert_eq!(claim_text(&json!(["a", "b"])), "[a b]");
        assert_eq!(claim_text(&json!(1700000000)), "1700000000");
        assert_eq!(strip_bearer("Bearer abc"), "abc");
    }
}
