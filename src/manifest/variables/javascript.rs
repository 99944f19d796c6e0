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
//! is kept (its tail only) and shown only when the process dies.
//!
//! To the child: `{"type":"evaluate","id","file","address","options","manifest"}` and
//! `{"type":"answer","call", "value" | "dependency" | "error" and "failure"}`. From the child:
//! `{"type":"ask","id","call", "variable" | "property" | "string"}` while a function runs, then
//! one of `value`, `text`, `missing`, `dependency`, `failed` or `error` to end evaluation `id`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

pub(crate) use super::javascript_protocol::{Answer, Message, Outcome, Question, Reply};

const LOADER: &str = include_str!("javascript_loader.mjs");
/// The loader's channel to updraft (see the module documentation).
const CHANNEL_FD: i32 = 3;
pub(crate) const TIMEOUT_VARIABLE: &str = "UPDRAFT_JS_CONFIG_TIMEOUT_SECONDS";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of what the child printed is kept, to show if it dies.
const OUTPUT_TAIL_BYTES: usize = 4096;

/// Which `node`, how long an evaluation may take, and where it runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    program: PathBuf,
    timeout: Duration,
    service_dir: PathBuf,
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
            JavaScriptError::Ended { .. } => "a configuration module must not end the process \
                 (process.exit) or crash Node.js: export or return its value instead"
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

/// How Node.js runs TypeScript: the service's own loader first (as the Framework prefers a
/// `ts-node` it can find), else Node's type stripping where it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    Tsx,
    TsNode,
    StripTypes,
}

fn typescript_hook(settings: &Settings, file: &str) -> Result<Hook, JavaScriptError> {
    let bin = settings.service_dir.join("node_modules").join(".bin");
    if bin.join("tsx").is_file() {
        return Ok(Hook::Tsx);
    }
    if bin.join("ts-node").is_file() {
        return Ok(Hook::TsNode);
    }
    let version = node_version(settings, file)?;
    match strips_types(&version) {
        true => Ok(Hook::StripTypes),
        false => Err(JavaScriptError::NoTypeScript {
            file: file.to_string(),
            version: version.trim_start_matches('v').to_string(),
        }),
    }
}

/// `--experimental-strip-types` came with Node.js 22.6.
fn strips_types(version: &str) -> bool {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let mut number = || parts.next().and_then(|part| part.parse::<u32>().ok());
    matches!((number(), number()), (Some(major), Some(minor)) if (major, minor) >= (22, 6))
}

