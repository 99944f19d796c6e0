//! What can go wrong while deciding a Node service's production dependencies: errors that stop
//! packaging (a lockfile or package.json that cannot be read) and warnings that do not (a lockfile
//! that disagrees with what is installed).

use std::io;
use std::path::PathBuf;

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// A failure that leaves the production dependencies undecidable.
#[derive(Debug, Error, Diagnostic)]
pub enum NodeDepsError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(updraft::package::node_deps::read), help("{fix}"))]
    Read {
        path: PathBuf,
        fix: String,
        #[source]
        cause: io::Error,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    InvalidLockfile(Box<InvalidLockfile>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    InvalidPackageJson(Box<InvalidPackageJson>),
}

/// A lockfile that is not JSON, or whose `packages` map is malformed.
#[derive(Debug, Error, Diagnostic)]
#[error("{} is not a valid npm lockfile: {message}", path.display())]
#[diagnostic(code(updraft::package::node_deps::invalid_lockfile), help("{fix}"))]
pub struct InvalidLockfile {
    pub path: PathBuf,
    pub message: String,
    pub fix: String,
    #[source_code]
    pub source_code: crate::manifest::snippet::Snippet,
    #[label("{message}")]
    pub at: SourceSpan,
}

/// A package.json that is not a JSON object.
#[derive(Debug, Error, Diagnostic)]
#[error("{} is not a valid package.json: {message}", path.display())]
#[diagnostic(code(updraft::package::node_deps::invalid_package_json), help("{fix}"))]
pub struct InvalidPackageJson {
    pub path: PathBuf,
    pub message: String,
    pub fix: String,
    #[source_code]
    pub source_code: crate::manifest::snippet::Snippet,
    #[label("{message}")]
    pub at: SourceSpan,
}

/// A finding that does not stop packaging but that the user should hear about: the artifact may
/// lack a package, or keep more than it needs.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum NodeDepsWarning {
    #[error("production package `{location}` is listed in {} but is not installed", lockfile.display())]
    #[diagnostic(
        severity(Warning),
        code(updraft::package::node_deps::not_installed),
        help("run `npm ci` (or `npm install`) so node_modules matches the lockfile; the package is missing from the artifact")
    )]
    NotInstalled { location: String, lockfile: PathBuf },

    #[error("`{name}`, a production dependency of {required_by}, is not in {}", lockfile.display())]
    #[diagnostic(
        severity(Warning),
        code(updraft::package::node_deps::missing_from_lockfile),
        help("run `npm install` to bring the lockfile up to date with package.json")
    )]
    MissingFromLockfile {
        name: String,
        required_by: String,
        lockfile: PathBuf,
    },

    #[error("`{name}`, a production dependency of {required_by}, is not installed under {}", root.display())]
    #[diagnostic(
        severity(Warning),
        code(updraft::package::node_deps::not_found),
        help("run `npm install` in {}; the package is missing from the artifact", root.display())
    )]
    NotFoundInNodeModules {
        name: String,
        required_by: String,
        root: PathBuf,
    },

    #[error("{} has no node_modules folder: the production dependencies are not installed", root.display())]
    #[diagnostic(
        severity(Warning),
        code(updraft::package::node_deps::node_modules_missing),
        help("run `npm ci` (or `npm install`) in {} before packaging", root.display())
    )]
    NodeModulesMissing { root: PathBuf },

    #[error("{} was installed by pnpm, whose node_modules layout is not understood: all of node_modules is kept", root.display())]
    #[diagnostic(
        severity(Warning),
        code(updraft::package::node_deps::pnpm),
        help("install with npm (or yarn's node_modules linker) to have dev dependencies left out")
    )]
    PnpmLayout { root: PathBuf },

    #[error("node_modules nests deeper than {limit} levels at {location}: deeper packages were not examined and are kept")]
    #[diagnostic(
        severity(Warning),
        code(updraft::package::node_deps::too_deep),
        help("run `npm dedupe` to flatten the tree")
    )]
    TooDeep { location: String, limit: usize },
}

/// The miette label position of a JSON error that serde_json reports as 1-based line and column.
pub(super) fn json_error_span(text: &str, error: &serde_json::Error) -> SourceSpan {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if index + 1 == error.line() {
            let column = error.column().saturating_sub(1).min(line.len());
            offset += column;
            break;
        }
        offset += line.len();
    }
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let length = text[offset..].chars().next().map_or(0, char::len_utf8);
    SourceSpan::new(offset.into(), length)
}

/// serde_json's message without the ` at line L column C` it appends: the label shows where.
pub(super) fn json_error_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(bare) => bare.to_string(),
        None => message,
    }
}

/// How a location is named in messages: the root package is the service's package.json.
pub(super) fn describe_location(location: &str) -> String {
    if location.is_empty() {
        "package.json".to_string()
    } else {
        format!("`{location}`")
    }
}
