//! Calling a deployed function and reading what it logged, as plain data every cloud can fill:
//! the requests and answers of [`Backend::invoke`] and [`Backend::log_page`], and the
//! provider-neutral parts built on them: reading every page of a log query ([`read_logs`]) and
//! following a log as it grows ([`LogFollower`], [`follow_logs`]).
//!
//! Following polls with a moving start time. Log services index events by the time they were
//! written, but deliver them a little later and not always in order, so each poll starts
//! [`LOOKBACK_MS`] before the newest event seen and drops events already printed by their id:
//! an event that arrives late is still shown once, and none is shown twice.

use std::collections::HashMap;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Backend, ProviderError};

/// How the caller waits for the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvocationType {
    /// Wait for the result.
    #[default]
    RequestResponse,
    /// Queue the event and return at once.
    Event,
    /// Check that the call would be allowed, without running the function.
    DryRun,
}

/// One call of a deployed function.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvokeRequest {
    /// The deployed name.
    pub function: String,
    /// The event: JSON bytes.
    pub payload: Vec<u8>,
    pub invocation_type: InvocationType,
    /// The client context: JSON text, handed to the function as is.
    pub client_context: Option<String>,
    /// A version or alias; `None` for the latest.
    pub qualifier: Option<String>,
    /// Ask for the end of the invocation's log with the answer.
    pub log_tail: bool,
}

/// What the cloud answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvokeResponse {
    /// The HTTP status: 200 for a result, 202 for a queued event, 204 for a dry run.
    pub status: u16,
    /// The function's result, or its error object when `function_error` is set.
    pub payload: Vec<u8>,
    /// Set when the function failed (`Unhandled`, `Handled`): the payload is the error object.
    pub function_error: Option<String>,
    /// The end of the invocation's log, decoded (asked for with `log_tail`).
    pub log_tail: Option<String>,
    /// The version that ran.
    pub executed_version: Option<String>,
}

impl InvokeResponse {
    /// A function's answer over HTTP (Google Cloud, Azure): a 4xx/5xx is a function error
    /// (`Unauthorized` for 401 and 403), an empty body is `null`.
    pub fn from_http(status: u16, payload: Vec<u8>) -> Self {
        InvokeResponse {
            status,
            function_error: (status >= 400).then(|| match status {
                401 | 403 => "Unauthorized".to_string(),
                _ => "Unhandled".to_string(),
            }),
            payload: if payload.is_empty() {
                b"null".to_vec()
            } else {
                payload
            },
            log_tail: None,
            executed_version: None,
        }
    }
}

/// Which log events to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogQuery {
    /// The deployed name of the function whose log is read.
    pub function: String,
    /// Events at or after this time, in milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// Events before this time, when set.
    pub end_ms: Option<i64>,
    /// The cloud's filter pattern (CloudWatch Logs' syntax on AWS).
    pub filter: Option<String>,
}

/// One line (or multi-line message) the function logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogEvent {
    /// Unique within the log: how a follower recognises an event it has printed.
    pub id: String,
    /// When it was written, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub message: String,
    /// The stream (one per function instance) it came from.
    pub stream: String,
}

/// One page of a log query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogPage {
    pub events: Vec<LogEvent>,
    /// Where the next page starts; `None` on the last one.
    pub next: Option<String>,
    /// The function's log does not exist (yet): it has never run, or never logged.
    pub log_missing: bool,
}

/// Every event of `query`, page by page, sorted by time. `on_page` sees each page as it comes.
pub async fn read_logs(
    backend: &dyn Backend,
    query: &LogQuery,
    mut on_page: impl FnMut(&LogPage),
) -> Result<LogRead, ProviderError> {
    let mut read = LogRead::default();
    let mut next: Option<String> = None;
    loop {
        let page = backend.log_page(query, next.as_deref()).await?;
        on_page(&page);
        read.log_missing |= page.log_missing;
        read.events.extend(page.events);
        match page.next {
            // A token equal to the one just used would loop forever.
            Some(token) if next.as_deref() != Some(token.as_str()) => next = Some(token),
            _ => break,
        }
    }
    read.events
        .sort_by(|a, b| (a.timestamp_ms, &a.id).cmp(&(b.timestamp_ms, &b.id)));
    Ok(read)
}

/// What [`read_logs`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogRead {
    pub events: Vec<LogEvent>,
    pub log_missing: bool,
}

/// How far before the newest event seen each poll starts, for events delivered late.
pub const LOOKBACK_MS: i64 = 10_000;

/// The state of a log being followed: where the next poll starts and which events it has
/// already given out.
#[derive(Debug, Clone)]
pub struct LogFollower {
    /// The first start time: nothing before it is ever read.
    floor_ms: i64,
    /// The newest timestamp given out.
    newest_ms: Option<i64>,
    /// Ids of the events given out that the next poll can read again, with their times.
    seen: HashMap<String, i64>,
}

