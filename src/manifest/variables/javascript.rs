//! Runs JavaScript and TypeScript configuration (`${file(./x.js)}`, `serverless.js`,
//! `serverless.ts`) in a child `node` process, and speaks the line-delimited JSON protocol of the
//! loader embedded in the binary (`javascript_loader.mjs`). This module owns the process: its
//! start (the interpreter, a TypeScript loader), its time limit, its end, and the messages. What
//! an answer means is decided by its callers: the engine's `file` source
//! ([`super::javascript_file`]) and the manifest reader (`crate::manifest::scripted`).
//!
//! One process serves every evaluation of a resolution (one for plain JavaScript, one for
//! TypeScript), so each module is loaded once, as the Framework's `require` cache does. Requests
//! go to the child's stdin; the child answers on file descriptor 3, so that whatever the
//! configuration's own code prints on stdout or stderr never mixes with the protocol. That output
//! is kept (its tail only) and shown only when the process dies. The process itself (start,
//! pipes, end) is [`super::javascript_process`].
//!
//! To the child: `{"type":"evaluate","id","file","address","options","manifest"}` and
//! `{"type":"answer","call", "value" | "dependency" | "error" and "failure"}`. From the child:
//! `{"type":"ask","id","call", "variable" | "property" | "string"}` while a function runs, then
//! one of `value`, `text`, `missing`, `dependency`, `failed` or `error` to end evaluation `id`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::javascript_process::{spawn, typescript_hook, Line, Process};
use super::javascript_protocol::Message;
pub(crate) use super::javascript_protocol::{Answer, Outcome, Question, Reply};

pub(crate) const TIMEOUT_VARIABLE: &str = "UPDRAFT_JS_CONFIG_TIMEOUT_SECONDS";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Which `node`, how long an evaluation may take, and where it runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) program: PathBuf,
    pub(crate) timeout: Duration,
    pub(crate) service_dir: PathBuf,
}

impl Settings {
    /// `UPDRAFT_NODE` (else `node` on `PATH`, as the offline runtimes) and
    /// `UPDRAFT_JS_CONFIG_TIMEOUT_SECONDS` (else 30 s; a value that is not a positive number
    /// keeps the default).
    pub(crate) fn new(service_dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let program = env("UPDRAFT_NODE")
            .filter(|value| !value.is_empty())
            .map_or_else(|| PathBuf::from("node"), PathBuf::from);
        let timeout = env(TIMEOUT_VARIABLE)
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|seconds| *seconds > 0.0)
            .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
            .unwrap_or(DEFAULT_TIMEOUT);
        Settings {
            program,
            timeout,
            service_dir: service_dir.to_path_buf(),
        }
    }

    pub(crate) fn service_dir(&self) -> &Path {
        &self.service_dir
    }
}

/// What to evaluate.
pub(crate) enum Request<'a> {
    /// `${file(x.js)}` or `${file(x.js):a.b}`; `options` are what `${opt:...}` sees.
    Variable {
        file: &'a Path,
        address: Option<&'a str>,
        options: &'a Json,
    },
    /// A `serverless.js` manifest: its export as indented JSON text.
    Manifest { file: &'a Path },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum JavaScriptError {
    #[error("needs Node.js to evaluate {file}: install Node.js 18 or newer")]
    NoNode { file: String, program: String },
    #[error("cannot start {program} to evaluate {file}: {reason}")]
    Start {
        file: String,
        program: String,
        reason: String,
    },
    #[error(
        "needs a TypeScript loader to evaluate {file}: Node.js {version} does not run TypeScript \
         by itself"
    )]
    NoTypeScript { file: String, version: String },
    #[error(
        "{file} did not finish within {seconds} s: the Node.js process evaluating it was stopped"
    )]
    Timeout { file: String, seconds: String },
    #[error("the Node.js process evaluating {file} ended ({status}) before answering{output}")]
    Ended {
        file: String,
        status: String,
        output: String,
    },
    #[error("the Node.js process evaluating {file} was stopped while {file} waited for it")]
    Stopped { file: String },
    #[error("the Node.js process evaluating {file} answered what updraft cannot read: {reason}")]
    Protocol { file: String, reason: String },
}

impl JavaScriptError {
    pub(crate) fn help(&self) -> Option<String> {
        Some(match self {
            JavaScriptError::NoNode { program, .. } => format!(
                "updraft runs JavaScript and TypeScript configuration with Node.js (looked for \
                 `{program}`): put `node` on PATH, or set UPDRAFT_NODE to the node program"
            ),
            JavaScriptError::Start { .. } => {
                "check that UPDRAFT_NODE (or `node` on PATH) is the Node.js program".into()
            }
            JavaScriptError::NoTypeScript { .. } => {
                "run `npm install --save-dev tsx` in the service directory (updraft uses its \
                 node_modules/.bin/tsx, or ts-node), or use Node.js 22.6 or newer, which strips \
                 types itself"
                    .into()
            }
            JavaScriptError::Timeout { .. } => format!(
                "look for a promise that never settles or a loop that never ends; a slow module \
                 can have more time with {TIMEOUT_VARIABLE} (default 30)"
            ),
            JavaScriptError::Ended { .. } => "what it printed says why: a module that calls \
                 process.exit or crashes Node.js (export or return its value instead), or a \
                 TypeScript loader that cannot start"
                .into(),
            JavaScriptError::Stopped { .. } => {
                "another file evaluated in the same Node.js process failed: fix that one first"
                    .into()
            }
            JavaScriptError::Protocol { .. } => return None,
        })
    }
}

/// One evaluation in flight.
pub(crate) struct Evaluation {
    id: u64,
    typescript: bool,
    generation: u64,
    /// Time the child has had so far; updraft's own work on its questions does not count.
    spent: Duration,
    file: String,
}

