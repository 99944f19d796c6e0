//! Temporary files: every artifact and listing is written as `NAME.PID.partial` beside its
//! destination and renamed into place when complete, so a reader never sees half a file.
//!
//! Ctrl-C removes the partial file on the way out, but a run killed outright (SIGKILL, a power
//! cut, an out-of-memory kill) cannot; the next run removes what such a run left, judging by
//! the process id in the name, so a partial file of a run still going is left alone.

use std::path::{Path, PathBuf};

const SUFFIX: &str = ".partial";

/// Where `destination` is written before it is complete.
pub fn temporary_path(destination: &Path) -> PathBuf {
    let mut name = destination.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}{SUFFIX}", std::process::id()));
    destination.with_file_name(name)
}

/// Removes the partial files in `dir` whose writer is no longer running; returns their names.
pub fn remove_abandoned(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(writer) = writer_of(&name) else {
            continue;
        };
        if writer == std::process::id() || running(writer) {
            continue;
        }
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if is_file && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(name);
        }
    }
    removed.sort();
    removed
}

/// The process id in `NAME.PID.partial`.
fn writer_of(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(SUFFIX)?;
    let (_, pid) = stem.rsplit_once('.')?;
    pid.parse().ok()
}

fn running(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; it only asks whether the process exists. EPERM means it
    // exists and belongs to someone else.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_partial_files_of_ended_runs_are_removed() {
        let dir = tempfile::tempdir().expect("scratch");
        // A pid no process has: above the kernel's maximum.
        let ended = "hello.zip.4294967.partial";
        let own = temporary_path(&dir.path().join("other.zip"));
        for name in [ended, "hello.zip", "notes.partial", "x.abc.partial"] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        std::fs::write(&own, b"x").expect("write");
        assert_eq!(remove_abandoned(dir.path()), vec![ended.to_string()]);
        assert!(own.exists(), "a running writer's file stays");
        assert!(dir.path().join("hello.zip").exists());
        assert!(dir.path().join("notes.partial").exists());
    }
}
