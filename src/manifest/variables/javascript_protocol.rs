//! The messages between updraft and its Node.js loader (see [`super::javascript`] for the
//! channel), and how an error a module throws reads to the user: in the Framework's words
//! (`Cannot load "x.js": Initialization error: ...`), with the first frame of the stack.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value as Json};

/// What the loader says, one per line on its channel.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Message {
    /// A function of evaluation `id` called back: `resolveVariable(variable)`,
    /// `resolveConfigurationProperty(property)`, or a string met on an address to resolve.
    Ask {
        id: u64,
        call: u64,
        variable: Option<String>,
        property: Option<Vec<String>>,
        string: Option<String>,
    },
    Value {
        id: u64,
        value: Json,
    },
    Text {
        id: u64,
        text: String,
    },
    Missing {
        id: u64,
    },
    Dependency {
        id: u64,
    },
    Failed {
        id: u64,
        failure: usize,
    },
    Error {
        id: u64,
        stage: String,
        #[serde(default)]
        message: String,
        frame: Option<String>,
        detail: Option<String>,
    },
}

/// A question a function asks while it runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Question {
    /// `resolveVariable('self:provider.stage')`: the variable without its `${}`.
    Variable(String),
    /// `resolveConfigurationProperty(['provider', 'stage'])`.
    Property(Vec<String>),
    /// A string with variables met while walking an address, as the Framework's
    /// `resolveVariablesInString`.
    Text(String),
}

/// updraft's reply to a [`Question`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Value(Json),
    /// Nothing there: `undefined` in JavaScript.
    Undefined,
    /// Another property must be resolved first: the call rejects with the Framework's
    /// `MISSING_VARIABLE_DEPENDENCY`, and the evaluation is tried again later.
    Dependency,
    /// The call rejects with `message`; `failure` is the engine's failure, which becomes the
    /// evaluation's own if the function lets the rejection through.
    Error {
        message: String,
        failure: Option<usize>,
    },
}

/// How an evaluation ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// A variable's value.
    Value(Json),
    /// A manifest's configuration, as indented JSON.
    Text(String),
    /// Undefined, or nothing at the address: a fallback applies.
    Missing,
    /// A callback needed a property not resolved yet.
    Dependency,
    /// A callback's failure, let through by the function.
    Failed(usize),
    Thrown(Thrown),
}

/// The next step of an evaluation.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Ask { call: u64, question: Question },
    Done(Outcome),
}

impl Message {
    pub(crate) fn id(&self) -> u64 {
        match self {
            Message::Ask { id, .. }
            | Message::Value { id, .. }
            | Message::Text { id, .. }
            | Message::Missing { id }
            | Message::Dependency { id }
            | Message::Failed { id, .. }
            | Message::Error { id, .. } => *id,
        }
    }

    pub(crate) fn into_reply(self) -> Reply {
        Reply::Done(match self {
            Message::Ask {
                call,
                variable,
                property,
                string,
                ..
            } => {
                let question = match (variable, property, string) {
                    (Some(variable), _, _) => Question::Variable(variable),
                    (_, Some(keys), _) => Question::Property(keys),
                    (_, _, Some(text)) => Question::Text(text),
                    (None, None, None) => Question::Property(Vec::new()),
                };
                return Reply::Ask { call, question };
            }
            Message::Value { value, .. } => Outcome::Value(value),
            Message::Text { text, .. } => Outcome::Text(text),
            Message::Missing { .. } => Outcome::Missing,
            Message::Dependency { .. } => Outcome::Dependency,
            Message::Failed { failure, .. } => Outcome::Failed(failure),
            Message::Error {
                stage,
                message,
                frame,
                detail,
                ..
            } => Outcome::Thrown(Thrown {
                stage,
                message,
                frame,
                detail,
            }),
        })
    }
}

impl Answer {
    pub(crate) fn into_message(self, call: u64) -> Json {
        match self {
            Answer::Value(value) => json!({"type": "answer", "call": call, "value": value}),
            Answer::Undefined => json!({"type": "answer", "call": call}),
            Answer::Dependency => json!({"type": "answer", "call": call, "dependency": true}),
            Answer::Error { message, failure } => {
                json!({"type": "answer", "call": call, "error": message, "failure": failure})
            }
        }
    }
}

