//! What can go wrong talking to a cloud, classified so the command line can say the fix.

use crate::manifest::source::Span;
use crate::plan::ResourceId;

use super::lock::LockHolder;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProviderError {
    /// The manifest asks for something this backend cannot deploy yet. Raised while building the
    /// desired state, before any change.
    #[error("{what} is not supported yet")]
    #[diagnostic(help("{help}"))]
    Unsupported {
        what: String,
        /// The place in the manifest, when there is one.
        span: Option<Span>,
        help: String,
    },

    /// A value in the manifest cannot be deployed as written.
    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Invalid {
        message: String,
        span: Option<Span>,
        help: String,
    },

    /// A cloud call failed.
    #[error("{operation} failed for {resource}: {message}")]
    #[diagnostic(help("{help}"))]
    Call {
        operation: String,
        resource: String,
        message: String,
        help: String,
    },

    /// Credentials are missing or refused.
    #[error("cannot sign in to {cloud}: {message}")]
    #[diagnostic(help("{help}"))]
    Credentials {
        cloud: String,
        message: String,
        help: String,
    },

    /// A wait for readiness ran past its deadline.
    #[error("{resource} was not ready after {seconds} s: {state}")]
    #[diagnostic(help("check the resource in the console; running the command again continues from where it stopped"))]
    Timeout {
        resource: ResourceId,
        seconds: u64,
        state: String,
    },

    /// Another deploy or remove holds the lock.
    #[error("the deploy lock is held: {}", holder.describe())]
    #[diagnostic(help("wait for it to finish (`--lock-timeout 10m` waits), or if it is gone, run `updraft unlock {}`", holder.id))]
    LockHeld { holder: Box<LockHolder> },

    /// `updraft unlock ID` named a lock that is not the current one.
    #[error("no lock {id} to release: {current}")]
    #[diagnostic(help("run `updraft unlock` without an id to see the current lock"))]
    NoSuchLock { id: String, current: String },

    /// Parts of the live state could not be read: a deploy planned without them could duplicate
    /// or lose what is there.
    #[error("parts of what is deployed could not be read:\n  {parts}")]
    #[diagnostic(help(
        "fix the cause each line names (a permission, a policy on the resource), then run the \
         command again"
    ))]
    Unreadable { parts: String },

    /// The desired state cannot be planned (a cycle, a duplicate).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] crate::plan::PlanError),

    /// The backend asked to apply a step with properties it cannot read: a bug.
    #[error("internal error applying {resource}: {message}")]
    #[diagnostic(help("this is a bug in updraft: please report it with the manifest"))]
    Internal {
        resource: ResourceId,
        message: String,
    },
}
