//! Classifies every failure once and maps it to the exit code contract:
//! 0 success or no changes, 1 error, 2 changes found (`plan --detailed-exitcode`),
//! 3 deploy lock held by someone else, 130 interrupted.

use std::process::ExitCode;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    /// `plan --detailed-exitcode` found changes.
    Changes,
}

/// Why a command failed, classified once.
#[derive(Debug)]
pub enum Failure {
    /// The user's input is wrong (manifest, files, cloud answers): a diagnostic that says the fix.
    User(miette::Report),
    /// The command line is wrong: clap's message with usage.
    Argument(clap::Error),
    /// Something updraft did not expect: a bug, reported as one.
    Unexpected(miette::Report),
    /// Another deploy holds the lock.
    LockHeld(miette::Report),
    /// Ctrl-C.
    Interrupted,
}

impl Failure {
    /// A user error from any library diagnostic.
    pub fn user(error: impl miette::Diagnostic + Send + Sync + 'static) -> Self {
        Failure::User(miette::Report::new(error))
    }
}

pub const EXIT_SUCCESS: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;
pub const EXIT_LOCKED: u8 = 3;
pub const EXIT_INTERRUPTED: u8 = 130;

impl Status {
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Status::Success => EXIT_SUCCESS,
            Status::Changes => EXIT_CHANGES,
        })
    }
}

impl Failure {
    /// Argument errors exit 1, not clap's 2: 2 means "changes found" to CI scripts that use
    /// `plan --detailed-exitcode`, and a typo in a flag must never read as that.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::User(_) | Failure::Argument(_) | Failure::Unexpected(_) => EXIT_ERROR,
            Failure::LockHeld(_) => EXIT_LOCKED,
            Failure::Interrupted => EXIT_INTERRUPTED,
        })
    }
}

impl From<crate::manifest::LoadError> for Failure {
    fn from(error: crate::manifest::LoadError) -> Self {
        Failure::user(error)
    }
}
