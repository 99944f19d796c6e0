//! Node dependencies kept in an artifact. Placeholder: allows every file until the
//! production-dependency filter lands.

use std::path::Path;

/// Which files under `node_modules` belong to production dependencies.
#[derive(Debug, Clone, Default)]
pub struct NodeDependencies;

impl NodeDependencies {
    /// Whether a file (relative to the service dir, `/`-separated) may go into an artifact.
    pub fn allows(&self, _relative_path: &str) -> bool {
        true
    }
}

/// Why the production dependencies could not be worked out.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot read the Node dependencies")]
pub struct NodeDepsError;

/// The production filter for the service at `service_dir`.
pub fn production_filter(_service_dir: &Path) -> Result<NodeDependencies, NodeDepsError> {
    Ok(NodeDependencies)
}
