//! Lambda authorizers' answers kept for `resultTtlInSeconds`, keyed by authorizer and identity
//! source values, as API Gateway caches them: the answer (a policy) is kept, not the decision,
//! so a cached policy is evaluated again for each route it is used on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Entries at most: past it, expired entries go, then everything (a client sending endless
/// distinct tokens must not grow the emulator without bound).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct AnswerCache {
    entries: Mutex<HashMap<(String, String), (Instant, Value)>>,
}

impl AnswerCache {
    pub fn get(&self, authorizer: &str, identity: &str) -> Option<Value> {
        let entries = self.entries.lock().ok()?;
        let (expires, answer) = entries.get(&(authorizer.to_string(), identity.to_string()))?;
        (Instant::now() < *expires).then(|| answer.clone())
    }

    pub fn put(&self, authorizer: &str, identity: &str, ttl: Duration, answer: Value) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            (authorizer.to_string(), identity.to_string()),
            (now + ttl, answer),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_are_kept_per_authorizer_and_identity_until_they_expire() {
        let cache = AnswerCache::default();
        cache.put("auth", "token-a", Duration::from_secs(60), json!({"a": 1}));
        cache.put("auth", "token-b", Duration::ZERO, json!({"b": 1}));
        assert_eq!(cache.get("auth", "token-a"), Some(json!({"a": 1})));
        assert_eq!(cache.get("other", "token-a"), None);
        assert_eq!(cache.get("auth", "token-b"), None);
    }
}
