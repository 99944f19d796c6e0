//! `updraft logs` on Google Cloud: a 2nd gen function runs as a Cloud Run service, so its lines
//! are Cloud Logging entries of the resource `cloud_run_revision` whose `service_name` is the
//! function id. One page of `entries.list` at a time, oldest first; following (`--tail`) is the
//! provider-neutral poller over these pages.

use google_cloud_logging_v2::model::LogEntry;

use super::backend::GcpBackend;
use super::call::{self, Api};
use crate::provider::{LogEvent, LogPage, LogQuery, ProviderError};

/// The most entries one page asks for (Cloud Logging allows 1,000).
const PAGE_SIZE: i32 = 1000;

/// The Cloud Logging filter of `query` for a function `id`.
pub fn filter(id: &str, query: &LogQuery) -> String {
    let mut filter = format!(
        "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"{id}\" AND timestamp>=\"{}\"",
        time(query.start_ms)
    );
    if let Some(end) = query.end_ms {
        filter.push_str(&format!(" AND timestamp<\"{}\"", time(end)));
    }
    if let Some(extra) = &query.filter {
        // The user's own Logging query language, as the console takes it.
        filter.push_str(&format!(" AND ({extra})"));
    }
    filter
}

fn time(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub async fn log_page(
    backend: &GcpBackend,
    query: &LogQuery,
    page: Option<&str>,
) -> Result<LogPage, ProviderError> {
    let id = super::function::id_of(&query.function);
    let project = format!("projects/{}", backend.project);
    let answer = backend
        .clients
        .logging
        .list_log_entries()
        .set_resource_names([project.clone()])
        .set_filter(filter(&id, query))
        .set_order_by("timestamp asc")
        .set_page_size(PAGE_SIZE)
        .set_page_token(page.unwrap_or_default())
        .send()
        .await
        .map_err(|e| call::failed(Api::Logging, "entries.list", &project, &e))?;
    Ok(LogPage {
        events: answer.entries.iter().map(event).collect(),
        next: Some(answer.next_page_token).filter(|token| !token.is_empty()),
        log_missing: false,
    })
}

/// One entry as a line: its text, or its JSON payload written as JSON.
fn event(entry: &LogEntry) -> LogEvent {
    let message = entry
        .text_payload()
        .cloned()
        .or_else(|| {
            entry
                .json_payload()
                .and_then(|payload| serde_json::to_string(payload.as_ref()).ok())
        })
        .unwrap_or_default();
    let timestamp_ms = entry
        .timestamp
        .as_ref()
        .map(|t| t.seconds() * 1000 + i64::from(t.nanos()) / 1_000_000)
        .unwrap_or_default();
    let stream = entry
        .labels
        .get("instanceId")
        .cloned()
        .or_else(|| {
            entry
                .resource
                .as_ref()
                .and_then(|r| r.labels.get("revision_name").cloned())
        })
        .unwrap_or_default();
    LogEvent {
        id: entry.insert_id.clone(),
        timestamp_ms,
        message,
        stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_names_the_functions_service_and_the_time_window() {
        let query = LogQuery {
            function: "shop-dev-hello".into(),
            start_ms: 1_767_225_600_000,
            end_ms: Some(1_767_225_660_500),
            filter: Some("severity>=ERROR".into()),
        };
        assert_eq!(
            filter("shop-dev-hello", &query),
            "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"shop-dev-hello\" \
             AND timestamp>=\"2026-01-01T00:00:00.000Z\" AND timestamp<\"2026-01-01T00:01:00.500Z\" \
             AND (severity>=ERROR)"
        );
    }
}
