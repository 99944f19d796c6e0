//! What can stop a build step, and what a build step warns about: each names the function or
//! file at fault and the fix.

use std::path::PathBuf;

/// Why a build step failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuildError {
    /// A program the step needs is not installed.
    #[error("{needed_for} needs `{program}`, which is not installed")]
    #[diagnostic(code(build::missing_tool), help("{install}"))]
    MissingTool {
        program: String,
        needed_for: String,
        install: String,
    },

    /// A build program ran and failed; `output` is the end of what it printed.
    #[error("{what} failed{}:\n{output}", status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    #[diagnostic(code(build::failed), help("{help}"))]
    Failed {
        what: String,
        status: Option<String>,
        output: String,
        help: String,
    },

    /// A setting the step cannot honour.
    #[error("{place}: {reason}")]
    #[diagnostic(code(build::setting), help("{help}"))]
    Setting {
        place: String,
        reason: String,
        help: String,
    },

    #[error("cannot read {}: {reason}", path.display())]
    #[diagnostic(code(build::read))]
    Read { path: PathBuf, reason: String },

    #[error("cannot write {}: {reason}", path.display())]
    #[diagnostic(
        code(build::write),
        help("check that the folder is writable and the disk has room")
    )]
    Write { path: PathBuf, reason: String },

    #[error("interrupted")]
    #[diagnostic(code(build::interrupted))]
    Interrupted,

    /// The compiler has no standard library for the platform a function is built for.
    #[error("function `{function}` is built for {target}, and that Rust target is not installed")]
    #[diagnostic(code(build::missing_target), help("{install}"))]
    MissingTarget {
        function: String,
        target: String,
        install: String,
    },

    /// The service's installed packages could not be read (to package a bundle's externals).
    #[error(transparent)]
    #[diagnostic(transparent)]
    NodeDependencies(#[from] crate::package::node_deps::NodeDepsError),

    /// A handler whose source file a bundle needs is not there.
    #[error("function `{function}`: no source file for handler `{handler}` (looked for {tried})")]
    #[diagnostic(code(build::no_entry), help("{help}"))]
    NoEntry {
        function: String,
        handler: String,
        tried: String,
        help: String,
    },

    /// A Python requirement pip cannot install: no such package or version, or no wheel for
    /// Lambda's platform.
    #[error("{functions}: cannot install `{requirement}` from {file}: {problem}")]
    #[diagnostic(code(build::python_requirement), help("{help}"))]
    Requirement {
        functions: String,
        file: String,
        requirement: String,
        problem: String,
        help: String,
    },
}

/// Something a build step noticed that does not stop it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(build::warning), help("{help}"))]
pub struct BuildWarning {
    pub message: String,
    pub help: String,
}
