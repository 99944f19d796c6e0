//! Which sources a handler points at, the Go command line, the targets a function is built
//! for, and the glibc its program needs.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::glibc::{newest_needed, runtime_glibc};
use super::go::{self, GoBuild};
use super::*;
use crate::manifest::node::Node;
use crate::manifest::source::Span;

pub(super) fn service(json: serde_json::Value) -> Service {
    let root = Node::from_json(&json, Span::default());
    match Service::from_tree(&root) {
        Ok(service) => service,
        Err(error) => panic!("{error}"),
    }
}

fn tree(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in files {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, "").expect("file");
    }
    dir
}

fn sources(dir: &Path, handler: &str) -> Option<Sources> {
    find_sources(dir, dir, handler)
}

#[test]
fn lambda_architectures_map_to_linux_targets() {
    assert_eq!(
        lambda_triple(Architecture::X86_64),
        "x86_64-unknown-linux-gnu"
    );
    assert_eq!(
        lambda_triple(Architecture::Arm64),
        "aarch64-unknown-linux-gnu"
    );
    assert_eq!(go::goarch(Architecture::X86_64), "amd64");
    assert_eq!(go::goarch(Architecture::Arm64), "arm64");
}

#[test]
fn a_cargo_manifest_at_the_root_builds_a_bootstrap_handler() {
    let dir = tree(&["Cargo.toml", "src/main.rs"]);
    assert_eq!(
        sources(dir.path(), "bootstrap"),
        Some(Sources::Rust {
            manifest: dir.path().join("Cargo.toml"),
            handler: "bootstrap".into()
        })
    );
    assert_eq!(
        sources(dir.path(), "my-crate.my-bin"),
        Some(Sources::Rust {
            manifest: dir.path().join("Cargo.toml"),
            handler: "my-crate.my-bin".into()
        })
    );
}

#[test]
fn the_manifest_nearest_the_handler_wins() {
    let dir = tree(&["Cargo.toml", "functions/hello/Cargo.toml", "go.mod"]);
    assert_eq!(
        sources(dir.path(), "functions/hello/bootstrap"),
        Some(Sources::Rust {
            manifest: dir.path().join("functions/hello/Cargo.toml"),
            handler: "bootstrap".into()
        })
    );
    // At the root both are present: a `.go` handler is Go, anything else Rust.
    assert!(matches!(
        sources(dir.path(), "main.go"),
        Some(Sources::Go { .. })
    ));
    assert!(matches!(
        sources(dir.path(), "bootstrap"),
        Some(Sources::Rust { .. })
    ));
}

#[test]
fn go_handlers_name_the_package_to_build() {
    let dir = tree(&["go.mod", "functions/hello/main.go", "main.go"]);
    let go = |handler: &str| match sources(dir.path(), handler) {
        Some(Sources::Go { module, package }) => {
            assert_eq!(module, dir.path());
            package
        }
        other => panic!("{handler}: {other:?}"),
    };
    assert_eq!(go("./functions/hello"), "./functions/hello");
    assert_eq!(go("functions/hello"), "./functions/hello");
    assert_eq!(go("functions/hello/main.go"), "./functions/hello");
    assert_eq!(go("./functions/hello/main.go"), "./functions/hello");
    assert_eq!(go("main.go"), ".");
    assert_eq!(go("bootstrap"), ".");
}

#[test]
fn a_module_per_function_builds_from_its_own_folder() {
    let dir = tree(&["functions/hello/go.mod", "functions/hello/main.go"]);
    assert_eq!(
        sources(dir.path(), "functions/hello/main.go"),
        Some(Sources::Go {
            module: dir.path().join("functions/hello"),
            package: ".".into()
        })
    );
}

#[test]
fn go_handlers_are_read_from_the_base_dir() {
    let dir = tree(&["backend/go.mod", "backend/functions/hello/main.go"]);
    let base = dir.path().join("backend");
    assert_eq!(
        find_sources(dir.path(), &base, "functions/hello"),
        Some(Sources::Go {
            module: base.clone(),
            package: "./functions/hello".into()
        })
    );
}

#[test]
fn a_ready_bootstrap_without_sources_is_not_built() {
    let dir = tree(&["bootstrap"]);
    assert_eq!(sources(dir.path(), "bootstrap"), None);
}

#[test]
fn handlers_outside_the_service_look_only_in_the_service() {
    let outer = tree(&["Cargo.toml", "service/serverless.yml"]);
    let service_dir = outer.path().join("service");
    assert_eq!(
        find_sources(&service_dir, &service_dir, "../bootstrap"),
        None
    );
}

