//! Evaluating the IAM policy a Lambda authorizer returns against the ARN of the request
//! (`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`), as API Gateway
//! does: an explicit `Deny` wins, then an `Allow` lets the request through, and nothing
//! matching is an implicit deny.
//!
//! Resources match IAM's way: `*` is any run of characters (slashes included), `?` is one
//! character, within each colon-separated part of the ARN.

use serde_json::Value;

/// What a policy says about one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    /// No statement matched.
    ImplicitDeny,
}

/// `policyDocument` evaluated for `execute-api:Invoke` on `resource`.
pub fn evaluate(document: &Value, resource: &str) -> Decision {
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let applies = |effect: &str| {
        statements.iter().any(|statement| {
            statement
                .get("Effect")
                .and_then(Value::as_str)
                .is_some_and(|e| e.eq_ignore_ascii_case(effect))
                && any_matches(statement.get("Action"), "execute-api:Invoke", true)
                && any_matches(statement.get("Resource"), resource, false)
        })
    };
    if applies("Deny") {
        Decision::ExplicitDeny
    } else if applies("Allow") {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Whether one of the patterns (a string or a list) matches; a missing `Action` means any.
fn any_matches(patterns: Option<&Value>, target: &str, missing_matches: bool) -> bool {
    match patterns {
        None => missing_matches,
        Some(Value::String(pattern)) => arn_matches(pattern, target),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|pattern| arn_matches(pattern, target)),
        Some(_) => false,
    }
}

/// Matches part by part (split at the first five colons) so that a wildcard in the region
/// does not swallow the account.
pub fn arn_matches(pattern: &str, target: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let pattern_parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let target_parts: Vec<&str> = target.splitn(6, ':').collect();
    if pattern_parts.len() != target_parts.len() {
        // `execute-api:*` against `execute-api:Invoke`, or a short pattern: match whole.
        return glob(pattern.as_bytes(), target.as_bytes());
    }
    pattern_parts
        .iter()
        .zip(&target_parts)
        .all(|(p, t)| glob(p.as_bytes(), t.as_bytes()))
}

/// `*` and `?` wildcards, case-sensitive, iteratively with one backtrack point.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:offlineapi/dev/GET/users/42";

    fn policy(effect: &str, resource: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
        ]})
    }

    #[test]
    fn wildcards_match_as_api_gateway_does() {
        assert!(arn_matches("*", ARN));
        assert!(arn_matches("arn:aws:execute-api:*:*:*/dev/GET/*", ARN));
        assert!(arn_matches(
            "arn:aws:execute-api:us-east-1:*:offlineapi/*",
            ARN
        ));
        assert!(arn_matches(
            "arn:aws:execute-api:us-east-1:123456789012:offlineapi/dev/GET/users/4?",
            ARN
        ));
        assert!(!arn_matches("arn:aws:execute-api:*:*:*/dev/POST/*", ARN));
        assert!(!arn_matches("arn:aws:execute-api:eu-west-1:*:*/*", ARN));
        assert!(!arn_matches(
            "arn:aws:execute-api:us-east-1:123456789012:offlineapi/dev/GET/users/4",
            ARN
        ));
    }

    #[test]
    fn explicit_deny_wins_over_allow_and_nothing_matching_denies() {
        let mut both = policy("Allow", json!("*"));
        both["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [ARN]}));
        assert_eq!(evaluate(&both, ARN), Decision::ExplicitDeny);
        assert_eq!(
            evaluate(&policy("Allow", json!([ARN])), ARN),
            Decision::Allow
        );
        assert_eq!(
            evaluate(
                &policy("Allow", json!("arn:aws:execute-api:*:*:*/dev/POST/*")),
                ARN
            ),
            Decision::ImplicitDeny
        );
    }
}
