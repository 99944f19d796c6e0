//! Resolves the Serverless Framework v3 variable syntax (`${source:address, fallback}`) in a
//! manifest tree, exactly as the Framework v3 does, quirks included (see [`syntax`] for the
//! grammar, [`engine`] for the order of resolution, [`sources`] for what each source answers).
//!
//! Only values are resolved, never map keys. Values from a variable keep their JSON type when the
//! variable is the whole string; inside a longer string numbers and booleans become text.
//! Failures are gathered and reported together, each with its place and a fix.

mod engine;
mod error;
mod evaluate;
mod file;
pub(crate) mod javascript;
mod javascript_file;
mod javascript_process;
mod javascript_protocol;
mod js;
mod prefetch;
mod sources;
mod syntax;

use std::path::PathBuf;

use indexmap::IndexMap;

use super::node::Node;
use super::source::SourceMap;

pub use error::{VariableFailure, VariablesError};
pub use sources::KNOWN as KNOWN_SOURCES;

/// A value from a cloud service, asked for only when a manifest uses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CloudReference {
    /// `${ssm:/path/name}`, `${ssm(region):...}`, `${ssm(raw):...}` (always decrypted).
    /// Unless `raw`, a `StringList` reads as a list and a `SecureString` holding JSON as that
    /// JSON, as the Framework does.
    Ssm {
        name: String,
        region: Option<String>,
        raw: bool,
    },
    /// `${cf:stack.Output}`, or `${cf(region):stack.Output}`.
    CloudFormationOutput {
        stack: String,
        output: String,
        region: Option<String>,
    },
    /// `${s3:bucket/key}`.
    S3Object { bucket: String, key: String },
    /// `${aws:accountId}`.
    AccountId,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CloudError {
    pub message: String,
}

/// Reads cloud-hosted values for `${ssm:...}`, `${cf:...}`, `${s3:...}` and `${aws:accountId}`.
///
/// `Ok(None)` means the service answered that the value does not exist (so a fallback applies);
/// `Err` means it could not be asked (no credentials, no network), which no fallback hides.
pub trait CloudVariables: Send + Sync {
    fn fetch(&self, reference: &CloudReference) -> Result<Option<serde_json::Value>, CloudError>;
}

/// What the resolver needs from outside the manifest.
pub struct Context<'a> {
    /// The service directory: `${file(...)}` paths are relative to it.
    pub service_dir: PathBuf,
    /// CLI options as `${opt:...}` sees them (`stage`, `region`, `config`, ...).
    pub options: IndexMap<String, serde_json::Value>,
    /// `--param key=value` pairs, in the order given.
    pub params: Vec<(String, String)>,
    /// Environment lookup for `${env:...}`.
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Cloud sources; `None` makes any cloud reference an error that says why.
    pub cloud: Option<&'a dyn CloudVariables>,
}

/// What resolution learnt beside the resolved tree.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Values that came from secret sources (`ssm`, `s3`): never shown unless asked for.
    pub secrets: Vec<String>,
}

/// Resolves every variable in `root` in place. On failure the tree may be partly resolved.
pub fn resolve(
    root: &mut Node,
    sources: &mut SourceMap,
    context: &Context,
) -> Result<Resolution, VariablesError> {
    let file = root.span.file;
    let mut engine = engine::Engine::new(root, sources, context);
    engine.register_tree();
    engine.prefetch_cloud();
    engine.run();
    let (failures, secrets) = engine.into_failures();
    if failures.is_empty() {
        return Ok(Resolution { secrets });
    }
    let name = sources.file(file).name.clone();
    let failures = failures.iter().map(|f| f.diagnostic(sources)).collect();
    Err(VariablesError::new(&name, failures))
}

#[cfg(test)]
mod tests;
