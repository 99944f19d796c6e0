//! Which binary a handler names, the `cargo build` a function is built with, serverless-rust's
//! settings, and what a missing target asks for.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::package::build::compiled::tests::{arguments, environment, service};

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
    resolve_binary(&packages(), own, handler)
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
        resolve_binary(&packages()[2..], Some("shared"), "bootstrap").expect_err("no binary");
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
        resolve_binary(&single, None, "handler"),
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
    let (found, own) = packages_of(&metadata.to_string(), Path::new("/w/jobs/Cargo.toml"))
        .expect("metadata reads");
    assert_eq!(own.as_deref(), Some("jobs"));
    assert_eq!(found[0].binaries, vec!["api".to_string()]);
    assert_eq!(found[1].binaries, vec!["nightly".to_string()]);
    assert!(packages_of("warning: not JSON", Path::new("/w")).is_err());
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
        built_program(&messages, "api"),
        Some(PathBuf::from("/t/release/api"))
    );
    assert_eq!(built_program(&messages, "serde"), None);
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
    let hello = settings(&service, &service.functions["hello"]).expect("settings");
    assert_eq!(hello.cargo_flags, ["--features", "fast", "--locked"]);
    assert_eq!(hello.profile.as_deref(), Some("dev"));
    assert_eq!(hello.target, None);
    let other = settings(&service, &service.functions["other"]).expect("settings");
    assert_eq!(other.cargo_flags, ["--features", "slow"]);
    assert_eq!(
        other.target,
        Some((
            "x86_64-unknown-linux-musl".into(),
            "functions.other.rust.target".into()
        ))
    );
    assert_eq!(other.profile.as_deref(), Some("dev"));
    let warnings = setting_warnings(&service);
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
    match settings(&service, &service.functions["hello"]) {
        Err(BuildError::Setting { place, .. }) => assert_eq!(place, "custom.rust.cargoFlags"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_target_for_another_architecture_is_refused() {
    assert!(check_architecture(
        "aarch64-unknown-linux-musl",
        Architecture::Arm64,
        "custom.rust.target"
    )
    .is_ok());
    match check_architecture(
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
    let cross = install_target_help("aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu");
    assert!(
        cross.contains("rustup target add aarch64-unknown-linux-gnu"),
        "{cross}"
    );
    assert!(cross.contains("gcc-aarch64-linux-gnu"), "{cross}");
    assert!(cross.contains("architecture: x86_64"), "{cross}");
    let musl = install_target_help("x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu");
    assert_eq!(musl, "run `rustup target add x86_64-unknown-linux-musl`");
}
