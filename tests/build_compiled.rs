//! `provided.al2023` functions written in Rust or Go, built by `updraft package` and
//! `updraft invoke local` with the machine's own toolchain: the zip holds the `bootstrap`
//! alone, the built program answers through the Runtime API, and a missing target, a compile
//! error or a missing `cargo` or `go` stop the command with what to do about it.
//!
//! The Rust service is `tests/fixtures/runtime-rust` (a real `lambda_runtime` function). Its
//! release build shares one cargo target directory with every run (`target/fixtures`, beside
//! the engine tests' debug build), so the dependencies are compiled once per machine: about
//! a minute and a half on two cores the first time, seconds after. The Go function is a module
//! with no dependencies, built with the Go `scripts/test.sh` installs.

mod common;
// The Go test here needs no module proxy, so not all of the helper is used.
#[allow(dead_code)]
#[path = "support/go.rs"]
mod go;
mod package_support;

use std::path::{Path, PathBuf};

use package_support::{artifact, fixture_copy, unzip, write};

fn run(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> common::Run {
    let mut env = common::cargo_environment();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    common::updraft(dir, args, &env)
}

/// The `lambda_runtime` fixture as a service whose function `hello` has `settings`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn rust_service(settings: &str) -> tempfile::TempDir {
    let dir = fixture_copy("runtime-rust");
    let manifest = format!(
        "service: rusty\nprovider:\n  name: aws\n  runtime: provided.al2023\n  region: eu-west-1\n\
         custom:\n  rust:\n    cargoFlags: --locked\nfunctions:\n  hello:\n    handler: bootstrap\n{settings}"
    );
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("manifest");
    write(
        dir.path(),
        "README.md",
        "not part of a compiled function's zip\n",
    );
    dir
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn invoke_echo(dir: &Path, extra: &[(&str, &str)]) {
    let ran = run(
        dir,
        &[
            "invoke",
            "local",
            "-f",
            "hello",
            "--data",
            r#"{"hello":"world"}"#,
        ],
        extra,
    );
    assert_eq!(ran.status, Some(0), "stderr: {}", ran.stderr);
    let answer: serde_json::Value = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", ran.stdout));
    assert_eq!(answer["event"], serde_json::json!({"hello": "world"}));
    assert_eq!(
        answer["arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:rusty-dev-hello"
    );
}

// On an x86_64 Linux machine the default (x86_64) Lambda build is a native one; elsewhere it
// is a cross build that needs a target and linker this test does not install.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn a_rust_function_is_zipped_as_a_lone_executable_bootstrap_and_runs_locally() {
    let dir = rust_service("");
    let packaged = run(dir.path(), &["package"], &[]);
    assert_eq!(packaged.status, Some(0), "stderr: {}", packaged.stderr);
    assert_lone_x86_64_bootstrap(dir.path());

    invoke_echo(dir.path(), &[]);
}

/// A `rustc` whose sysroot has no standard library for any target: the machine's toolchain
/// may have the aarch64 target or not, this one never has.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn rustc_without_targets(dir: &Path) -> PathBuf {
    let sysroot = dir.join("empty-sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib")).expect("sysroot");
    let script = dir.join("rustc-without-targets");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --print ] && [ \"$2\" = sysroot ]; then echo '{}'; exit 0; fi\nexec rustc \"$@\"\n",
            sysroot.display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

// On an arm64 machine aarch64 is the native target, never missing.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn an_arm64_function_without_the_aarch64_target_says_what_to_install_and_still_runs_locally() {
    let dir = rust_service("    architecture: arm64\n");
    let tools = tempfile::tempdir().expect("temp dir");
    let rustc = rustc_without_targets(tools.path());
    let rustc = rustc.to_string_lossy();
    let packaged = run(dir.path(), &["package"], &[("RUSTC", &rustc)]);
    assert_eq!(packaged.status, Some(1), "stderr: {}", packaged.stderr);
    insta::assert_snapshot!(packaged.stderr);
    assert!(!artifact(dir.path(), "hello.zip").exists());

    // Locally the function is built for this machine, whatever its architecture.
    invoke_echo(dir.path(), &[]);
}

/// A crate with no dependencies whose `main.rs` is `main`.
fn small_crate(main: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"small\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(dir.path(), "src/main.rs", main);
    write(
        dir.path(),
        "serverless.yml",
        "service: small\nprovider:\n  name: aws\n  runtime: provided.al2023\nfunctions:\n  hello:\n    handler: small\n",
    );
    dir
}