fn node_version(settings: &Settings, file: &str) -> Result<String, JavaScriptError> {
    let mut child = Command::new(&settings.program)
        .arg("--version")
        .current_dir(&settings.service_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| start_error(settings, file, error))?;
    let deadline = Instant::now() + settings.timeout;
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let output = child
        .wait_with_output()
        .map_err(|error| start_error(settings, file, error))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn start_error(settings: &Settings, file: &str, error: std::io::Error) -> JavaScriptError {
    let program = settings.program.display().to_string();
    match error.kind() {
        std::io::ErrorKind::NotFound => JavaScriptError::NoNode {
            file: file.to_string(),
            program,
        },
        _ => JavaScriptError::Start {
            file: file.to_string(),
            program,
            reason: error.to_string(),
        },
    }
}

enum Line {
    Text(String),
    Broken(String),
    End,
}

/// A running loader.
struct Process {
    child: Child,
    /// Lines to write to the child's stdin, by a thread of their own: a child busy in a loop
    /// must not block updraft, which keeps its time.
    input: Option<Sender<Vec<u8>>>,
    lines: Receiver<Line>,
    output: Arc<Mutex<Vec<u8>>>,
    drains: Vec<JoinHandle<()>>,
    /// Messages for evaluations other than the one being waited for: an outer one whose
    /// function waits on a callback that needed this inner evaluation.
    backlog: VecDeque<Message>,
    generation: u64,
}

fn spawn(
    settings: &Settings,
    hook: Option<Hook>,
    generation: u64,
    file: &str,
) -> Result<Process, JavaScriptError> {
    let failed = |error| start_error(settings, file, error);
    let (reader, writer) = std::io::pipe().map_err(failed)?;
    let mut command = Command::new(&settings.program);
    match hook {
        Some(Hook::Tsx) => command.args(["--import", "tsx"]),
        Some(Hook::TsNode) => command
            .args(["--require", "ts-node/register"])
            .env("UPDRAFT_JS_TYPESCRIPT", "ts-node"),
        Some(Hook::StripTypes) => command.arg("--experimental-strip-types"),
        None => &mut command,
    };
    command
        .args(["--input-type=module", "--eval", LOADER])
        .current_dir(&settings.service_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let channel = writer.as_raw_fd();
    // SAFETY: between fork and exec only async-signal-safe calls (dup2, fcntl). The pipe is
    // close-on-exec; its copy as descriptor 3 is not, so only the child's Node.js gets it.
    unsafe {
        command.pre_exec(move || {
            let result = match channel == CHANNEL_FD {
                true => libc::fcntl(channel, libc::F_SETFD, 0),
                false => libc::dup2(channel, CHANNEL_FD),
            };
            match result < 0 {
                true => Err(std::io::Error::last_os_error()),
                false => Ok(()),
            }
        });
    }
    let mut child = command.spawn().map_err(failed)?;
    // Only the child may hold the writing end, so that its exit ends the channel.
    drop(writer);
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut drains = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        drains.push(drain(stdout, output.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        drains.push(drain(stderr, output.clone()));
    }
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || read_channel(reader, sender));
    let input = child.stdin.take().map(|mut stdin| {
        let (sender, receiver) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            for line in receiver {
                if stdin.write_all(&line).and_then(|()| stdin.flush()).is_err() {
                    return;
                }
            }
        });
        sender
    });
    Ok(Process {
        child,
        input,
        lines,
        output,
        drains,
        backlog: VecDeque::new(),
        generation,
    })
}

fn read_channel(reader: impl Read, sender: Sender<Line>) {
    let mut reader = BufReader::new(reader);
    loop {
        let mut line = Vec::new();
        let sent = match reader.read_until(b'\n', &mut line) {
            Ok(0) => return drop(sender.send(Line::End)),
            Ok(_) => match String::from_utf8(line) {
                Ok(text) => sender.send(Line::Text(text)),
                Err(_) => sender.send(Line::Broken("a line that is not UTF-8".into())),
            },
            Err(error) => return drop(sender.send(Line::Broken(error.to_string()))),
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Keeps the last [`OUTPUT_TAIL_BYTES`] of what the child prints.
fn drain(mut stream: impl Read + Send + 'static, output: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(count @ 1..) = stream.read(&mut buffer) {
            if let Ok(mut output) = output.lock() {
                output.extend_from_slice(&buffer[..count]);
                let excess = output.len().saturating_sub(OUTPUT_TAIL_BYTES);
                output.drain(..excess);
            }
        }
    })
}

impl Process {
    fn send(&mut self, message: &Json) {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        if let Some(input) = &self.input {
            let _ = input.send(line);
        }
    }

    /// After the channel ended: how the process ended, and the tail of what it printed.
    fn finish(mut self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut status = None;
        while Instant::now() < deadline {
            status = self.child.try_wait().ok().flatten();
            if status.is_some() && self.drains.iter().all(JoinHandle::is_finished) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = match status {
            Some(status) => status.to_string(),
            None => "still running, stopped".into(),
        };
        let output = self.output.lock().map(|o| o.clone()).unwrap_or_default();
        let output = String::from_utf8_lossy(&output).trim().to_string();
        let output = match output.is_empty() {
            true => String::new(),
            false => format!("; it printed:\n{output}"),
        };
        (status, output)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Closing stdin would end the loader too, but a module may keep it busy.
        self.input = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_stripping_starts_with_node_22_6() {
        assert!(!strips_types("v20.20.2"));
        assert!(!strips_types("v22.5.1"));
        assert!(strips_types("v22.6.0"));
        assert!(strips_types("v24.1.0"));
        assert!(!strips_types("garbage"));
    }

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
