//! The errors of variable resolution: one [`VariableFailure`] per variable that could not be
//! resolved (with the place it is written and a fix), gathered in one [`VariablesError`] so the
//! user sees every problem at once, as the Framework lists them.

use miette::SourceSpan;

use crate::manifest::source::{SourceMap, Span};

/// One variable (or property) that could not be resolved.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct VariableFailure {
    /// The Framework's wording, with the place: `Cannot resolve variable at "custom.x"
    /// (serverless.yml:10:6): Value not found at "env" source`.
    pub message: String,
    /// The property, dotted (`custom.x`).
    pub property: String,
    /// `file:line:col` of the property's value.
    pub location: String,
    #[source_code]
    pub source_code: crate::manifest::snippet::Snippet,
    #[label("{label}")]
    pub at: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

/// Why a manifest's variables could not be resolved.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct VariablesError {
    pub message: String,
    #[related]
    pub failures: Vec<VariableFailure>,
    #[help]
    pub help: Option<String>,
}

impl VariablesError {
    pub(crate) fn new(file: &str, failures: Vec<VariableFailure>) -> Self {
        let only_unknown_sources = !failures.is_empty()
            && failures.iter().all(|f| {
                f.message
                    .contains("Unrecognized configuration variable source")
            });
        // Each failure follows with its place, snippet and fix.
        let message = if only_unknown_sources {
            let mut names: Vec<&str> = failures
                .iter()
                .filter_map(|f| f.message.rsplit('"').nth(1))
                .collect();
            names.dedup();
            format!(
                "Cannot resolve {file}: Unrecognized configuration variable sources: \"{}\"",
                names.join("\", \"")
            )
        } else if failures.len() == 1 {
            format!("Cannot resolve {file}: a variable could not be resolved")
        } else {
            format!(
                "Cannot resolve {file}: {} variables could not be resolved",
                failures.len()
            )
        };
        VariablesError {
            message,
            failures,
            help: only_unknown_sources.then(|| {
                format!(
                    "the known variable sources are: {}",
                    super::sources::KNOWN.join(", ")
                )
            }),
        }
    }
}

/// A failure as the engine records it, before it is turned into a diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The dotted property path.
    pub property: String,
    /// Where the property's value is written.
    pub place: Span,
    /// The part of it to underline (the variable, where it can be told).
    pub label_span: Span,
    /// The reason, without the property prefix.
    pub reason: String,
    /// `Variable syntax error` rather than `Cannot resolve variable`.
    pub syntax: bool,
    pub help: Option<String>,
    /// A snippet elsewhere (e.g. in an included file that does not parse).
    pub snippet: Option<(crate::manifest::snippet::Snippet, SourceSpan, String)>,
    /// The order of the property it belongs to, to list failures in document order.
    pub order: usize,
}

impl Failure {
    pub fn diagnostic(&self, sources: &SourceMap) -> VariableFailure {
        let location = sources.location(self.place);
        let heading = if self.syntax {
            "Variable syntax error at"
        } else {
            "Cannot resolve variable at"
        };
        let message = format!(
            "{heading} \"{}\" ({location}): {}",
            self.property, self.reason
        );
        let (source_code, at, label) = match &self.snippet {
            Some((source, span, label)) => (source.clone(), *span, label.clone()),
            None => (
                sources.named_source(self.label_span.file),
                self.label_span.source_span(),
                label_for(&self.reason).to_string(),
            ),
        };
        VariableFailure {
            message,
            property: self.property.clone(),
            location,
            source_code,
            at,
            label,
            help: self.help.clone(),
        }
    }
}

/// A short label under the variable, saying what is wrong with it.
fn label_for(reason: &str) -> &'static str {
    if reason.starts_with("Value not found") || reason.starts_with("The param") {
        "no value for this variable"
    } else if reason.starts_with("Circular reference") {
        "this variable leads back to this property"
    } else if reason.starts_with("Unrecognized configuration variable source") {
        "unknown variable source"
    } else if reason.starts_with("String value consist") {
        "not a string, number or boolean"
    } else {
        "this variable"
    }
}