impl LogFollower {
    pub fn new(start_ms: i64) -> Self {
        LogFollower {
            floor_ms: start_ms,
            newest_ms: None,
            seen: HashMap::new(),
        }
    }

    /// Where the next poll starts.
    pub fn next_start(&self) -> i64 {
        match self.newest_ms {
            Some(newest) => newest.saturating_sub(LOOKBACK_MS).max(self.floor_ms),
            None => self.floor_ms,
        }
    }

    /// The events of a poll not given out before, in time order; remembers them.
    pub fn accept(&mut self, mut events: Vec<LogEvent>) -> Vec<LogEvent> {
        events.sort_by(|a, b| (a.timestamp_ms, &a.id).cmp(&(b.timestamp_ms, &b.id)));
        events.dedup_by(|a, b| a.id == b.id);
        let fresh: Vec<LogEvent> = events
            .into_iter()
            .filter(|event| !self.seen.contains_key(&event.id))
            .collect();
        for event in &fresh {
            self.seen.insert(event.id.clone(), event.timestamp_ms);
            self.newest_ms = Some(
                self.newest_ms
                    .map_or(event.timestamp_ms, |newest| newest.max(event.timestamp_ms)),
            );
        }
        // Events before the next start are never read again: forgetting them bounds memory.
        let start = self.next_start();
        self.seen.retain(|_, timestamp| *timestamp >= start);
        fresh
    }
}

