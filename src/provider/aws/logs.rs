//! `updraft logs` on AWS: CloudWatch Logs `FilterLogEvents` on the function's log group
//! (`/aws/lambda/{deployed name}`), one page per call.
//!
//! A log group that does not exist is not an error: Lambda creates it on the function's first
//! run (updraft's deploy creates it ahead), so "no events yet" is the honest answer, and a
//! follower keeps polling until it appears.

use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;

use super::{call, naming};
use crate::provider::{LogEvent, LogPage, LogQuery, ProviderError};

/// The most events one page asks for (CloudWatch's own maximum).
const PAGE_LIMIT: i32 = 10_000;

/// One page of the function's log events.
pub async fn page(
    logs: &aws_sdk_cloudwatchlogs::Client,
    query: &LogQuery,
    token: Option<&str>,
) -> Result<LogPage, ProviderError> {
    let group = naming::log_group_name(&query.function);
    let answer = logs
        .filter_log_events()
        .log_group_name(&group)
        .start_time(query.start_ms)
        .set_end_time(query.end_ms)
        .set_filter_pattern(query.filter.clone().filter(|p| !p.is_empty()))
        .set_next_token(token.map(str::to_string))
        .limit(PAGE_LIMIT)
        .send()
        .await;
    let output = match answer {
        Ok(output) => output,
        Err(error) if call::is(&error, &["ResourceNotFoundException"]) => {
            return Ok(LogPage {
                log_missing: true,
                ..LogPage::default()
            })
        }
        Err(error) if call::is(&error, &["InvalidParameterException"]) => {
            let message = aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::message(&error)
                .unwrap_or("the request was refused")
                .to_string();
            return Err(ProviderError::Call {
                operation: "logs:FilterLogEvents".into(),
                resource: format!("log group {group}"),
                message,
                help: "check `--filter` (CloudWatch Logs filter pattern syntax: terms, \
                       \"quoted phrases\", -excluded, or { $.field = value } for JSON) and \
                       `--startTime`"
                    .into(),
            });
        }
        Err(error) => {
            return Err(call::failed(
                "logs:FilterLogEvents",
                format!("log group {group}"),
                &error,
            ))
        }
    };
    let events = output.events().iter().filter_map(event).collect();
    Ok(LogPage {
        events,
        next: output.next_token().map(str::to_string),
        log_missing: false,
    })
}

/// An event as plain data; one without an id or a time cannot be followed and is skipped.
fn event(event: &FilteredLogEvent) -> Option<LogEvent> {
    Some(LogEvent {
        id: event.event_id()?.to_string(),
        timestamp_ms: event.timestamp()?,
        message: event.message().unwrap_or_default().to_string(),
        stream: event.log_stream_name().unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_keeps_its_id_time_message_and_stream() {
        let sdk = FilteredLogEvent::builder()
            .event_id("3456")
            .timestamp(1_700_000_000_123)
            .message("START RequestId: abc Version: $LATEST\n")
            .log_stream_name("2026/11/26/[$LATEST]ff")
            .build();
        assert_eq!(
            event(&sdk),
            Some(LogEvent {
                id: "3456".into(),
                timestamp_ms: 1_700_000_000_123,
                message: "START RequestId: abc Version: $LATEST\n".into(),
                stream: "2026/11/26/[$LATEST]ff".into(),
            })
        );
    }

    #[test]
    fn an_event_without_an_id_is_skipped_rather_than_repeated() {
        let sdk = FilteredLogEvent::builder()
            .timestamp(1)
            .message("x")
            .build();
        assert_eq!(event(&sdk), None);
    }
}
