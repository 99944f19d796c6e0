//! Resolves the Serverless Framework v3 variable syntax (`${source:address, fallback}`) in a
//! manifest tree.
//!
//! (Being written.)

use std::path::PathBuf;

use indexmap::IndexMap;

use super::node::Node;
use super::source::SourceMap;

/// A value from a cloud service, asked for only when a manifest uses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CloudReference {
    /// `${ssm:/path/name}` (always decrypted).
    Ssm { name: String },
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

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct VariablesError {
    pub message: String,
}

/// Resolves every variable in `root` in place.
pub fn resolve(
    _root: &mut Node,
    _sources: &mut SourceMap,
    _context: &Context,
) -> Result<Resolution, VariablesError> {
    Ok(Resolution::default())
}
