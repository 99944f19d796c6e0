//! One Node.js child of [`super::javascript`]: how it starts (the interpreter, the flags of a
//! TypeScript loader, the protocol channel as file descriptor 3), the threads that feed its
//! stdin and read its channel and output, and how it ends (killed when dropped, so a module that
//! keeps timers running or never returns cannot outlive updraft).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::javascript::{JavaScriptError, Settings};
use super::javascript_protocol::Message;

const LOADER: &str = include_str!("javascript_loader.mjs");
/// The loader's channel to updraft.
const CHANNEL_FD: i32 = 3;
/// How much of what the child printed is kept, to show if it dies.
const OUTPUT_TAIL_BYTES: usize = 4096;

/// How Node.js runs TypeScript: the service's own loader first (as the Framework prefers a
/// `ts-node` it can find), else Node's type stripping where it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    Tsx,
    TsNode,
    StripTypes,
}

pub(crate) fn typescript_hook(settings: &Settings, file: &str) -> Result<Hook, JavaScriptError> {
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

pub(crate) enum Line {
    Text(String),
    Broken(String),
    End,
}

/// A running loader.
pub(crate) struct Process {
    child: Child,
    /// Lines to write to the child's stdin, by a thread of their own: a child busy in a loop
    /// must not block updraft, which keeps its time.
    input: Option<Sender<Vec<u8>>>,
    pub(crate) lines: Receiver<Line>,
    output: Arc<Mutex<Vec<u8>>>,
    drains: Vec<JoinHandle<()>>,
    /// Messages for evaluations other than the one being waited for: an outer one whose
    /// function waits on a callback that needed this inner evaluation.
    pub(crate) backlog: VecDeque<Message>,
    pub(crate) generation: u64,
}

pub(crate) fn spawn(
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

/// Passes the channel's lines on until it ends (or nobody listens any more).
fn read_channel(reader: impl Read, sender: Sender<Line>) {
    let mut reader = BufReader::new(reader);
    loop {
        let mut line = Vec::new();
        let (message, last) = match reader.read_until(b'\n', &mut line) {
            Ok(0) => (Line::End, true),
            Ok(_) => match String::from_utf8(line) {
                Ok(text) => (Line::Text(text), false),
                Err(_) => (Line::Broken("a line that is not UTF-8".into()), true),
            },
            Err(error) => (Line::Broken(error.to_string()), true),
        };
        if sender.send(message).is_err() || last {
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
    pub(crate) fn send(&mut self, message: &Json) {
        let mut line = message.to_string().into_bytes();
        line.push(b'\n');
        if let Some(input) = &self.input {
            let _ = input.send(line);
        }
    }

    /// After the channel ended: how the process ended, and the tail of what it printed.
    pub(crate) fn finish(mut self) -> (String, String) {
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
}
