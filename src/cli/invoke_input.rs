//! The input flags `updraft invoke` and `updraft invoke local` share: where the event comes from
//! (`--data`, `--path`, `--event`, standard input), the client context, and how the answer prints
//! (`--raw`), and how they become the bytes sent to the function.
//!
//! An event is JSON, as Lambda requires. Text that is already JSON is sent byte for byte; any
//! other text is sent as a JSON string, as the Serverless Framework does (`--data hello` sends
//! `"hello"`). With no input at all the event is `{}`.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

/// The event, the client context and how the payload prints.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// The event, as JSON (other text is sent as a JSON string); without --data or --path the
    /// event is read from standard input when it is not a terminal, else it is {}
    #[arg(short = 'd', long, value_name = "JSON", conflicts_with = "path")]
    pub data: Option<String>,
    /// A file holding the event (JSON)
    #[arg(short = 'p', long, value_name = "FILE", conflicts_with = "event")]
    pub path: Option<PathBuf>,
    /// A sample event in the shape the service sends it (the files in templates/events/, built by
    /// the same code as `updraft offline`'s events)
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "data",
        value_parser = clap::builder::PossibleValuesParser::new(crate::offline::events::sample_names())
    )]
    pub event: Option<String>,
    /// The client context the function sees, as a JSON object
    #[arg(long, value_name = "JSON")]
    pub context: Option<String>,
    /// Print the payload's bytes as they came, also on a terminal (default: pretty JSON on a
    /// terminal, the bytes as they came otherwise)
    #[arg(long)]
    pub raw: bool,
}

/// Lambda's limit on a synchronous invocation's payload (6 MiB): no event read from a file or
/// standard input gets past it, so a huge input is refused before it is held in memory.
pub const EVENT_LIMIT: u64 = 6 * 1024 * 1024;

/// Why the input flags could not be turned into an event.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InputError {
    #[error("cannot read the event file {}: {message}", path.display())]
    #[diagnostic(help(
        "check the path given to --path (it is relative to the working directory)"
    ))]
    File { path: PathBuf, message: String },

    #[error("there is no sample event named `{name}`")]
    #[diagnostic(help("the sample events are: {}", crate::offline::events::sample_names().join(", ")))]
    Event { name: String },

    #[error("cannot read the event from standard input: {message}")]
    #[diagnostic(help("pass the event with --data JSON or --path FILE instead"))]
    Stdin { message: String },

    #[error(
        "the event from {from} is more than {EVENT_LIMIT} bytes, Lambda's limit for a payload"
    )]
    #[diagnostic(help(
        "send a smaller event: Lambda refuses a synchronous payload over 6 MiB (put large data \
         in S3 and send its key)"
    ))]
    TooLarge { from: String },

    #[error("the client context is not a JSON object: {message}")]
    #[diagnostic(help(
        "pass --context a JSON object, e.g. --context '{{\"custom\": {{\"key\": \"value\"}}}}'"
    ))]
    Context { message: String },
}

impl InputArgs {
    /// The event's bytes: `--data`, else the `--path` file, else the `--event` sample, else
    /// standard input (read only when
    /// `stdin_is_terminal` is false), else `{}`.
    pub fn payload(
        &self,
        stdin: &mut dyn Read,
        stdin_is_terminal: bool,
    ) -> Result<Vec<u8>, InputError> {
        if let Some(data) = &self.data {
            return Ok(as_event(data.as_bytes().to_vec()));
        }
        if let Some(path) = &self.path {
            return read_file(path).map(as_event);
        }
        if let Some(name) = &self.event {
            // The names are checked by clap against the same list.
            let event = crate::offline::events::sample(name)
                .ok_or_else(|| InputError::Event { name: name.clone() })?;
            return Ok(serde_json::to_vec_pretty(&event).unwrap_or_else(|_| b"{}".to_vec()));
        }
        if !stdin_is_terminal {
            let mut bytes = Vec::new();
            // One byte past the limit tells an input that is too large, without reading it all.
            stdin
                .take(EVENT_LIMIT + 1)
                .read_to_end(&mut bytes)
                .map_err(|error| InputError::Stdin {
                    message: error.to_string(),
                })?;
            if bytes.len() as u64 > EVENT_LIMIT {
                return Err(InputError::TooLarge {
                    from: "standard input".into(),
                });
            }
            if !bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(as_event(bytes));
            }
        }
        Ok(b"{}".to_vec())
    }

    /// The client context, checked to be a JSON object, as its text.
    pub fn client_context(&self) -> Result<Option<String>, InputError> {
        let Some(text) = &self.context else {
            return Ok(None);
        };
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(_)) => Ok(Some(text.clone())),
            Ok(other) => Err(InputError::Context {
                message: format!("got {}", kind_of(&other)),
            }),
            Err(error) => Err(InputError::Context {
                message: error.to_string(),
            }),
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    use crate::manifest::bounded::{self, BoundedReadError};
    bounded::read(path, EVENT_LIMIT).map_err(|error| match error {
        BoundedReadError::TooLarge { .. } => InputError::TooLarge {
            from: path.display().to_string(),
        },
        other => InputError::File {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })
}

