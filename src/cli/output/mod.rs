//! The one printer: everything updraft shows goes through here. Data goes to stdout; messages,
//! warnings and errors go to stderr, so `updraft print --format json > out.json` stays clean.
//!
//! Colour follows `--no-color`, `NO_COLOR` and whether stderr is a terminal. Diagnostics render
//! with `miette` (file:line:col, a snippet, a hint) at a fixed width when not on a terminal so
//! that output is the same on every machine.

pub mod invoke;
pub mod logs;
pub mod offline;
pub mod plan;
pub mod progress;
pub mod yaml;

use std::fmt;
use std::io::{IsTerminal, Write};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, Severity};

use super::error::Failure;

/// Where output goes and how it looks.
#[derive(Clone)]
pub struct Printer {
    color: bool,
    verbose: u8,
    /// Values that must never be shown (resolved secrets): replaced wherever they appear.
    secrets: Vec<String>,
}

impl Printer {
    pub fn new(no_color_flag: bool, verbose: u8) -> Self {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !no_color_flag && !no_color_env && std::io::stderr().is_terminal();
        Printer {
            color,
            verbose,
            secrets: Vec::new(),
        }
    }

    pub fn verbose(&self) -> u8 {
        self.verbose
    }

    /// Registers values to redact from everything printed from now on.
    pub fn add_secrets(&mut self, secrets: impl IntoIterator<Item = String>) {
        self.secrets
            .extend(secrets.into_iter().filter(|s| !s.is_empty()));
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets.dedup();
    }

    /// Replaces registered secrets inside free text (messages, rendered output). Secrets shorter
    /// than [`MIN_EMBEDDED_SECRET`] are left to [`Printer::redact_value`]: replacing `a` inside
    /// every word would mangle the output and reveal nothing less.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in self
            .secrets
            .iter()
            .filter(|s| s.len() >= MIN_EMBEDDED_SECRET)
        {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }

    /// Redacts secrets in a value before it is serialised, so a multi-line secret is caught
    /// whatever escaping the output format applies: a string equal to a secret is replaced
    /// whole, and longer secrets are replaced wherever they appear inside a string.
    pub fn redact_value(&self, value: &mut serde_json::Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            serde_json::Value::String(text) => {
                if self.secrets.iter().any(|s| s == text) {
                    *text = REDACTED.to_string();
                } else {
                    *text = self.redact(text);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }

    /// Command output (stdout).
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let text = self.redact(text);
        // A closed pipe (`updraft print | head`) is not an error worth a message.
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    /// A line of information (stderr).
    pub fn info(&self, text: &str) {
        // One write per message: stderr is unbuffered, and `offline` logs every request.
        let mut line = self.redact(text);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    /// A warning with its place and hint (stderr).
    pub fn warning(&self, diagnostic: &dyn Diagnostic) {
        let rendered = self.render(&AsWarning(diagnostic));
        eprint!("{}", self.redact(&rendered));
    }

    /// Reports a failure on stderr.
    pub fn failure(&self, failure: &Failure) {
        let text = match failure {
            Failure::User(report) | Failure::LockHeld(report) => self.render(report.as_ref()),
            Failure::Unexpected(report) => format!(
                "{}\nThis is a bug in updraft. Please report it with the command you ran.\n",
                self.render(report.as_ref())
            ),
            Failure::Argument(error) => {
                if self.color {
                    error.render().ansi().to_string()
                } else {
                    error.render().to_string()
                }
            }
            Failure::Interrupted => "interrupted\n".to_string(),
        };
        eprint!("{}", self.redact(&text));
    }

    fn render(&self, diagnostic: &dyn Diagnostic) -> String {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_context_lines(1);
        let mut out = String::new();
        if handler.render_report(&mut out, diagnostic).is_err() {
            out = format!("{diagnostic}\n");
        }
        out
    }
}

/// What a redacted secret shows as.
pub const REDACTED: &str = "<redacted>";

/// The shortest secret that is searched for inside longer text.
pub const MIN_EMBEDDED_SECRET: usize = 4;

/// Shows any diagnostic as a warning.
struct AsWarning<'a>(&'a dyn Diagnostic);

impl fmt::Debug for AsWarning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for AsWarning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}

impl std::error::Error for AsWarning<'_> {}

impl Diagnostic for AsWarning<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.code()
    }
    fn severity(&self) -> Option<Severity> {
        Some(Severity::Warning)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.help()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        self.0.related()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_inside_longer_text() {
        let mut printer = Printer::new(true, 0);
        printer.add_secrets(["s3cr3t-value".to_string(), "s3cr3t".to_string()]);
        assert_eq!(
            printer.redact("url: https://x?token=s3cr3t-value&b=s3cr3t"),
            "url: https://x?token=<redacted>&b=<redacted>"
        );
    }

    #[test]
    fn multi_line_secret_is_redacted_before_escaping() {
        let mut printer = Printer::new(true, 0);
        printer.add_secrets(["line one\nline two".to_string()]);
        let mut value = serde_json::json!({"key": "line one\nline two", "other": "x"});
        printer.redact_value(&mut value);
        assert_eq!(value, serde_json::json!({"key": REDACTED, "other": "x"}));
    }

    #[test]
    fn short_secret_does_not_mangle_other_words() {
        let mut printer = Printer::new(true, 0);
        printer.add_secrets(["a".to_string(), "b".to_string()]);
        let mut value = serde_json::json!({"name": "a", "service": "backend", "list": ["b"]});
        printer.redact_value(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"name": REDACTED, "service": "backend", "list": [REDACTED]})
        );
    }
}