/// The Node.js processes of one resolution; they end when it is dropped.
pub(crate) struct Runner {
    settings: Settings,
    plain: Option<Process>,
    typescript: Option<Process>,
    last_id: u64,
    generation: u64,
}

impl Runner {
    pub(crate) fn new(settings: Settings) -> Self {
        Runner {
            settings,
            plain: None,
            typescript: None,
            last_id: 0,
            generation: 0,
        }
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends `request` (`display` names the file in messages), starting a process if needed.
    pub(crate) fn start(
        &mut self,
        request: Request,
        display: &str,
    ) -> Result<Evaluation, JavaScriptError> {
        let file = match request {
            Request::Variable { file, .. } | Request::Manifest { file } => file,
        };
        let typescript = is_typescript(file);
        if self.slot(typescript).is_none() {
            let hook = match typescript {
                true => Some(typescript_hook(&self.settings, display)?),
                false => None,
            };
            self.generation += 1;
            let process = spawn(&self.settings, hook, self.generation, display)?;
            *self.slot(typescript) = Some(process);
        }
        self.last_id += 1;
        let id = self.last_id;
        let path = file.to_string_lossy();
        let message = match request {
            Request::Variable {
                address, options, ..
            } => json!({"type": "evaluate", "id": id, "file": path, "address": address,
                        "options": options}),
            Request::Manifest { .. } => {
                json!({"type": "evaluate", "id": id, "file": path, "manifest": true})
            }
        };
        let evaluation = Evaluation {
            id,
            typescript,
            generation: self.generation,
            spent: Duration::ZERO,
            file: display.to_string(),
        };
        self.live(&evaluation)?.send(&message);
        Ok(evaluation)
    }

    /// The next question or the outcome of `evaluation`, within its time limit.
    pub(crate) fn next(&mut self, evaluation: &mut Evaluation) -> Result<Reply, JavaScriptError> {
        let timeout = self.settings.timeout;
        let process = self.live(evaluation)?;
        if let Some(index) = process.backlog.iter().position(|m| m.id() == evaluation.id) {
            if let Some(message) = process.backlog.remove(index) {
                return Ok(message.into_reply());
            }
        }
        let ended = loop {
            let remaining = timeout.saturating_sub(evaluation.spent);
            let started = Instant::now();
            let line = process.lines.recv_timeout(remaining);
            evaluation.spent += started.elapsed();
            match line {
                Ok(Line::Text(text)) => match serde_json::from_str::<Message>(&text) {
                    Ok(message) if message.id() == evaluation.id => return Ok(message.into_reply()),
                    // An outer evaluation's; it reads it when it waits again.
                    Ok(message) => process.backlog.push_back(message),
                    Err(error) => break Err(error.to_string()),
                },
                Ok(Line::Broken(reason)) => break Err(reason),
                Ok(Line::End) | Err(RecvTimeoutError::Disconnected) => break Ok(false),
                Err(RecvTimeoutError::Timeout) => break Ok(true),
            }
        };
        let process = self.slot(evaluation.typescript).take();
        let file = evaluation.file.clone();
        Err(match ended {
            Err(reason) => JavaScriptError::Protocol { file, reason },
            Ok(true) => JavaScriptError::Timeout {
                file,
                seconds: timeout.as_secs_f64().to_string(),
            },
            Ok(false) => {
                let (status, output) = process.map(Process::finish).unwrap_or_default();
                JavaScriptError::Ended {
                    file,
                    status,
                    output,
                }
            }
        })
    }

    /// Replies to question `call` of `evaluation`. A process that is gone is noticed by the
    /// next [`Runner::next`].
    pub(crate) fn answer(
        &mut self,
        evaluation: &Evaluation,
        call: u64,
        answer: Answer,
    ) -> Result<(), JavaScriptError> {
        let message = answer.into_message(call);
        self.live(evaluation)?.send(&message);
        Ok(())
    }

    fn slot(&mut self, typescript: bool) -> &mut Option<Process> {
        match typescript {
            true => &mut self.typescript,
            false => &mut self.plain,
        }
    }

    /// The evaluation's process, unless it was stopped since (over another file's time limit).
    fn live(&mut self, evaluation: &Evaluation) -> Result<&mut Process, JavaScriptError> {
        match self.slot(evaluation.typescript) {
            Some(process) if process.generation == evaluation.generation => Ok(process),
            _ => Err(JavaScriptError::Stopped {
                file: evaluation.file.clone(),
            }),
        }
    }
}

pub(crate) fn is_typescript(file: &Path) -> bool {
    let extension = file.extension().map(|e| e.to_string_lossy().to_lowercase());
    matches!(extension.as_deref(), Some("ts" | "mts" | "cts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_the_interpreter_and_a_positive_timeout() {
        let env = |name: &str| match name {
            "UPDRAFT_NODE" => Some("/opt/node/bin/node".to_string()),
            TIMEOUT_VARIABLE => Some("2.5".to_string()),
            _ => None,
        };
        let settings = Settings::new(Path::new("/srv"), &env);
        assert_eq!(settings.program, PathBuf::from("/opt/node/bin/node"));
        assert_eq!(settings.timeout, Duration::from_millis(2500));
        for bad in ["0", "-1", "soon", "inf"] {
            let env = |name: &str| (name == TIMEOUT_VARIABLE).then(|| bad.to_string());
            let settings = Settings::new(Path::new("/srv"), &env);
            assert_eq!(settings.program, PathBuf::from("node"));
            assert_eq!(settings.timeout, DEFAULT_TIMEOUT, "{bad}");
        }
    }
}