/// JSON is sent as written; anything else as a JSON string of its text.
fn as_event(bytes: Vec<u8>) -> Vec<u8> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
        return bytes;
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    serde_json::to_vec(text).unwrap_or_else(|_| b"\"\"".to_vec())
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(args: &InputArgs, stdin: &str, terminal: bool) -> String {
        let bytes = args
            .payload(&mut stdin.as_bytes(), terminal)
            .expect("an event");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn json_data_is_sent_byte_for_byte() {
        let args = InputArgs {
            data: Some("{ \"a\" : 1 }".into()),
            ..InputArgs::default()
        };
        assert_eq!(payload(&args, "", true), "{ \"a\" : 1 }");
    }

    #[test]
    fn text_that_is_not_json_is_sent_as_a_json_string() {
        let args = InputArgs {
            data: Some("hello \"world\"".into()),
            ..InputArgs::default()
        };
        assert_eq!(payload(&args, "", true), r#""hello \"world\"""#);
    }

    #[test]
    fn standard_input_is_read_only_when_it_is_not_a_terminal() {
        let args = InputArgs::default();
        assert_eq!(payload(&args, "[1,2]\n", false), "[1,2]\n");
        assert_eq!(payload(&args, "[1,2]\n", true), "{}");
        assert_eq!(payload(&args, "  \n", false), "{}");
    }

    #[test]
    fn data_wins_over_standard_input() {
        let args = InputArgs {
            data: Some("1".into()),
            ..InputArgs::default()
        };
        assert_eq!(payload(&args, "2", false), "1");
    }

    #[test]
    fn a_missing_event_file_names_the_file() {
        let args = InputArgs {
            path: Some(PathBuf::from("no/such/event.json")),
            ..InputArgs::default()
        };
        let error = args
            .payload(&mut "".as_bytes(), true)
            .expect_err("a missing file is an error");
        assert!(error.to_string().contains("no/such/event.json"), "{error}");
    }

    #[test]
    fn a_client_context_must_be_a_json_object() {
        let context = |text: &str| InputArgs {
            context: Some(text.into()),
            ..InputArgs::default()
        };
        assert_eq!(
            context(r#"{"custom":{"a":1}}"#)
                .client_context()
                .expect("an object"),
            Some(r#"{"custom":{"a":1}}"#.into())
        );
        assert!(context("[1]").client_context().is_err());
        assert!(context("{oops").client_context().is_err());
    }

    #[test]
    fn an_event_past_lambdas_limit_is_refused_without_reading_it_all() {
        let args = InputArgs::default();
        // An endless input: only the limit and one byte more are ever read.
        let mut endless = std::io::repeat(b'x');
        let error = args.payload(&mut endless, false).unwrap_err();
        assert!(
            matches!(&error, InputError::TooLarge { from } if from == "standard input"),
            "{error}"
        );
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("event.json");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(EVENT_LIMIT + 1).unwrap();
        let from_file = InputArgs {
            path: Some(big),
            ..InputArgs::default()
        };
        assert!(matches!(
            from_file.payload(&mut std::io::empty(), true),
            Err(InputError::TooLarge { .. })
        ));
        let device = InputArgs {
            path: Some("/dev/zero".into()),
            ..InputArgs::default()
        };
        let error = device.payload(&mut std::io::empty(), true).unwrap_err();
        assert!(error.to_string().contains("a device"), "{error}");
    }
}
