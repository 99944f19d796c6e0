//! Why a cloud command stopped, as one type the command line classifies into exit codes: a
//! held lock (3), Ctrl-C (130), a bug (1, reported as one), everything else a user error (1)
//! whose message says the fix.

use crate::package::PackageError;
use crate::provider::ProviderError;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OpsError {
    /// A cloud call, the lock, or the desired state.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Provider(#[from] ProviderError),

    /// Building the artifacts.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Package(PackageError),

    /// Ctrl-C: running calls finished, the lock was released.
    #[error("interrupted")]
    Interrupted,

    /// The user declined a destructive plan.
    #[error("nothing was changed: the plan was not confirmed")]
    #[diagnostic(help("run again and type `yes`, or pass --yes"))]
    NotConfirmed,

    /// Some steps failed; the rest were applied or never started.
    #[error("{} change(s) failed:\n  {}", failed.len(), failed.join("\n  "))]
    #[diagnostic(help(
        "fix the cause and run the command again: it continues from what was applied"
    ))]
    ApplyFailed { failed: Vec<String> },

    /// A remove that could not delete or read everything: what is left, and why.
    #[error("{} owned resource(s) or part(s) are left:\n  {}", left.len(), left.join("\n  "))]
    #[diagnostic(help(
        "fix the cause each line names, then run `updraft remove` again: it deletes what is left"
    ))]
    Left { left: Vec<String> },

    /// `deploy function -f KEY` with a key the manifest does not have.
    #[error("no function `{key}` in the manifest")]
    #[diagnostic(help("the service's functions are: {known}"))]
    UnknownFunction { key: String, known: String },

    /// `deploy function` before the function was ever deployed.
    #[error("function {name} is not deployed yet")]
    #[diagnostic(help(
        "run `updraft deploy` once: `deploy function` updates a deployed function"
    ))]
    NotDeployed { name: String },
}
