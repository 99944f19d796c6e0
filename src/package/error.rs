//! What can stop packaging, and what packaging warns about: each names the file, link or pattern
//! at fault and the fix.

use std::path::PathBuf;

/// Why an artifact could not be built.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PackageError {
    #[error("invalid package pattern `{pattern}` ({place}): {reason}")]
    #[diagnostic(
        code(package::pattern),
        help("patterns are globs relative to the service directory, e.g. `src/**` or `!**/*.test.js`")
    )]
    Pattern {
        pattern: String,
        place: String,
        reason: String,
    },

    #[error("symbolic link `{link}` points outside the service directory (to {target})")]
    #[diagnostic(
        code(package::link_escapes),
        help("copy what it points to into the service directory, or leave the link out with a pattern like `{pattern}`")
    )]
    LinkEscapes {
        link: String,
        target: String,
        /// The pattern that leaves it out: `!dir/**` for a link to a folder (patterns match the
        /// files under it, so `!dir` alone would not).
        pattern: String,
    },

    #[error("symbolic link `{link}` is broken: what it points to does not exist")]
    #[diagnostic(
        code(package::broken_link),
        help("fix or delete the link, or leave it out with a pattern like `!{link}`")
    )]
    BrokenLink { link: String },

    #[error("symbolic link `{link}` is part of a loop")]
    #[diagnostic(
        code(package::link_loop),
        help("make the link point to something that does not contain it, or leave it out with a pattern like `!{link}`")
    )]
    LinkLoop { link: String },

    #[error("no file matches the package patterns of {artifact}")]
    #[diagnostic(
        code(package::no_files),
        help("check `package.patterns` (and `include`/`exclude`): a leading `!**` or `!./**` leaves everything out unless later patterns add files back")
    )]
    NoFiles { artifact: String },

    #[error(
        "{artifact} would be {bytes} bytes unzipped, over Lambda's limit of {limit} bytes (250 MB)"
    )]
    #[diagnostic(
        code(package::too_big),
        help("leave out what the function does not need with `package.patterns` (largest files: {largest}), package functions individually, or move large dependencies to a layer or a container image")
    )]
    TooBig {
        artifact: String,
        bytes: u64,
        limit: u64,
        largest: String,
    },

    #[error("prebuilt artifact `{path}` ({place}) does not exist")]
    #[diagnostic(
        code(package::artifact_missing),
        help("build the zip first, or fix the path in `package.artifact` (it is relative to the service directory)")
    )]
    ArtifactMissing { path: String, place: String },

    #[error("interrupted: packaging stopped before all artifacts were written")]
    #[diagnostic(
        code(package::interrupted),
        help("artifacts written before the interruption are complete; the one being written was removed. Run `updraft package` again")
    )]
    Interrupted,

    #[error("layer `{layer}` has neither `path` nor `package.artifact`")]
    #[diagnostic(
        code(package::layer_without_path),
        help("set `layers.{layer}.path` to the folder holding the layer's content (e.g. `layer`, with `nodejs/node_modules` inside), or `layers.{layer}.package.artifact` to a prebuilt zip")
    )]
    LayerWithoutPath { layer: String },

    #[error("layer `{layer}`: its path `{path}` is not a folder of the service")]
    #[diagnostic(
        code(package::layer_path_missing),
        help("create the folder `{path}` (relative to the service directory) with the layer's content, build it first if a script makes it, or fix `layers.{layer}.path`")
    )]
    LayerPathMissing { layer: String, path: String },

    #[error("cannot read `{path}`: {source}")]
    #[diagnostic(
        code(package::read),
        help("check that the file exists and is readable, or leave it out with a `!` pattern")
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write `{}`: {source}", path.display())]
    #[diagnostic(
        code(package::write),
        help("check that the output directory is writable and the disk is not full")
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    NodeDependencies(#[from] super::node_deps::NodeDepsError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] super::build::BuildError),
}

/// What packaging wants the user to know without stopping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum PackageWarning {
    #[error("`{path}` looks like a secret; it goes into {artifact} because pattern `{pattern}` names it")]
    #[diagnostic(
        code(package::secret_included),
        help("anyone who can read the function's code can read this file; pass the secret through environment variables or a secrets manager instead")
    )]
    SecretIncluded {
        path: String,
        pattern: String,
        artifact: String,
    },

    #[error("{artifact} is {bytes} bytes zipped, over 50 MB: it needs upload through S3")]
    #[diagnostic(
        code(package::needs_s3),
        help("deploying uploads it to the deployment bucket; to make it smaller, leave out files with `package.patterns`")
    )]
    NeedsS3Upload { artifact: String, bytes: u64 },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] super::build::BuildWarning),
}
