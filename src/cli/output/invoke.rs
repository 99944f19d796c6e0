//! How an invocation's answer prints: the payload on stdout (pretty JSON on a terminal, the
//! bytes as they came otherwise, so `updraft invoke ... > out.json` keeps them exact), the log
//! tail on stderr.
//!
//! Resolved secrets are redacted here as everywhere: a payload that contains one shows
//! `<redacted>` in its place.

use std::io::{IsTerminal, Write};

use super::Printer;

/// How a payload is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadStyle {
    /// Indented JSON with a final newline (a JSON payload on a terminal).
    Pretty,
    /// The bytes as they came.
    Exact,
}

impl PayloadStyle {
    /// Pretty on a terminal unless `raw`; exact otherwise.
    pub fn for_stdout(raw: bool) -> Self {
        if !raw && std::io::stdout().is_terminal() {
            PayloadStyle::Pretty
        } else {
            PayloadStyle::Exact
        }
    }
}

impl Printer {
    /// A function's answer, on stdout.
    pub fn payload(&self, payload: &[u8], style: PayloadStyle) {
        let bytes = self.payload_bytes(payload, style);
        let mut out = std::io::stdout().lock();
        // A closed pipe (`updraft invoke ... | head`) is not an error worth a message.
        let _ = out.write_all(&bytes);
        let _ = out.flush();
    }

    /// What [`Printer::payload`] writes.
    pub fn payload_bytes(&self, payload: &[u8], style: PayloadStyle) -> Vec<u8> {
        if style == PayloadStyle::Pretty {
            if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(payload) {
                self.redact_value(&mut value);
                let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
                text.push('\n');
                return text.into_bytes();
            }
        }
        match std::str::from_utf8(payload) {
            Ok(text) if !self.secrets.is_empty() => {
                let mut text = self.redact(text);
                if style == PayloadStyle::Pretty && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.into_bytes()
            }
            _ => {
                let mut bytes = payload.to_vec();
                if style == PayloadStyle::Pretty && !bytes.ends_with(b"\n") && !bytes.is_empty() {
                    bytes.push(b'\n');
                }
                bytes
            }
        }
    }

    /// The end of the invocation's log (`--log`), on stderr, framed so it does not read as
    /// updraft's own messages.
    pub fn log_tail(&self, function: &str, log: &str) {
        let log = self.redact(log);
        let mut text = format!("--- log of {function} (last 4 KB)\n{log}");
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("---\n");
        eprint!("{text}");
    }
}

/// The one-line summary of a function error object: `errorType: errorMessage`.
pub fn error_summary(payload: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let message = value.get("errorMessage").and_then(|m| m.as_str());
    let kind = value.get("errorType").and_then(|m| m.as_str());
    match (kind, message) {
        (Some(kind), Some(message)) => Some(format!("{kind}: {message}")),
        (None, Some(message)) => Some(message.to_string()),
        (Some(kind), None) => Some(kind.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_output_keeps_the_bytes_and_adds_no_newline() {
        let printer = Printer::new(true, 0);
        let payload = br#"{"b":1,  "a":[2]}"#;
        assert_eq!(printer.payload_bytes(payload, PayloadStyle::Exact), payload);
    }

    #[test]
    fn pretty_output_indents_json_and_keeps_key_order() {
        let printer = Printer::new(true, 0);
        let text = printer.payload_bytes(br#"{"b":1,"a":[2]}"#, PayloadStyle::Pretty);
        assert_eq!(
            String::from_utf8_lossy(&text),
            "{\n  \"b\": 1,\n  \"a\": [\n    2\n  ]\n}\n"
        );
    }

    #[test]
    fn pretty_output_of_text_that_is_not_json_is_the_text() {
        let printer = Printer::new(true, 0);
        let text = printer.payload_bytes(b"plain", PayloadStyle::Pretty);
        assert_eq!(text, b"plain\n");
    }

    #[test]
    fn a_secret_in_a_payload_is_redacted() {
        let mut printer = Printer::new(true, 0);
        printer.add_secrets(["hunter22".to_string()]);
        let text = printer.payload_bytes(br#"{"token":"hunter22"}"#, PayloadStyle::Exact);
        assert_eq!(String::from_utf8_lossy(&text), r#"{"token":"<redacted>"}"#);
    }

    #[test]
    fn the_error_summary_reads_lambdas_error_shape() {
        assert_eq!(
            error_summary(br#"{"errorMessage":"boom","errorType":"Error","stackTrace":[]}"#),
            Some("Error: boom".into())
        );
        assert_eq!(error_summary(b"not json"), None);
    }
}
