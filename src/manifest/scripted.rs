//! Manifests that are modules: `serverless.js`, `.cjs`, `.mjs`, `serverless.ts` and `.mts`. The
//! module's export (an object, or a promise of one) is the configuration, read by Node.js as the
//! Framework reads it (see [`variables::javascript`] for the process). It must be a plain object
//! that JSON can hold.
//!
//! The export comes back as indented JSON text, which joins the [`SourceMap`] as the manifest's
//! source under the name `serverless.js export` and is parsed as `serverless.json` is: every
//! later stage (variables, defaults, validation) works on it unchanged, and a message points at a
//! line of that JSON, named so that it is not taken for a line of the module itself. The source
//! keeps the module's path, so packaging still leaves the module out of the artifact.

use std::sync::Arc;

use super::discover::Found;
use super::source::{FileId, SourceFile, SourceMap};
use super::variables::javascript::{JavaScriptError, Outcome, Reply, Request, Runner, Settings};

/// Why a JavaScript or TypeScript manifest could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct ScriptedError {
    pub message: String,
    #[help]
    pub help: Option<String>,
}

impl From<JavaScriptError> for ScriptedError {
    fn from(error: JavaScriptError) -> Self {
        ScriptedError {
            help: error.help(),
            message: error.to_string(),
        }
    }
}

/// The name of the evaluated configuration in messages.
pub fn source_name(display_name: &str) -> String {
    format!("{display_name} export")
}

/// Evaluates the module `found` names and adds its configuration to `sources`.
pub fn read(
    found: &Found,
    sources: &mut SourceMap,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FileId, ScriptedError> {
    let display = found.display_name.as_str();
    let file = std::path::absolute(&found.path).map_err(|error| ScriptedError {
        message: format!("cannot read {display}: {error}"),
        help: None,
    })?;
    let mut runner = Runner::new(Settings::new(&found.service_dir, env));
    let mut evaluation = runner.start(Request::Manifest { file: &file }, display)?;
    // The manifest's module is given no callbacks, so it asks nothing.
    let outcome = match runner.next(&mut evaluation)? {
        Reply::Done(outcome) => outcome,
        Reply::Ask { .. } => return Err(out_of_turn(display)),
    };
    match outcome {
        Outcome::Text(text) => Ok(sources.add(SourceFile::new(
            found.path.clone(),
            source_name(display),
            Arc::<str>::from(text),
        ))),
        Outcome::Thrown(thrown) => Err(ScriptedError {
            message: thrown.reason(display, None, &found.service_dir),
            help: thrown.help(display),
        }),
        _ => Err(out_of_turn(display)),
    }
}

fn out_of_turn(display: &str) -> ScriptedError {
    ScriptedError {
        message: format!("updraft's Node.js loader answered out of turn for \"{display}\""),
        help: None,
    }
}
