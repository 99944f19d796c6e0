//! How `updraft logs` prints an event: one line with its time (UTC) and the request id it belongs
//! to, or with `--json` one compact JSON object per event (for `jq` and scripts).
//!
//! The request id is read from the message, in the shapes Lambda and its runtimes write:
//! `START`/`END`/`REPORT RequestId: ID`, the tab-separated lines of the Node and Python runtimes
//! (`TIME<TAB>ID<TAB>LEVEL<TAB>message`, Python's `[LEVEL]<TAB>TIME<TAB>ID<TAB>message`), and
//! Lambda's JSON log format (`"requestId"`). The time and id those lines repeat are not shown
//! twice.

use serde_json::json;

use super::Printer;
use crate::provider::LogEvent;

impl Printer {
    /// One log event on stdout.
    pub fn log_event(&self, event: &LogEvent, as_json: bool) {
        if as_json {
            let mut value = log_event_json(event);
            self.redact_value(&mut value);
            self.data(&serde_json::to_string(&value).unwrap_or_default());
        } else {
            self.data(&log_event_line(event));
        }
    }
}

/// `TIME REQUEST-ID MESSAGE`; `-` when the message names no request; later lines of a multi-line
/// message indented under the first.
pub fn log_event_line(event: &LogEvent) -> String {
    let parsed = parse_message(&event.message);
    let mut text = format!(
        "{} {} ",
        format_time(event.timestamp_ms),
        parsed.request_id.unwrap_or("-")
    );
    let mut lines = parsed.text.lines();
    text.push_str(lines.next().unwrap_or_default());
    for line in lines {
        text.push_str("\n    ");
        text.push_str(line);
    }
    text
}

/// The `--json` form of an event.
pub fn log_event_json(event: &LogEvent) -> serde_json::Value {
    let parsed = parse_message(&event.message);
    json!({
        "time": format_time(event.timestamp_ms),
        "timestamp": event.timestamp_ms,
        "requestId": parsed.request_id,
        "message": event.message.trim_end_matches(['\n', '\r']),
        "stream": event.stream,
        "id": event.id,
    })
}

/// A message's request id and the text to show after it.
struct Parsed<'a> {
    request_id: Option<&'a str>,
    text: &'a str,
}

fn parse_message(message: &str) -> Parsed<'_> {
    let message = message.trim_end_matches(['\n', '\r']);
    for marker in ["START RequestId: ", "END RequestId: ", "REPORT RequestId: "] {
        if let Some(rest) = message.strip_prefix(marker) {
            let id = rest.split([' ', '\t']).next().filter(|id| !id.is_empty());
            return Parsed {
                request_id: id,
                text: message,
            };
        }
    }
    if message.starts_with('{') {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(message) {
            if let Some(id) = value.get("requestId").and_then(|v| v.as_str()) {
                // The id borrowed from the message itself, so it lives as long as it.
                if let Some(at) = message.find(id) {
                    return Parsed {
                        request_id: message.get(at..at + id.len()),
                        text: message,
                    };
                }
            }
        }
    }
    let fields: Vec<&str> = message.splitn(4, '\t').collect();
    // Node: TIME, ID, LEVEL, message.
    if let [time, id, level, text] = fields.as_slice() {
        if looks_like_time(time) && looks_like_request_id(id) {
            let at = message.len() - text.len() - level.len() - 1;
            return Parsed {
                request_id: Some(id),
                text: message.get(at..).unwrap_or(message),
            };
        }
        // Python: [LEVEL], TIME, ID, message.
        if level.len() >= 8 && looks_like_time(id) && looks_like_request_id(level) {
            let at = message.len() - text.len();
            return Parsed {
                request_id: Some(level),
                text: message.get(at..).unwrap_or(message),
            };
        }
    }
    Parsed {
        request_id: None,
        text: message,
    }
}

fn looks_like_time(text: &str) -> bool {
    text.len() >= 20 && text.as_bytes().get(4) == Some(&b'-') && text.contains('T')
}

fn looks_like_request_id(text: &str) -> bool {
    text.len() >= 8 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_time(timestamp_ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(timestamp_ms) {
        Some(time) => time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        // Past chrono's range (about 262,000 years): the number as CloudWatch sent it.
        None => timestamp_ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> LogEvent {
        LogEvent {
            id: "1".into(),
            timestamp_ms: 1_764_149_400_123,
            message: message.into(),
            stream: "s".into(),
        }
    }

    #[test]
    fn times_print_in_utc_with_milliseconds() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time(1_764_149_400_123), "2025-11-26T09:30:00.123Z");
        assert_eq!(format_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn a_node_line_shows_its_request_id_once() {
        let line = log_event_line(&event(
            "2025-11-26T09:30:00.120Z\t8f5a-11aa-bb\tINFO\thello world\n",
        ));
        assert_eq!(
            line,
            "2025-11-26T09:30:00.123Z 8f5a-11aa-bb INFO\thello world"
        );
    }

    #[test]
    fn a_python_line_shows_its_request_id() {
        let line = log_event_line(&event(
            "[INFO]\t2025-11-26T09:30:00.120Z\t8f5a-11aa-bb\thello\n",
        ));
        assert_eq!(line, "2025-11-26T09:30:00.123Z 8f5a-11aa-bb hello");
    }

    #[test]
    fn start_end_and_report_lines_name_their_request() {
        let line = log_event_line(&event("REPORT RequestId: abc-123\tDuration: 1.00 ms\n"));
        assert_eq!(
            line,
            "2025-11-26T09:30:00.123Z abc-123 REPORT RequestId: abc-123\tDuration: 1.00 ms"
        );
    }

    #[test]
    fn a_line_without_a_request_has_a_dash() {
        assert_eq!(
            log_event_line(&event("INIT_START Runtime Version: nodejs:20\n")),
            "2025-11-26T09:30:00.123Z - INIT_START Runtime Version: nodejs:20"
        );
    }

    #[test]
    fn later_lines_of_a_message_are_indented_under_it() {
        assert_eq!(
            log_event_line(&event("first\nsecond\n")),
            "2025-11-26T09:30:00.123Z - first\n    second"
        );
    }

    #[test]
    fn json_events_carry_the_request_id_of_the_json_log_format() {
        let value = log_event_json(&event(
            r#"{"level":"INFO","requestId":"r-1","message":"x"}"#,
        ));
        assert_eq!(value["requestId"], "r-1");
        assert_eq!(value["timestamp"], 1_764_149_400_123_i64);
        assert_eq!(value["time"], "2025-11-26T09:30:00.123Z");
    }
}