#[test]
fn prebuilt_artifacts_are_not_built() {
    let with_own = service(json!({
        "service": "s", "provider": { "name": "aws", "runtime": "provided.al2023" },
        "functions": { "hello": { "handler": "bootstrap", "package": { "artifact": "hello.zip" } } }
    }));
    assert!(is_prebuilt(&with_own, &with_own.functions["hello"]));
    let shared = service(json!({
        "service": "s", "provider": { "name": "aws", "runtime": "provided.al2023" },
        "package": { "artifact": "all.zip" },
        "functions": {
            "hello": { "handler": "bootstrap" },
            "alone": { "handler": "bootstrap", "package": { "individually": true } }
        }
    }));
    assert!(is_prebuilt(&shared, &shared.functions["hello"]));
    assert!(!is_prebuilt(&shared, &shared.functions["alone"]));
}

pub(super) fn arguments(command: &std::process::Command) -> Vec<String> {
    command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

pub(super) fn environment(command: &std::process::Command) -> Vec<(String, Option<String>)> {
    command
        .get_envs()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.map(|v| v.to_string_lossy().into_owned()),
            )
        })
        .collect()
}

#[test]
fn go_builds_for_lambda_linux_without_cgo() {
    let build = GoBuild {
        module: PathBuf::from("/s"),
        package: "./functions/hello".into(),
        architecture: Some(Architecture::Arm64),
        cgo: false,
        output: PathBuf::from("/s/.serverless/build/go/.hello.partial/bootstrap"),
    };
    let command = build.command();
    assert_eq!(command.get_program(), "go");
    assert_eq!(command.get_current_dir(), Some(Path::new("/s")));
    assert_eq!(
        arguments(&command),
        [
            "build",
            "-tags",
            "lambda.norpc",
            "-trimpath",
            "-ldflags=-s -w",
            "-o",
            "/s/.serverless/build/go/.hello.partial/bootstrap",
            "./functions/hello"
        ]
    );
    let mut env = environment(&command);
    env.sort();
    let set = |k: &str, v: &str| (k.to_string(), Some(v.to_string()));
    assert_eq!(
        env,
        [
            set("CGO_ENABLED", "0"),
            set("GOARCH", "arm64"),
            set("GOOS", "linux")
        ]
    );
    let local = GoBuild {
        architecture: None,
        cgo: true,
        ..build
    };
    let mut env = environment(&local.command());
    env.sort();
    assert_eq!(
        env,
        [
            set("CGO_ENABLED", "1"),
            ("GOARCH".to_string(), None),
            ("GOOS".to_string(), None)
        ],
        "built for this machine"
    );
}

#[test]
fn go_settings_are_read_from_custom_go() {
    let service = service(json!({
        "service": "s",
        "provider": { "name": "aws", "runtime": "provided.al2023" },
        "custom": { "go": { "baseDir": "./backend", "cgo": 1, "cmd": "GOOS=linux go build" } },
        "functions": { "hello": { "handler": "functions/hello" } }
    }));
    assert_eq!(
        go::base_dir(&service).expect("base"),
        PathBuf::from("backend")
    );
    assert!(go::cgo(&service).expect("cgo"));
    assert_eq!(go::setting_warnings(&service).len(), 1);
    let bad = service_with_cgo(json!("yes"));
    assert!(matches!(go::cgo(&bad), Err(BuildError::Setting { .. })));
}

fn service_with_cgo(cgo: serde_json::Value) -> Service {
    service(json!({
        "service": "s",
        "provider": { "name": "aws" },
        "custom": { "go": { "cgo": cgo } },
        "functions": {}
    }))
}

#[test]
fn the_newest_glibc_a_program_needs_is_read_from_it() {
    let program = b"\x7fELF\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_PRIVATE\0GLIBC_2.17\0";
    assert_eq!(newest_needed(program), Some((2, 34)));
    assert_eq!(newest_needed(b"\x7fELF static"), None);
    assert_eq!(runtime_glibc("provided.al2023"), Some((2, 34)));
    assert_eq!(runtime_glibc("provided.al2"), Some((2, 26)));
}

#[test]
fn a_bootstrap_needing_a_newer_glibc_than_its_runtime_is_warned_about() {
    let service = service(json!({
        "service": "s",
        "provider": { "name": "aws", "runtime": "provided.al2023" },
        "functions": { "hello": { "handler": "bootstrap" } }
    }));
    let function = &service.functions["hello"];
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = crate::package::build::BuiltTree {
        root: dir.path().to_path_buf(),
        files: Vec::new(),
    };
    std::fs::write(dir.path().join("bootstrap"), b"\x7fELF GLIBC_2.34\0").expect("program");
    assert_eq!(
        super::glibc::check(function, "provided.al2023", "rust", &tree),
        None
    );
    let warning =
        super::glibc::check(function, "provided.al2", "rust", &tree).expect("al2 has glibc 2.26");
    assert!(
        warning.message.contains("needs glibc 2.34"),
        "{}",
        warning.message
    );
    assert!(
        warning.help.contains("x86_64-unknown-linux-musl"),
        "{}",
        warning.help
    );
    std::fs::write(dir.path().join("bootstrap"), b"\x7fELF GLIBC_2.39\0").expect("program");
    assert!(super::glibc::check(function, "provided.al2023", "go", &tree).is_some());
}
