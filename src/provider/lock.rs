//! The deploy lock: who holds it, and taking it with a deadline.
//!
//! A backend stores the lock where the deploys go (AWS: an object in the deployment bucket
//! written with `If-None-Match: *`), so two CI jobs on two machines exclude each other. The
//! holder's details are what a refused user needs to decide whether to wait or unlock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Backend, ProviderError};

/// What the lock holder is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    Deploy,
    DeployFunction,
    Remove,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Deploy => "deploy",
            Operation::DeployFunction => "deploy function",
            Operation::Remove => "remove",
        }
    }
}

/// Who holds a lock, where, since when, doing what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Random, so `updraft unlock ID` removes exactly the lock that was shown.
    pub id: String,
    /// The user name.
    pub who: String,
    /// The host name, and the CI job when there is one.
    #[serde(rename = "where")]
    pub place: String,
    /// RFC 3339, UTC.
    pub since: String,
    pub operation: Operation,
    pub service: String,
    pub stage: String,
}

impl LockHolder {
    /// The holder for this process.
    pub fn for_this_process(operation: Operation, service: &str, stage: &str) -> LockHolder {
        let who = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_string());
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown host".to_string());
        let place = match ci_job() {
            Some(job) => format!("{host} ({job})"),
            None => host,
        };
        LockHolder {
            id: random_id(),
            who,
            place,
            since: rfc3339(SystemTime::now()),
            operation,
            service: service.to_string(),
            stage: stage.to_string(),
        }
    }

    /// One line for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} by {} on {} since {} (lock {})",
            self.operation.name(),
            self.who,
            self.place,
            self.since,
            self.id
        )
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    Acquired,
    Held(LockHolder),
}

/// Takes the lock, retrying until `timeout` passes (zero: one attempt). Returns the holder that
/// kept it from us when it is still held at the deadline.
pub async fn acquire(
    backend: &dyn Backend,
    holder: &LockHolder,
    timeout: Duration,
    mut waiting: impl FnMut(&LockHolder),
) -> Result<LockAttempt, ProviderError> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(500);
    loop {
        match backend.lock(holder).await? {
            LockAttempt::Acquired => return Ok(LockAttempt::Acquired),
            LockAttempt::Held(other) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(LockAttempt::Held(other));
                }
                waiting(&other);
                tokio::time::sleep(pause.min(left)).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn ci_job() -> Option<String> {
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(repository), Some(run)) = (get("GITHUB_REPOSITORY"), get("GITHUB_RUN_ID")) {
        return Some(format!("GitHub Actions {repository} run {run}"));
    }
    if let Some(url) = get("CI_JOB_URL").or_else(|| get("BUILD_URL")) {
        return Some(url);
    }
    get("CI").map(|_| "CI".to_string())
}

/// 16 hex digits from the clock and the process id, hashed: unique enough for a lock id, and no
/// random-number dependency.
fn random_id() -> String {
    use sha2::{Digest, Sha256};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{nanos}-{}", std::process::id()).as_bytes());
    hex::encode(&digest[..8])
}

/// Formats a time as RFC 3339 in UTC, to the second.
pub fn rfc3339(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let time = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(rfc3339(time), "2026-11-18T11:06:40Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn two_holders_get_different_ids() {
        let a = LockHolder::for_this_process(Operation::Deploy, "svc", "dev");
        std::thread::sleep(Duration::from_millis(1));
        let b = LockHolder::for_this_process(Operation::Deploy, "svc", "dev");
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 16);
    }
}
