//! `${file(./x.js)}` and `${file(./x.js):a.b}` (and `.cjs`, `.mjs`, `.ts`, `.mts`, `.cts`): the
//! module's value comes from Node.js ([`super::javascript`]), and the questions a function export
//! asks while it runs (`resolveVariable`, `resolveConfigurationProperty`) are answered by this
//! engine, as the Framework's resolver answers them.
//!
//! The engine resolves by retrying: a property that needs an unresolved one stops
//! ([`Stop::Needs`]) and is tried again once that one is resolved. A function's question follows
//! the same rule: when its answer needs an unresolved property, the call rejects with the
//! Framework's `MISSING_VARIABLE_DEPENDENCY`, the evaluation ends, and the function runs again on
//! the retry, as the Framework runs it again. An evaluation that ends for good (a value, nothing,
//! an error) is kept for every use of the same file and address, as the Framework memoizes its
//! sources.

use std::path::Path;

use serde_json::Value as Json;

use super::engine::{Engine, Site, Stop};
use super::javascript::{
    Answer, JavaScriptError, Outcome, Question, Reply, Request, Runner, Settings,
};
use super::sources::{Call, Lookup};
use super::syntax::{self, Operand};
use crate::manifest::node::Node;

/// How an evaluation ended for good.
#[derive(Debug, Clone)]
pub(crate) enum Evaluated {
    Value(Json),
    /// `undefined`, or nothing at the address: a fallback applies.
    Missing,
    Failed {
        reason: String,
        help: Option<String>,
    },
}

impl From<JavaScriptError> for Evaluated {
    fn from(error: JavaScriptError) -> Self {
        Evaluated::Failed {
            help: error.help(),
            reason: error.to_string(),
        }
    }
}

/// Files the `file` source hands to Node.js.
pub(crate) fn is_javascript(path: &Path) -> bool {
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    matches!(
        extension.as_deref(),
        Some("js" | "cjs" | "mjs" | "ts" | "mts" | "cts")
    )
}

impl Engine<'_, '_> {
    /// The `file` source for a JavaScript or TypeScript module; `address` is empty for none.
    pub(crate) fn javascript_file(
        &mut self,
        call: &Call,
        path: &Path,
        written: &str,
        address: &str,
    ) -> Result<Lookup, Stop> {
        let address = (!address.is_empty()).then_some(address);
        // As the Framework's `require.resolve` finding nothing: a fallback applies.
        if !path.is_file() {
            return Ok(self.missing_file(written, address));
        }
        let key = (path.to_path_buf(), address.unwrap_or_default().to_string());
        let evaluated = match self.javascript_results.get(&key) {
            Some(evaluated) => evaluated.clone(),
            None => {
                let evaluated = self.evaluate_javascript(call, path, written, address)?;
                self.javascript_results.insert(key, evaluated.clone());
                evaluated
            }
        };
        match evaluated {
            Evaluated::Value(value) => {
                let node = Node::from_json(&value, call.label());
                self.spend(&node, call.site)?;
                Ok(Lookup::Found(node))
            }
            Evaluated::Missing => Ok(self.missing_file(written, address)),
            Evaluated::Failed { reason, help } => {
                Err(self.fail(call.site, call.range, reason, help))
            }
        }
    }

    fn runner(&mut self) -> &mut Runner {
        let context = self.context;
        self.javascript
            .get_or_insert_with(|| Runner::new(Settings::new(&context.service_dir, context.env)))
    }

    /// Runs one evaluation to its end, answering its questions on the way.
    fn evaluate_javascript(
        &mut self,
        call: &Call,
        path: &Path,
        written: &str,
        address: Option<&str>,
    ) -> Result<Evaluated, Stop> {
        let display = self.display_name(path, written);
        let options: serde_json::Map<String, Json> = self
            .context
            .options
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let options = Json::Object(options);
        let request = Request::Variable {
            file: path,
            address,
            options: &options,
        };
        let mut evaluation = match self.runner().start(request, &display) {
            Ok(evaluation) => evaluation,
            Err(error) => return Ok(error.into()),
        };
        // The first property a question needed: the one to resolve before trying again.
        let mut needs = None;
        let outcome = loop {
            match self.runner().next(&mut evaluation) {
                Ok(Reply::Done(outcome)) => break outcome,
                Ok(Reply::Ask { call: id, question }) => {
                    let answer = self.answer(question, call.site, call.range, &mut needs);
                    if let Err(error) = self.runner().answer(&evaluation, id, answer) {
                        return Ok(error.into());
                    }
                }
                Err(error) => return Ok(error.into()),
            }
        };
        let service_dir = self.runner().settings().service_dir().to_path_buf();
        match outcome {
            Outcome::Value(value) => Ok(Evaluated::Value(value)),
            Outcome::Missing => Ok(Evaluated::Missing),
            Outcome::Dependency => match needs {
                Some(path) => Err(Stop::Needs(path)),
                None => Ok(Evaluated::Failed {
                    reason: format!(
                        "Cannot resolve \"{display}\": a MISSING_VARIABLE_DEPENDENCY error that \
                         updraft did not raise"
                    ),
                    help: None,
                }),
            },
            Outcome::Failed(id) if id < self.failures.len() => Err(Stop::Failed(id)),
            Outcome::Thrown(thrown) => Ok(Evaluated::Failed {
                reason: thrown.reason(&display, address, &service_dir),
                help: thrown.help(&display),
            }),
            Outcome::Failed(_) | Outcome::Text(_) => Ok(Evaluated::Failed {
                reason: format!("updraft's Node.js loader answered out of turn for \"{display}\""),
                help: None,
            }),
        }
    }

    /// Answers a function's question with this engine, from the place of the `${file(...)}`.
    fn answer(
        &mut self,
        question: Question,
        site: &Site,
        range: Option<(usize, usize)>,
        needs: &mut Option<Vec<String>>,
    ) -> Answer {
        let error = |message: String| Answer::Error {
            message,
            failure: None,
        };
        let result = match question {
            Question::Property(keys) => self.config_value(&keys, site),
            // `resolveVariable('self:a')` is `${self:a}`; its value is read again for
            // variables, as any value is.
            Question::Variable(variable) => {
                let written = format!("${{{variable}}}");
                match syntax::parse(&written) {
                    Ok(Some(template)) => self
                        .operand(&Operand::Template(template), site, range)
                        .map(Some),
                    Ok(None) => return error(format!("Invalid variable value: \"{written}\"")),
                    Err(syntax) => {
                        return error(format!(
                            "Invalid variable value: \"{written}\": {}",
                            syntax.message
                        ))
                    }
                }
            }
            Question::Text(text) => match syntax::parse(&text) {
                Ok(None) => return Answer::Value(Json::String(text)),
                Ok(Some(template)) => self
                    .operand(&Operand::Template(template), site, range)
                    .map(Some),
                Err(syntax) => {
                    return error(format!(
                        "Approached variable syntax error in \"{text}\": {}",
                        syntax.message
                    ))
                }
            },
        };
        match result {
            Ok(Some(node)) => Answer::Value(node.to_json()),
            Ok(None) => Answer::Undefined,
            Err(Stop::Needs(path)) => {
                needs.get_or_insert(path);
                Answer::Dependency
            }
            Err(Stop::Failed(id)) => Answer::Error {
                message: self
                    .failures
                    .get(id)
                    .map(|f| {
                        format!(
                            "Cannot resolve variable at \"{}\": {}",
                            f.property, f.reason
                        )
                    })
                    .unwrap_or_default(),
                failure: Some(id),
            },
        }
    }
}
