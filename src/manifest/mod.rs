//! Reads a `serverless.yml` into a resolved, validated tree and a typed model.
//!
//! The stages, each in its own module: find the file ([`discover`]), parse YAML ([`yaml`]) or
//! evaluate a JavaScript or TypeScript manifest ([`scripted`]),
//! resolve `${...}` variables ([`variables`]), add the Framework's defaults ([`normalize`]),
//! check it ([`validate`]) and type it ([`model`]). Nothing here knows about terminals or the
//! command line: callers pass what the user asked for in [`LoadOptions`].

pub mod bounded;
pub mod coerce;
pub mod discover;
pub mod model;
pub mod naming;
pub mod node;
pub mod normalize;
pub mod scripted;
pub mod snippet;
pub mod source;
pub mod validate;
pub mod variables;
pub mod yaml;

use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;

pub use node::{Mapping, Node, Value};
pub use source::{FileId, SourceFile, SourceMap, Span};

/// What the user asked for that affects how a manifest reads.
pub struct LoadOptions<'a> {
    /// The working directory (where discovery looks).
    pub working_dir: PathBuf,
    /// `--config`: a manifest path, relative to `working_dir`.
    pub config: Option<PathBuf>,
    /// CLI options as `${opt:...}` sees them: `stage`, `region`, and the rest given.
    pub options: IndexMap<String, serde_json::Value>,
    /// `--param key=value` pairs.
    pub params: Vec<(String, String)>,
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub cloud: Option<&'a dyn variables::CloudVariables>,
}

/// A loaded manifest: the resolved tree (what `print` shows), its sources and what was found.
#[derive(Debug)]
pub struct Loaded {
    pub sources: SourceMap,
    pub root: Node,
    /// Resolved secret values (`${ssm:...}`, `${s3:...}`): redact them in any output.
    pub secrets: Vec<String>,
    pub warnings: Vec<validate::Finding>,
    pub service_dir: PathBuf,
}

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Scripted(#[from] scripted::ScriptedError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Yaml(#[from] yaml::YamlError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Variables(#[from] variables::VariablesError),
    #[error("{} in {}", plural(errors.len(), "configuration error"), file)]
    #[diagnostic(help(
        "fix the errors above; `configValidationMode: warn` turns schema errors into warnings"
    ))]
    Invalid {
        file: String,
        #[related]
        errors: Vec<validate::Finding>,
        warnings: Vec<validate::Finding>,
    },
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Runs every stage up to a validated tree.
pub fn load(options: &LoadOptions) -> Result<Loaded, LoadError> {
    let found = discover::find(&options.working_dir, options.config.as_deref())?;
    let mut sources = SourceMap::new();
    let name = found.display_name.clone();
    let file = if discover::is_scripted(&found.path) {
        scripted::read(&found, &mut sources, options.env)?
    } else {
        let text = discover::read_text(&found.path, &name)?;
        sources.add(SourceFile::new(
            found.path.clone(),
            name.clone(),
            Arc::<str>::from(text),
        ))
    };
    // JSON is read by the YAML parser too (it is a subset), so `serverless.json` (and the JSON a
    // JavaScript manifest exports) gets positions.
    let mut root = yaml::parse(&sources, file, &yaml::Limits::default())?;
    discover::check_root(&root, &sources)?;
    let context = variables::Context {
        service_dir: found.service_dir.clone(),
        options: options.options.clone(),
        params: options.params.clone(),
        env: options.env,
        cloud: options.cloud,
    };
    let resolution = variables::resolve(&mut root, &mut sources, &context)?;
    normalize::apply(&mut root, &options.options);
    coerce::apply(&mut root);
    let report = validate::validate(&root, &sources);
    if !report.errors.is_empty() {
        return Err(LoadError::Invalid {
            file: name,
            errors: report.errors,
            warnings: report.warnings,
        });
    }
    Ok(Loaded {
        sources,
        root,
        secrets: resolution.secrets,
        warnings: report.warnings,
        service_dir: found.service_dir,
    })
}