/// Every entry under `dir`, relative to it.
fn listing(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable").flatten() {
            let path = entry.path();
            found.push(
                path.strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned(),
            );
            if path.is_dir() {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_rust_compile_error_exits_1_with_cargos_message_and_keeps_the_last_good_build() {
    let dir = small_crate("fn main() {\n    println!(\"first\");\n}\n");
    // Its own target directory: the crate is small, and a shared one would hold its failure.
    let own_target = dir.path().join("target").to_string_lossy().into_owned();
    let env = [("CARGO_TARGET_DIR", own_target.as_str())];
    let first = run(dir.path(), &["package"], &env);
    assert_eq!(first.status, Some(0), "stderr: {}", first.stderr);
    let built = dir.path().join(".serverless/build/rust/hello/bootstrap");
    let good = std::fs::read(&built).expect("the first build");
    let before = listing(&dir.path().join(".serverless"));

    write(
        dir.path(),
        "src/main.rs",
        "fn main() {\n    let count: u32 = \"text\";\n}\n",
    );
    let broken = run(dir.path(), &["package"], &env);
    assert_eq!(broken.status, Some(1), "stderr: {}", broken.stderr);
    assert!(
        broken
            .stderr
            .contains("cargo build of `small` for function `hello` failed"),
        "{}",
        broken.stderr
    );
    assert!(
        broken.stderr.contains("src/main.rs:2:22") && broken.stderr.contains("E0308"),
        "cargo's message names the file and line: {}",
        broken.stderr
    );
    assert!(
        !broken.stderr.contains("{\"reason\""),
        "cargo's JSON messages stay hidden: {}",
        broken.stderr
    );
    assert_eq!(
        listing(&dir.path().join(".serverless")),
        before,
        "nothing new, nothing half-written"
    );
    assert_eq!(std::fs::read(&built).expect("still there"), good);
}

#[test]
#[ignore = "needs Go: scripts/test.sh installs it"]
fn a_go_function_is_zipped_as_a_lone_executable_bootstrap() {
    let dir = go_service(
        "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n",
    );
    write(
        dir.path(),
        "README.md",
        "not part of a compiled function's zip\n",
    );
    let env = go::environment(
        "a_go_function_is_zipped_as_a_lone_executable_bootstrap",
        None,
    );
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let packaged = run(dir.path(), &["package"], &env);
    assert_eq!(packaged.status, Some(0), "stderr: {}", packaged.stderr);
    assert_lone_x86_64_bootstrap(dir.path());
}

/// A service of one Go function, `hello`, whose `functions/hello/main.go` is `main_go`, in a
/// module with no dependencies.
fn go_service(main_go: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "go.mod",
        "module example.com/hello\n\ngo 1.22\n",
    );
    write(dir.path(), "functions/hello/main.go", main_go);
    write(
        dir.path(),
        "serverless.yml",
        "service: gopher\nprovider:\n  name: aws\n  runtime: provided.al2023\nplugins:\n  - serverless-go-plugin\nfunctions:\n  hello:\n    handler: functions/hello/main.go\n",
    );
    dir
}

/// The function's zip holds only its program: an executable 64-bit x86_64 Linux `bootstrap`
/// (Lambda's default architecture), none of the service's files.
fn assert_lone_x86_64_bootstrap(service: &Path) {
    let entries = unzip(&artifact(service, "hello.zip"));
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        ["bootstrap"],
        "only the program, none of the service's files"
    );
    let bootstrap = &entries["bootstrap"];
    assert_eq!(bootstrap.mode, Some(0o100755));
    let elf = &bootstrap.content;
    assert_eq!(elf.get(..4), Some(&b"\x7fELF"[..]), "a Linux program");
    assert_eq!(elf.get(4), Some(&2), "64-bit");
    assert_eq!(elf.get(18..20), Some(&[0x3e, 0][..]), "for x86_64");
}

#[test]
fn a_go_function_without_go_installed_says_where_to_get_it() {
    let dir = go_service("package main\n\nfunc main() {}\n");
    let empty = tempfile::tempdir().expect("temp dir");
    let path = empty.path().to_string_lossy().into_owned();
    let packaged = run(dir.path(), &["package"], &[("PATH", &path)]);
    assert_eq!(packaged.status, Some(1), "stderr: {}", packaged.stderr);
    insta::assert_snapshot!(packaged.stderr);
    let invoked = run(
        dir.path(),
        &["invoke", "local", "-f", "hello"],
        &[("PATH", &path)],
    );
    assert_eq!(invoked.status, Some(1), "stderr: {}", invoked.stderr);
    assert_eq!(invoked.stderr, packaged.stderr, "the same error locally");
    assert!(!dir.path().join(".serverless/hello.zip").exists());
}

#[test]
fn a_rust_function_without_cargo_installed_says_to_install_rust() {
    let dir = small_crate("fn main() {}\n");
    let empty = tempfile::tempdir().expect("temp dir");
    let path = empty.path().to_string_lossy().into_owned();
    let packaged = run(dir.path(), &["package"], &[("PATH", &path)]);
    assert_eq!(packaged.status, Some(1), "stderr: {}", packaged.stderr);
    insta::assert_snapshot!(packaged.stderr);
}
