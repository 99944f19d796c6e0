//! What the engine and `invoke local` tests share: the fixture functions under
//! `tests/fixtures/runtime-*`, the Rust function built with the `lambda_runtime` crate, and the
//! Python that has AWS's `awslambdaric` installed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

static RUST_BUILD: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Builds the `lambda_runtime` fixture (once per test binary; cargo's lock orders concurrent
/// builds from other test binaries) and returns a service directory holding it as `bootstrap`.
pub fn rust_bootstrap_dir() -> PathBuf {
    let mut built = RUST_BUILD
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(dir) = built.as_ref() {
        return dir.clone();
    }
    let fixture_target = crate::common::target_dir().join("fixtures");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--locked", "--quiet", "--manifest-path"])
        .arg(fixture("runtime-rust/Cargo.toml"))
        .arg("--target-dir")
        .arg(&fixture_target)
        .env_remove("RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building tests/fixtures/runtime-rust failed"
    );
    let binary = fixture_target.join("debug/bootstrap");
    let dir = fixture_target.join("service");
    std::fs::create_dir_all(&dir).expect("service directory");
    let bootstrap = dir.join("bootstrap");
    // A copy, not a link: the build may replace the binary while another test binary runs it.
    let staged = dir.join(format!("bootstrap.{}", std::process::id()));
    std::fs::copy(&binary, &staged).expect("copy the bootstrap");
    std::fs::rename(&staged, &bootstrap).expect("place the bootstrap");
    *built = Some(dir.clone());
    dir
}

/// A Python with AWS's `awslambdaric`: `UPDRAFT_TEST_RIC_PYTHON` (exported by `scripts/test.sh`),
/// else the repository's `.venv`. The tests that ask for it are `#[ignore]`d, and
/// `scripts/test.sh` (which installs it) runs them with `--include-ignored`.
pub fn ric_python() -> PathBuf {
    crate::common::python_with("awslambdaric", "UPDRAFT_TEST_RIC_PYTHON")
}

/// Process ids of live (not zombie) processes whose environment names this Runtime API
/// address prefix; used to prove that nothing is left behind.
pub fn processes_with_env(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        if status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
        {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|byte| *byte == 0)
            .any(|variable| variable == needle.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

/// Whether a process is alive (a zombie waiting for its parent counts as ended).
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|end| stat.get(end + 1..))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("X");
    !matches!(state, "Z" | "X")
}

/// Waits up to two seconds for every one of `pids` to end; returns those still alive.
pub fn survivors_after_a_moment(pids: &[u32]) -> Vec<u32> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let living: Vec<u32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
        if living.is_empty() || std::time::Instant::now() > deadline {
            return living;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The pids a fixture handler's `detach` action reports.
pub fn detached_pids(response: &serde_json::Value) -> Vec<u32> {
    response["detached"]
        .as_array()
        .unwrap_or_else(|| panic!("no `detached` list in {response}"))
        .iter()
        .map(|pid| pid.as_u64().expect("a pid") as u32)
        .collect()
}
