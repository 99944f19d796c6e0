//! Helpers shared by the integration tests: where the reference data lives, how to run the
//! `updraft` binary, and how to compare JSON the way the reference data is meant to be compared.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The reference data (`shared/`): `UPDRAFT_SHARED_DIR`, or `../shared` beside the checkout.
/// Panics, saying where it looked, when it is absent: the checks that read it never pass
/// without it.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("UPDRAFT_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(
        dir.is_dir(),
        "the reference data (shared/) is not at {}: put it beside the checkout or set \
         UPDRAFT_SHARED_DIR to it",
        dir.display()
    );
    dir
}

/// The case directories below `shared/<name>`, sorted. Panics when there are none, so a test
/// that loops over them never passes having checked nothing.
pub fn cases(name: &str) -> Vec<PathBuf> {
    let shared = shared_dir();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(shared.join(name))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no cases in {}: the reference data is incomplete",
        shared.join(name).display()
    );
    dirs
}

/// What one run of the binary did.
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// `program` in `dir` with a clean environment: only `PATH`, a scratch `HOME` and no colours.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("NO_COLOR", "1")
        // Without credentials the AWS SDK would ask the instance metadata service (a link-local
        // address) for some: tests never send traffic off this machine.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// Runs `updraft ARGS` in `dir` with a clean environment plus `env`.
pub fn updraft(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = clean_command(env!("CARGO_BIN_EXE_updraft"), dir);
    command.args(args).stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let start = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the updraft binary runs");
    Run {
        status: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Exit code, stdout and stderr of `updraft ARGS` in one text, as the CLI snapshots hold them.
pub fn transcript(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let run = updraft(dir, args, env);
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.status.map_or("signal".to_string(), |c| c.to_string()),
        run.stdout,
        run.stderr
    )
}

/// JSON equality as the reference data means it: key order ignored, and numbers equal by value
/// (`1` equals `1.0`).
pub fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_equal(v, w))
        }
        (Number(x), Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The first path where two JSON values differ, for a readable failure.
pub fn json_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value::*;
    match (a, b) {
        (Object(x), Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k}: only in updraft's output")),
                    Some(w) => {
                        if let Some(d) = json_difference(v, w, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}: missing from updraft's output"))
        }
        (Array(x), Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| json_difference(v, w, &format!("{path}.{i}"))),
        _ if json_equal(a, b) => None,
        _ => Some(format!("{path}: updraft {a} != expected {b}")),
    }
}

/// Any status, as a response (ureq reports 4xx/5xx as errors).
pub fn call(request: ureq::Request, body: Option<&[u8]>) -> ureq::Response {
    let result = match body {
        Some(body) => request.send_bytes(body),
        None => request.call(),
    };
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("request failed: {error}"),
    }
}

/// The response's body as JSON, or a failure that shows it.
pub fn json_body(response: ureq::Response) -> serde_json::Value {
    let text = response.into_string().expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `from`'s tree rebuilt at `to` with hard links (symbolic links kept as links): a service's
/// own `node_modules` made of installed tools, without a link that leaves the service.
pub fn link_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("list").flatten() {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("type");
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("link");
            std::os::unix::fs::symlink(link, &target).expect("symlink");
        } else if kind.is_dir() {
            link_tree(&entry.path(), &target);
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The target directory this test binary was built into (`.../debug/deps/test-binary`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// What cargo needs from the environment `common::updraft` clears: its home (the downloaded
/// crates), rustup's, and the shared target directory.
pub fn cargo_environment() -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut env = vec![
        (
            "CARGO_HOME".to_string(),
            std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo")),
        ),
        (
            "RUSTUP_HOME".to_string(),
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup")),
        ),
        (
            "CARGO_TARGET_DIR".to_string(),
            target_dir().join("fixtures").to_string_lossy().into_owned(),
        ),
    ];
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        env.push(("RUSTUP_TOOLCHAIN".to_string(), toolchain));
    }
    env
}

/// A Python that can import `module`: the one `variable` names (`scripts/test.sh` exports it),
/// else the repository's `.venv`, which `scripts/test.sh` makes with the test packages. A test
/// that needs it fails, saying how to get it, when neither has the module.
pub fn python_with(module: &str, variable: &str) -> PathBuf {
    let python = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let works = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        works,
        "{} cannot import {module}: run `bash scripts/test.sh` once (it makes .venv), or set \
         {variable} to a python that has it",
        python.display()
    );
    python
}

/// The Python with boto3 for handlers that call AWS (`UPDRAFT_TEST_PYTHON`, else `.venv`).
pub fn python_with_boto3() -> PathBuf {
    python_with("boto3", "UPDRAFT_TEST_PYTHON")
}
