//! Which program runs a function: the runtime-interface bootstraps updraft ships for `nodejs*`
//! and `python*` (embedded in the binary and written once to a cache directory), or the
//! function's own `bootstrap` file for `provided*`.
//!
//! Interpreters: `node` and `python3` from `PATH`, or the programs named by `UPDRAFT_NODE` and
//! `UPDRAFT_PYTHON` (for a version manager's or a virtual environment's interpreter).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::function::FunctionSpec;

// The Google and Azure calling conventions are separate files, joined to the Lambda client: in
// Node.js the adapters come after (function declarations are hoisted), in Python before (the
// client's last line calls `main()`).
const NODE_BOOTSTRAP: &str = concat!(
    include_str!("bootstrap/node.mjs"),
    include_str!("bootstrap/node_clouds.mjs")
);
const PYTHON_BOOTSTRAP: &str = concat!(
    include_str!("bootstrap/python_clouds.py"),
    include_str!("bootstrap/python.py")
);

/// A program and its arguments, plus variables only this runtime needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum RuntimeError {
    #[error("runtime `{runtime}` cannot run offline")]
    #[diagnostic(help(
        "offline runs nodejs*, python* and provided* (with a `bootstrap` file) runtimes natively"
    ))]
    Unsupported { runtime: String },
    #[error("no executable `bootstrap` in {}", directory.display())]
    #[diagnostic(help(
        "a provided* runtime runs the function's own `bootstrap`: build it into the service directory and make it executable"
    ))]
    MissingBootstrap { directory: PathBuf },
    #[error("cannot write the runtime bootstrap to {}: {reason}", path.display())]
    #[diagnostic(help("set XDG_CACHE_HOME to a writable directory"))]
    Cache { path: PathBuf, reason: String },
}

/// The directory bootstraps are written to: `$XDG_CACHE_HOME/updraft/runtime`, else
/// `~/.cache/updraft/runtime`, else one under the system's temporary directory.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("updraft").join("runtime")
}

/// Writes `contents` as `{cache}/{stem}-{hash}.{extension}` unless it is there already. The
/// hash in the name means a newer updraft never runs an older bootstrap, and a concurrent
/// writer is harmless: each writes a temporary file and renames it into place.
fn cached_file(
    cache: &Path,
    stem: &str,
    extension: &str,
    contents: &str,
) -> Result<PathBuf, RuntimeError> {
    let digest = Sha256::digest(contents.as_bytes());
    let name = format!("{stem}-{}.{extension}", hex::encode(&digest[..6]));
    let path = cache.join(name);
    if std::fs::read_to_string(&path).is_ok_and(|existing| existing == contents) {
        return Ok(path);
    }
    let failure = |error: std::io::Error| RuntimeError::Cache {
        path: path.clone(),
        reason: error.to_string(),
    };
    std::fs::create_dir_all(cache).map_err(failure)?;
    let temporary = cache.join(format!(".{stem}-{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&temporary, contents).map_err(failure)?;
    std::fs::rename(&temporary, &path).map_err(failure)?;
    Ok(path)
}

fn interpreter(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// How to start an instance of `spec`.
pub fn launch(spec: &FunctionSpec, cache: &Path) -> Result<Launch, RuntimeError> {
    let runtime = spec.runtime.as_str();
    if runtime.starts_with("nodejs") {
        let script = cached_file(cache, "node-bootstrap", "mjs", NODE_BOOTSTRAP)?;
        return Ok(Launch {
            program: interpreter("UPDRAFT_NODE", "node"),
            args: vec![script.display().to_string()],
            env: vec![],
        });
    }
    if runtime.starts_with("python") {
        let script = cached_file(cache, "python-bootstrap", "py", PYTHON_BOOTSTRAP)?;
        return Ok(Launch {
            program: interpreter("UPDRAFT_PYTHON", "python3"),
            args: vec![script.display().to_string()],
            // Lambda's Python writes each line as it is printed; a pipe would buffer them.
            env: vec![
                ("PYTHONUNBUFFERED".into(), "1".into()),
                ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ],
        });
    }
    if runtime.starts_with("provided") {
        let bootstrap = spec.task_root.join("bootstrap");
        if !is_executable(&bootstrap) {
            return Err(RuntimeError::MissingBootstrap {
                directory: spec.task_root.clone(),
            });
        }
        return Ok(Launch {
            program: bootstrap,
            args: vec![],
            env: vec![],
        });
    }
    Err(RuntimeError::Unsupported {
        runtime: runtime.to_string(),
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
