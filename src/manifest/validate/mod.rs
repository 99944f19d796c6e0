//! Checks a resolved manifest against the schema of `serverless.yml` and the semantic rules
//! (handler format, limits, event shapes), producing warnings and errors with positions.
//!
//! (Being written.)

use super::node::Node;
use super::source::SourceMap;

/// How a schema violation is treated (`configValidationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Warn,
    Error,
    Off,
}

/// One finding, ready to show: a message, its place and a hint.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct Finding {
    pub message: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    pub source_code: miette::NamedSource<std::sync::Arc<str>>,
    #[label("{label}")]
    pub at: miette::SourceSpan,
    pub label: String,
    /// `file:line:col` of `at`.
    pub location: String,
}

/// Everything validation found; `errors` stop the command, `warnings` are shown and it goes on.
#[derive(Debug, Default)]
pub struct Report {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

pub fn validate(_root: &Node, _sources: &SourceMap) -> Report {
    Report::default()
}
