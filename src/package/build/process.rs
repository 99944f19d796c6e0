//! Runs the programs build steps call (pip, esbuild, tsc, cargo, go): output captured, stopped
//! when the user presses Ctrl-C, its failure turned into a [`BuildError`] that shows the end of
//! what the program printed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::error::BuildError;
use super::BuildRequest;

/// At most this much of a failing program's output is shown.
const SHOWN_OUTPUT: usize = 4000;

/// What a program printed, when it succeeded.
#[derive(Debug, Clone)]
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion. `what` names the step in errors ("pip install for function
/// `hello`"), `help` is the fix shown when it fails. A program that is not installed is
/// [`BuildError::MissingTool`] with `install` as the fix.
pub fn run(
    request: &BuildRequest<'_>,
    mut command: Command,
    what: &str,
    help: &str,
    install: &str,
) -> Result<Ran, BuildError> {
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(BuildError::MissingTool {
                program,
                needed_for: what.to_string(),
                install: install.to_string(),
            })
        }
        Err(error) => {
            return Err(BuildError::Failed {
                what: what.to_string(),
                status: None,
                output: format!("cannot start `{program}`: {error}"),
                help: help.to_string(),
            })
        }
    };
    // Both pipes are drained on threads of their own, so a chatty program never blocks on a
    // full pipe while this thread waits for it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if request.is_interrupted() => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BuildError::Interrupted);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => {
                return Err(BuildError::Failed {
                    what: what.to_string(),
                    status: None,
                    output: error.to_string(),
                    help: help.to_string(),
                })
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        return Ok(Ran { stdout, stderr });
    }
    let printed = format!("{stdout}{stderr}");
    let printed = printed.trim();
    let start = printed.len().saturating_sub(SHOWN_OUTPUT);
    let start = (start..printed.len())
        .find(|&i| printed.is_char_boundary(i))
        .unwrap_or(printed.len());
    Err(BuildError::Failed {
        what: what.to_string(),
        status: Some(status.to_string()),
        output: printed[start..].to_string(),
        help: help.to_string(),
    })
}

/// Moves a folder built under a temporary name into place, replacing what was there, so a
/// reader sees the old build or the new one, never half of one.
pub fn publish(temporary: &std::path::Path, path: &std::path::Path) -> Result<(), BuildError> {
    let failure = |error: std::io::Error| BuildError::Write {
        path: path.to_path_buf(),
        reason: error.to_string(),
    };
    if path.exists() {
        let old = path.with_extension(format!("old-{}", uuid::Uuid::new_v4().simple()));
        std::fs::rename(path, &old).map_err(failure)?;
        let _ = std::fs::remove_dir_all(&old);
    }
    std::fs::rename(temporary, path).map_err(failure)
}

/// A fresh temporary folder beside `path` (same file system, so [`publish`] is a rename).
pub fn staging(path: &std::path::Path) -> Result<std::path::PathBuf, BuildError> {
    let parent = path.parent().unwrap_or(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(".{name}.partial-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&temporary).map_err(|error| BuildError::Write {
        path: temporary.clone(),
        reason: error.to_string(),
    })?;
    Ok(temporary)
}
