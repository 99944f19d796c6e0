//! Parses YAML text into a [`Node`] tree the way the Serverless Framework v3 reads it (js-yaml 4
//! with the CloudFormation tag schema), with positions and bounded resources.
//!
//! JSON files go through here too (JSON is YAML), so they get positions as well; a `.json` file
//! allows a repeated key (the last wins) as `JSON.parse` does.
//!
//! The parser is yaml-rust2's low-level event API: it is maintained, pure Rust, and marks every
//! event with its position (`serde_yaml` is deprecated and hides positions). It has no resource
//! limits of its own, so [`builder`] enforces ours while building the tree with an explicit
//! stack: total size, nesting depth, values after alias expansion, and one document.

mod builder;
mod errors;
mod scalar;
mod spans;
mod tags;
#[cfg(test)]
mod tests;

pub use errors::YamlError;

use super::node::Node;
use super::source::{FileId, SourceMap, Span};
use errors::Reporter;

/// Resource bounds for one document; hostile input fails fast with a named limit.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: usize,
    /// Nested maps and lists, the root counting as one (js-yaml's `maxDepth` is 100).
    pub max_depth: usize,
    /// Values in the tree once aliases are expanded (each alias counts its anchor's whole size).
    pub max_nodes: usize,
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 100,
            max_nodes: 200_000,
            max_documents: 1,
        }
    }
}

/// Parses the single document of `file`. An empty document (or one of comments only) is a null
/// node; the caller decides whether that is acceptable.
pub fn parse(sources: &SourceMap, file: FileId, limits: &Limits) -> Result<Node, YamlError> {
    let report = Reporter {
        sources,
        file,
        max_depth: limits.max_depth,
    };
    let source = sources.file(file);
    if source.text.len() > limits.max_bytes {
        return Err(report.too_big(source.text.len(), limits.max_bytes));
    }
    if let Some((offset, character)) = find_control_character(&source.text) {
        let span = Span::new(file, offset, offset + character.len_utf8());
        return Err(report.control_character(span, character));
    }
    // yaml-rust2 refuses `key:<TAB>value`, which js-yaml reads as `key: value`. Each refusal is
    // retried on a copy with those tabs read as spaces (same byte offsets, so spans still fit).
    let mut text = std::borrow::Cow::Borrowed(&*source.text);
    let mut retries = 0;
    loop {
        match builder::Builder::new(source, file, limits, &report).run(&text) {
            Ok(node) => return Ok(node),
            Err(failure) => match failure.tab_after_colon {
                Some(at) if retries < MAX_TAB_RETRIES => {
                    retries += 1;
                    text = std::borrow::Cow::Owned(spaces_before(&text, at));
                }
                _ => return Err(failure.error),
            },
        }
    }
}

/// Re-parses allowed for tabs after `key:`; each costs a parse, so hostile input stays bounded.
const MAX_TAB_RETRIES: usize = 20;

/// `text` with the tabs between a `:` and the value at `at` replaced by spaces.
fn spaces_before(text: &str, at: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut index = at.min(bytes.len());
    while index > 0 && matches!(bytes[index - 1], b' ' | b'\t') {
        index -= 1;
        bytes[index] = b' ';
    }
    // Only ASCII tabs became ASCII spaces, so the text is still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// The first character YAML forbids in a stream (js-yaml's "non-printable characters"): C0
/// controls other than tab, line feed and carriage return, DEL, C1 controls other than NEL, and
/// the non-characters U+FFFE/U+FFFF. yaml-rust2 accepts some of them silently.
fn find_control_character(text: &str) -> Option<(usize, char)> {
    let bytes = text.as_bytes();
    let suspicious = |b: &u8| (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || *b >= 0x7F;
    let mut from = 0;
    while let Some(relative) = bytes[from..].iter().position(suspicious) {
        let offset = from + relative;
        let character = text[offset..].chars().next()?;
        let forbidden = match character {
            '\u{7F}'..='\u{84}' | '\u{86}'..='\u{9F}' | '\u{FFFE}' | '\u{FFFF}' => true,
            c => u32::from(c) < 0x20,
        };
        if forbidden {
            return Some((offset, character));
        }
        from = offset + character.len_utf8();
    }
    None
}