/// An error from the module, or a value that cannot be configuration.
#[derive(Debug, Clone)]
pub(crate) struct Thrown {
    /// Where: `load` (importing the module), `call` (the exported function), `rejection` (an
    /// exported promise), `property` (a function met on the address), `value` (not JSON),
    /// `shape` and `json` (a manifest that is not a plain JSON object), `loader` (updraft's own).
    pub stage: String,
    /// `String(error)`: `Error: boom`.
    pub message: String,
    /// The first frame of the stack outside Node.js itself.
    pub frame: Option<String>,
    /// A preview of the value, for `value` and `shape`.
    pub detail: Option<String>,
}

impl Thrown {
    /// The reason, naming `file` (and the `address`, for a function met on it).
    pub(crate) fn reason(&self, file: &str, address: Option<&str>, service_dir: &Path) -> String {
        let error = match &self.frame {
            Some(frame) => format!("{} (at {})", self.message, relative(frame, service_dir)),
            None => self.message.clone(),
        };
        let detail = self.detail.as_deref().unwrap_or_default();
        match self.stage.as_str() {
            "load" => format!("Cannot load \"{file}\": Initialization error: {error}"),
            "call" => {
                format!("Cannot resolve \"{file}\": Returned JS function errored with: {error}")
            }
            "rejection" => format!("Cannot resolve \"{file}\": Received rejection: {error}"),
            "property" => format!(
                "Cannot resolve \"{}\" out of \"{file}\": Received rejection: {error}",
                address.unwrap_or_default()
            ),
            "value" => format!(
                "Cannot resolve \"{file}\": the value is not JSON data ({}): {detail}",
                self.message
            ),
            "shape" => {
                format!("Invalid configuration at \"{file}\": Plain object expected, got {detail}")
            }
            "json" => format!(
                "Invalid configuration at \"{file}\": Plain JSON structure expected, when parsing \
                 observed error: {}",
                self.message
            ),
            _ => format!("updraft's Node.js loader failed on \"{file}\": {error}"),
        }
    }

    pub(crate) fn help(&self, file: &str) -> Option<String> {
        match self.stage.as_str() {
            "load" | "call" | "rejection" | "property" => Some(format!(
                "the error comes from {file} itself (run by Node.js in the service directory): \
                 fix it there"
            )),
            "value" | "json" => Some(
                "configuration is JSON: give strings, numbers, booleans, null, lists and plain \
                 objects (no BigInt, functions, class instances or circular references)"
                    .into(),
            ),
            "shape" => Some(
                "export the configuration object: `module.exports = { service: ... }` or \
                 `export default { ... }` (or a promise of it)"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// A stack frame with the service directory taken off its paths.
fn relative(frame: &str, service_dir: &Path) -> String {
    let dir = service_dir.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    frame
        .replace(&format!("file://{dir}/"), "")
        .replace(&format!("{dir}/"), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thrown_error_names_the_file_the_message_and_the_frame() {
        let thrown = Thrown {
            stage: "load".into(),
            message: "Error: boom".into(),
            frame: Some("Object.<anonymous> (/srv/app/config.js:2:7)".into()),
            detail: None,
        };
        assert_eq!(
            thrown.reason("config.js", None, Path::new("/srv/app")),
            "Cannot load \"config.js\": Initialization error: Error: boom (at Object.<anonymous> \
             (config.js:2:7))"
        );
        let esm = Thrown {
            stage: "property".into(),
            frame: Some("fn (file:///srv/app/config.mjs:3:9)".into()),
            ..thrown
        };
        assert_eq!(
            esm.reason("config.mjs", Some("fn"), Path::new("/srv/app/")),
            "Cannot resolve \"fn\" out of \"config.mjs\": Received rejection: Error: boom (at fn \
             (config.mjs:3:9))"
        );
    }

    #[test]
    fn messages_parse_and_answers_serialize() {
        let ask: Message =
            serde_json::from_str(r#"{"type":"ask","id":4,"call":9,"property":["provider"]}"#)
                .unwrap();
        assert_eq!(ask.id(), 4);
        match ask.into_reply() {
            Reply::Ask { call, question } => {
                assert_eq!(call, 9);
                assert_eq!(question, Question::Property(vec!["provider".into()]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            Answer::Undefined.into_message(3),
            json!({"type": "answer", "call": 3})
        );
    }
}
