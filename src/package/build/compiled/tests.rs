//! Which sources a handler points at, which binary it names, and the command lines and
//! targets a function is built with.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::glibc::{newest_needed, runtime_glibc};
use super::go::{self, GoBuild};
use super::rust::{self, CargoBuild, Package};
use super::*;
use crate::manifest::node::Node;
use crate::manifest::source::Span;

fn service(json: serde_json::Value) -> Service {
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

fn packages() -> Vec<Package> {
    let package = |name: &str, binaries: &[&str]| Package {
        name: name.into(),
        manifest: PathBuf::from(format!("/w/{name}/Cargo.toml")),
        binaries: binaries.iter().map(|b| b.to_string()).collect(),
    };
    vec![
        package("api", &["api"]),
        package("jobs", &["nightly", "hourly"]),
        package("shared", &[]),
    ]
}

fn resolved(own: Option<&str>, handler: &str) -> Result<(String, String), String> {
    rust::resolve_binary(&packages(), own, handler)
}

fn pair(package: &str, binary: &str) -> Result<(String, String), String> {
    Ok((package.into(), binary.into()))
}

#[test]
fn handlers_name_binaries_as_serverless_rust_reads_them() {
    assert_eq!(resolved(None, "jobs.hourly"), pair("jobs", "hourly"));
    assert_eq!(resolved(None, "nightly"), pair("jobs", "nightly"));
    assert_eq!(resolved(None, "api"), pair("api", "api"));
    // The package's default (same-named) binary, or its only one.
    assert_eq!(resolved(None, "api.api"), pair("api", "api"));
    // `bootstrap` (or any other name) is the own package's only binary.
    assert_eq!(resolved(Some("api"), "bootstrap"), pair("api", "api"));
}

#[test]
fn unresolvable_handlers_list_the_binaries() {
    let missing = resolved(None, "jobs.weekly").expect_err("no such binary");
    assert!(
        missing.contains("`nightly`") && missing.contains("`hourly`"),
        "{missing}"
    );
    let ambiguous = resolved(None, "bootstrap").expect_err("three binaries");
    assert!(ambiguous.contains("`jobs.nightly`"), "{ambiguous}");
    let several = resolved(Some("jobs"), "bootstrap").expect_err("two binaries");
    assert!(several.contains("`api.api`"), "{several}");
    let none =
        rust::resolve_binary(&packages()[2..], Some("shared"), "bootstrap").expect_err("no binary");
    assert!(none.contains("no binary"), "{none}");
}

#[test]
fn the_only_binary_of_a_single_package_is_taken_whatever_its_name() {
    let single = vec![Package {
        name: "updraft-runtime-fixture".into(),
        manifest: PathBuf::from("/w/Cargo.toml"),
        binaries: vec!["bootstrap".into()],
    }];
    assert_eq!(
        rust::resolve_binary(&single, None, "handler"),
        pair("updraft-runtime-fixture", "bootstrap")
    );
}

#[test]
fn metadata_gives_packages_and_the_one_at_the_manifest() {
    let metadata = json!({
        "packages": [
            { "name": "api", "manifest_path": "/w/api/Cargo.toml",
              "targets": [ { "name": "api", "kind": ["bin"] }, { "name": "api", "kind": ["lib"] } ] },
            { "name": "jobs", "manifest_path": "/w/jobs/Cargo.toml",
              "targets": [ { "name": "nightly", "kind": ["bin"] }, { "name": "bench", "kind": ["bench"] } ] }
        ]
    });
    let (found, own) = rust::packages_of(&metadata.to_string(), Path::new("/w/jobs/Cargo.toml"))
        .expect("metadata reads");
    assert_eq!(own.as_deref(), Some("jobs"));
    assert_eq!(found[0].binaries, vec!["api".to_string()]);
    assert_eq!(found[1].binaries, vec!["nightly".to_string()]);
    assert!(rust::packages_of("warning: not JSON", Path::new("/w")).is_err());
}

fn arguments(command: &std::process::Command) -> Vec<String> {
    command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn environment(command: &std::process::Command) -> Vec<(String, Option<String>)> {
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
fn cargo_builds_the_binary_for_the_target_with_the_flags() {
    let build = CargoBuild {
        manifest: PathBuf::from("/s/Cargo.toml"),
        package: "api".into(),
        binary: "api".into(),
        target: Some("aarch64-unknown-linux-gnu".into()),
        profile: None,
        flags: vec!["--features".into(), "fast".into()],
        linker: Some("aarch64-linux-gnu-gcc".into()),
    };
    let command = build.command();
    assert_eq!(command.get_program(), "cargo");
    assert_eq!(command.get_current_dir(), Some(Path::new("/s")));
    assert_eq!(
        arguments(&command),
        [
            "build",
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
            "/s/Cargo.toml",
            "--package",
            "api",
            "--bin",
            "api",
            "--release",
            "--target",
            "aarch64-unknown-linux-gnu",
            "--features",
            "fast"
        ]
    );
    assert_eq!(
        environment(&command),
        [(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".to_string(),
            Some("aarch64-linux-gnu-gcc".to_string())
        )]
    );
    let dev = CargoBuild {
        target: None,
        profile: Some("dev".into()),
        flags: Vec::new(),
        ..build.clone()
    };
    let arguments = arguments(&dev.command());
    assert!(!arguments
        .iter()
        .any(|a| a == "--release" || a == "--target"));
    assert!(
        environment(&dev.command()).is_empty(),
        "no linker for this machine"
    );
    let custom = CargoBuild {
        profile: Some("lambda".into()),
        ..build
    };
    assert!(arguments_contain(
        &custom.command(),
        &["--profile", "lambda"]
    ));
}

fn arguments_contain(command: &std::process::Command, wanted: &[&str]) -> bool {
    arguments(command)
        .windows(wanted.len())
        .any(|window| window == wanted)
}

#[test]
fn cargo_reports_where_the_binary_went() {
    let messages = [
        json!({ "reason": "compiler-artifact", "target": { "name": "serde", "kind": ["lib"] }, "executable": null }),
        json!({ "reason": "compiler-artifact", "target": { "name": "api", "kind": ["bin"] }, "executable": "/t/release/api" }),
        json!({ "reason": "build-finished", "success": true }),
    ]
    .map(|m| m.to_string())
    .join("\n");
    assert_eq!(
        rust::built_program(&messages, "api"),
        Some(PathBuf::from("/t/release/api"))
    );
    assert_eq!(rust::built_program(&messages, "serde"), None);
}

#[test]
fn rust_settings_of_the_function_win_over_custom_rust() {
    let service = service(json!({
        "service": "s",
        "provider": { "name": "aws", "runtime": "provided.al2023" },
        "custom": { "rust": { "cargoFlags": "--features fast --locked", "profile": "dev", "dockerTag": "x" } },
        "functions": {
            "hello": { "handler": "bootstrap" },
            "other": { "handler": "bootstrap", "rust": { "cargoFlags": "--features slow", "target": "x86_64-unknown-linux-musl" } }
        }
    }));
    let hello = rust::settings(&service, &service.functions["hello"]).expect("settings");
    assert_eq!(hello.cargo_flags, ["--features", "fast", "--locked"]);
    assert_eq!(hello.profile.as_deref(), Some("dev"));
    assert_eq!(hello.target, None);
    let other = rust::settings(&service, &service.functions["other"]).expect("settings");
    assert_eq!(other.cargo_flags, ["--features", "slow"]);
    assert_eq!(
        other.target,
        Some((
            "x86_64-unknown-linux-musl".into(),
            "functions.other.rust.target".into()
        ))
    );
    assert_eq!(other.profile.as_deref(), Some("dev"));
    let warnings = rust::setting_warnings(&service);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("custom.rust.dockerTag"));
}

#[test]
fn a_malformed_rust_setting_names_its_place() {
    let service = service(json!({
        "service": "s",
        "provider": { "name": "aws", "runtime": "provided.al2023" },
        "custom": { "rust": { "cargoFlags": 3 } },
        "functions": { "hello": { "handler": "bootstrap" } }
    }));
    match rust::settings(&service, &service.functions["hello"]) {
        Err(BuildError::Setting { place, .. }) => assert_eq!(place, "custom.rust.cargoFlags"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_target_for_another_architecture_is_refused() {
    assert!(rust::check_architecture(
        "aarch64-unknown-linux-musl",
        Architecture::Arm64,
        "custom.rust.target"
    )
    .is_ok());
    match rust::check_architecture(
        "x86_64-unknown-linux-musl",
        Architecture::Arm64,
        "custom.rust.target",
    ) {
        Err(BuildError::Setting { place, help, .. }) => {
            assert_eq!(place, "custom.rust.target");
            assert!(help.contains("aarch64-unknown-linux-musl"), "{help}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_target_says_what_to_install() {
    let cross = rust::install_target_help("aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu");
    assert!(
        cross.contains("rustup target add aarch64-unknown-linux-gnu"),
        "{cross}"
    );
    assert!(cross.contains("gcc-aarch64-linux-gnu"), "{cross}");
    assert!(cross.contains("architecture: x86_64"), "{cross}");
    let musl = rust::install_target_help("x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu");
    assert_eq!(musl, "run `rustup target add x86_64-unknown-linux-musl`");
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