/// Follows the log of `query.function` from `query.start_ms`, polling every `interval`, and
/// hands each new event to `on_event` once, in time order per poll, until `stop` is cancelled.
/// `on_missing` is told once while the log does not exist yet.
pub async fn follow_logs(
    backend: &dyn Backend,
    query: &LogQuery,
    interval: Duration,
    stop: &CancellationToken,
    mut on_event: impl FnMut(&LogEvent),
    mut on_missing: impl FnMut(),
) -> Result<(), ProviderError> {
    let mut follower = LogFollower::new(query.start_ms);
    let mut told_missing = false;
    loop {
        let poll = LogQuery {
            start_ms: follower.next_start(),
            ..query.clone()
        };
        let read = tokio::select! {
            read = read_logs(backend, &poll, |_| {}) => read?,
            _ = stop.cancelled() => return Ok(()),
        };
        if read.log_missing && !told_missing {
            on_missing();
            told_missing = true;
        }
        for event in follower.accept(read.events) {
            on_event(&event);
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.cancelled() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::Service;
    use crate::package::Artifact;
    use crate::plan::{DesiredState, LiveState, Properties, Step};
    use crate::provider::{LockAttempt, LockHolder, Scope, ServiceInfo, StepContext};
    use std::sync::Mutex;

    /// A log as a cloud would page it: each poll reads the next snapshot (the last one again
    /// once they run out), `page_size` events per page, and records the queries it was sent.
    struct PagedLog {
        scope: Scope,
        snapshots: Vec<Vec<LogEvent>>,
        page_size: usize,
        polls: Mutex<usize>,
        queries: Mutex<Vec<(i64, Option<String>)>>,
    }

    impl PagedLog {
        fn new(snapshots: Vec<Vec<LogEvent>>, page_size: usize) -> Self {
            PagedLog {
                scope: Scope {
                    service: "svc".into(),
                    stage: "dev".into(),
                    region: "us-east-1".into(),
                },
                snapshots,
                page_size,
                polls: Mutex::new(0),
                queries: Mutex::new(Vec::new()),
            }
        }
    }

    #[async_trait::async_trait]
    impl Backend for PagedLog {
        fn scope(&self) -> &Scope {
            &self.scope
        }
        fn target(&self) -> String {
            "a test log".into()
        }
        fn desired(&self, _: &Service, _: &[Artifact]) -> Result<DesiredState, ProviderError> {
            Ok(DesiredState::default())
        }
        async fn live(&self) -> Result<LiveState, ProviderError> {
            Ok(LiveState::default())
        }
        async fn apply(
            &self,
            _: &Step,
            _: &Properties,
            _: &StepContext<'_>,
        ) -> Result<Properties, ProviderError> {
            Ok(Properties::new())
        }
        async fn lock(&self, _: &LockHolder) -> Result<LockAttempt, ProviderError> {
            Ok(LockAttempt::Acquired)
        }
        async fn unlock(&self, _: &str) -> Result<(), ProviderError> {
            Ok(())
        }
        async fn lock_holder(&self) -> Result<Option<LockHolder>, ProviderError> {
            Ok(None)
        }
        fn info(&self, _: &LiveState) -> ServiceInfo {
            ServiceInfo::default()
        }

        async fn log_page(
            &self,
            query: &LogQuery,
            page: Option<&str>,
        ) -> Result<LogPage, ProviderError> {
            self.queries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((query.start_ms, page.map(str::to_string)));
            let mut polls = self.polls.lock().unwrap_or_else(|p| p.into_inner());
            if page.is_none() {
                *polls += 1;
            }
            let index = (*polls - 1).min(self.snapshots.len() - 1);
            let matching: Vec<LogEvent> = self.snapshots[index]
                .iter()
                .filter(|e| e.timestamp_ms >= query.start_ms)
                .cloned()
                .collect();
            let from: usize = page.map_or(0, |p| p.parse().unwrap_or(0));
            let to = (from + self.page_size).min(matching.len());
            Ok(LogPage {
                events: matching[from..to].to_vec(),
                next: (to < matching.len()).then(|| to.to_string()),
                log_missing: false,
            })
        }
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    #[test]
    fn every_page_of_a_query_is_read() {
        let events: Vec<LogEvent> = (0..25).map(|i| event(&format!("e{i:02}"), i)).collect();
        let log = PagedLog::new(vec![events], 10);
        let query = LogQuery::default();
        let read = run(read_logs(&log, &query, |_| {})).expect("the log reads");
        assert_eq!(read.events.len(), 25);
        assert_eq!(log.queries.lock().expect("queries").len(), 3, "three pages");
    }

    #[test]
    fn following_gives_each_event_once_across_polls_and_pages() {
        let first = vec![event("a", 1_000), event("b", 2_000)];
        let mut second = first.clone();
        second.extend([event("c", 2_000), event("d", 3_000), event("e", 3_500)]);
        let log = PagedLog::new(vec![first, second], 2);
        let stop = CancellationToken::new();
        let mut given = Vec::new();
        let query = LogQuery {
            start_ms: 500,
            ..LogQuery::default()
        };
        let followed = run(async {
            tokio::time::timeout(
                Duration::from_secs(10),
                follow_logs(
                    &log,
                    &query,
                    Duration::from_millis(1),
                    &stop,
                    |e| {
                        given.push(e.id.clone());
                        if given.len() == 5 {
                            stop.cancel();
                        }
                    },
                    || {},
                ),
            )
            .await
        });
        // A follower that lost an event would never reach five and run into the timeout.
        followed
            .expect("all five events came")
            .expect("following ends cleanly when stopped");
        assert_eq!(given, ["a", "b", "c", "d", "e"]);
        // The second poll started from the first start (the window reaches back before it).
        let queries = log.queries.lock().expect("queries");
        assert!(
            queries.iter().all(|(start, _)| *start == 500),
            "{queries:?}"
        );
    }

    fn event(id: &str, timestamp_ms: i64) -> LogEvent {
        LogEvent {
            id: id.into(),
            timestamp_ms,
            message: format!("message {id}"),
            stream: "stream".into(),
        }
    }

    fn ids(events: &[LogEvent]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn an_event_at_the_boundary_timestamp_is_given_out_once() {
        let mut follower = LogFollower::new(1_000);
        let first = follower.accept(vec![event("a", 50_000), event("b", 50_000)]);
        assert_eq!(ids(&first), ["a", "b"]);
        // The next poll reads the boundary again and finds one more event written in the same
        // millisecond.
        let second = follower.accept(vec![
            event("a", 50_000),
            event("b", 50_000),
            event("c", 50_000),
        ]);
        assert_eq!(ids(&second), ["c"]);
    }

    #[test]
    fn a_late_event_older_than_the_newest_is_still_given_out() {
        let mut follower = LogFollower::new(0);
        follower.accept(vec![event("new", 100_000)]);
        assert!(follower.next_start() <= 95_000);
        let late = follower.accept(vec![event("late", 95_000), event("new", 100_000)]);
        assert_eq!(ids(&late), ["late"]);
    }

    #[test]
    fn the_start_moves_forward_but_never_before_the_first_start() {
        let mut follower = LogFollower::new(5_000);
        assert_eq!(follower.next_start(), 5_000);
        follower.accept(vec![event("a", 6_000)]);
        assert_eq!(follower.next_start(), 5_000);
        follower.accept(vec![event("b", 60_000)]);
        assert_eq!(follower.next_start(), 60_000 - LOOKBACK_MS);
    }

    #[test]
    fn events_out_of_the_window_are_forgotten() {
        let mut follower = LogFollower::new(0);
        follower.accept(vec![event("old", 1_000)]);
        follower.accept(vec![event("new", 1_000_000)]);
        assert!(!follower.seen.contains_key("old"));
        assert!(follower.seen.contains_key("new"));
    }

    #[test]
    fn a_poll_is_given_out_in_time_order_without_repeats() {
        let mut follower = LogFollower::new(0);
        let out = follower.accept(vec![event("b", 2), event("a", 1), event("b", 2)]);
        assert_eq!(ids(&out), ["a", "b"]);
    }
}
