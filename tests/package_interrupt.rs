//! `updraft package` stopped by Ctrl-C leaves no artifact that looks complete and exits 130;
//! prebuilt artifacts get the same checks as built ones (missing, over Lambda's limits).

mod common;
mod package_support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use package_support::*;

/// Bytes deflate cannot shrink (xorshift), so each file costs a full attempt.
fn noise(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn leftovers(output: &Path) -> Vec<String> {
    std::fs::read_dir(output)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A service whose artifact takes long enough to write (120 MB that deflate cannot shrink) to
/// be interrupted, and `updraft package` started on it; returns once the partial artifact
/// exists.
fn packaging_a_large_service() -> (tempfile::TempDir, std::process::Child) {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: handler.hello\n"),
        &["handler.js"],
    );
    for index in 0..120 {
        let path = dir.path().join(format!("data/blob{index:03}.bin"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, noise(index, 1 << 20)).expect("blob");
    }
    let output = dir.path().join(".serverless");
    let mut child = common::clean_command(env!("CARGO_BIN_EXE_updraft"), dir.path())
        .arg("package")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("updraft starts");
    let started = Instant::now();
    while !leftovers(&output)
        .iter()
        .any(|name| name.ends_with(".partial"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no partial artifact appeared"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "finished before the interruption; make the tree larger"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    (dir, child)
}

fn signal(child: &std::process::Child, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_partial_artifact_and_exits_130() {
    let (dir, child) = packaging_a_large_service();
    signal(&child, "-INT");
    let result = child.wait_with_output().expect("updraft ends");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        leftovers(&dir.path().join(".serverless")),
        Vec::<String>::new()
    );
}

/// SIGKILL gives no chance to clean up: the partial artifact stays until the next run, which
/// removes it and packages as usual.
#[cfg(unix)]
#[test]
fn a_partial_artifact_left_by_a_killed_run_is_removed_by_the_next() {
    let (dir, mut child) = packaging_a_large_service();
    signal(&child, "-KILL");
    child.wait().expect("updraft ends");
    let output = dir.path().join(".serverless");
    let left = leftovers(&output);
    assert!(
        left.iter().any(|name| name.ends_with(".partial")),
        "the killed run left its partial artifact: {left:?}"
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let mut left = leftovers(&output);
    left.sort();
    assert_eq!(left, vec!["artifacts.json", "demo.zip"]);
}

#[test]
fn a_missing_prebuilt_artifact_is_an_error_naming_it() {
    let dir = service(
        &manifest(
            "package:\n  artifact: build/missing.zip\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js"],
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("build/missing.zip"), "{}", run.stderr);
    assert!(run.stderr.contains("package.artifact"), "{}", run.stderr);
}

#[test]
fn a_prebuilt_artifact_over_the_unzipped_limit_is_refused_like_a_built_one() {
    let dir = service(
        &manifest(
            "package:\n  artifact: build/huge.zip\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js"],
    );
    std::fs::create_dir_all(dir.path().join("build")).expect("dir");
    // 260 MB of zeros deflate to a small zip whose central directory says 260 MB.
    let mut writer =
        zip::ZipWriter::new(std::fs::File::create(dir.path().join("build/huge.zip")).expect("zip"));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("zeros.bin", options).expect("entry");
    let block = vec![0u8; 1 << 20];
    for _ in 0..260 {
        writer.write_all(&block).expect("content");
    }
    writer.finish().expect("finish");
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("build/huge.zip"), "{}", run.stderr);
    assert!(run.stderr.contains("262144000"), "{}", run.stderr);
    assert!(run.stderr.contains("zeros.bin"), "{}", run.stderr);
}
