//! `updraft package` end to end: the real binary on services built in temporary directories,
//! and the zips it writes read back with the `zip` crate. File selection is in
//! `package_selection.rs`.

mod common;
mod package_support;

use std::path::{Path, PathBuf};

use package_support::*;
use serde_json::Value as Json;

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(unix)]
#[test]
fn modes_are_normalised_and_timestamps_fixed() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: handler.hello\n"),
        &["handler.js", "bin/tool", "bootstrap", "private.js"],
    );
    set_mode(&dir.path().join("bin/tool"), 0o700);
    set_mode(&dir.path().join("bootstrap"), 0o600);
    set_mode(&dir.path().join("private.js"), 0o600);
    package_ok(dir.path());
    let entries = unzip(&artifact(dir.path(), "demo.zip"));
    let mode = |name: &str| entries.get(name).and_then(|e| e.mode);
    assert_eq!(mode("bin/tool"), Some(0o100755));
    assert_eq!(mode("bootstrap"), Some(0o100755));
    assert_eq!(mode("private.js"), Some(0o100644));
    assert_eq!(mode("handler.js"), Some(0o100644));
    for (name, entry) in &entries {
        let modified = entry.modified.expect("a timestamp");
        assert_eq!(
            (modified.year(), modified.month(), modified.day()),
            (1980, 1, 1),
            "{name}"
        );
        assert_eq!(
            (modified.hour(), modified.minute(), modified.second()),
            (0, 0, 0),
            "{name}"
        );
    }
}

/// Packages with the process umask set, through `sh`.
#[cfg(unix)]
fn package_with_umask(dir: &Path, umask: &str) -> Json {
    let output = common::clean_command("sh", dir)
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" package --json"))
        .arg(env!("CARGO_BIN_EXE_updraft"))
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON summary")
}

#[cfg(unix)]
#[test]
fn same_tree_gives_same_bytes_whatever_the_mtimes_umask_and_creation_order() {
    let text = manifest("functions:\n  hello:\n    handler: handler.hello\n");
    let files = [
        "b/two.js",
        "a/one.js",
        "handler.js",
        "c/d/e/three.js",
        "run.sh",
    ];
    let first = service(&text, &files);
    let mut reversed = files;
    reversed.reverse();
    let second = service(&text, &reversed);
    // As umask 0022 and 0077 would have created them.
    for (dir, file_mode, exec_mode) in [(&first, 0o644, 0o755), (&second, 0o600, 0o700)] {
        for file in files {
            set_mode(&dir.path().join(file), file_mode);
        }
        set_mode(&dir.path().join("run.sh"), exec_mode);
    }
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    for file in files {
        let handle = std::fs::File::options()
            .write(true)
            .open(second.path().join(file))
            .expect("open");
        handle.set_modified(old).expect("set mtime");
    }
    let one = package_with_umask(first.path(), "0022");
    let two = package_with_umask(second.path(), "0077");
    let hash = |summary: &Json| summary["artifacts"][0]["sha256"].clone();
    assert!(hash(&one).is_string());
    assert_eq!(hash(&one), hash(&two));
    assert_eq!(
        std::fs::read(artifact(first.path(), "demo.zip")).expect("zip"),
        std::fs::read(artifact(second.path(), "demo.zip")).expect("zip")
    );
}

#[test]
fn touching_a_file_keeps_the_hash_and_leaves_the_artifact_alone() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: handler.hello\n"),
        &["handler.js"],
    );
    let first: Json = serde_json::from_str(&package(dir.path(), &["--json"]).stdout).expect("JSON");
    let zip_path = artifact(dir.path(), "demo.zip");
    let written_at = std::fs::metadata(&zip_path).and_then(|m| m.modified()).ok();
    let handle = std::fs::File::options()
        .write(true)
        .open(dir.path().join("handler.js"))
        .expect("open");
    handle
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .expect("touch");
    let second: Json =
        serde_json::from_str(&package(dir.path(), &["--json"]).stdout).expect("JSON");
    assert_eq!(
        first["artifacts"][0]["sha256"],
        second["artifacts"][0]["sha256"]
    );
    assert_eq!(first["artifacts"][0]["rewritten"], Json::Bool(true));
    assert_eq!(second["artifacts"][0]["rewritten"], Json::Bool(false));
    assert_eq!(
        std::fs::metadata(&zip_path).and_then(|m| m.modified()).ok(),
        written_at
    );
    // A real change does change the hash.
    write(dir.path(), "handler.js", "changed\n");
    let third: Json = serde_json::from_str(&package(dir.path(), &["--json"]).stdout).expect("JSON");
    assert_ne!(
        first["artifacts"][0]["sha256"],
        third["artifacts"][0]["sha256"]
    );
}

#[test]
fn secrets_stay_out_at_any_depth_but_not_inside_node_modules() {
    let files = selected(
        "  patterns: []\n",
        &[
            "handler.js",
            ".env",
            ".env.production",
            "config/.env",
            ".aws/credentials",
            "certs/server.pem",
            "id_rsa",
            "id_rsa.pub",
            ".npmrc",
            ".pypirc",
            "node_modules/lib/test/key.pem",
        ],
    );
    assert_eq!(
        files,
        list(&["handler.js", "node_modules/lib/test/key.pem"])
    );
}

#[test]
fn credential_files_of_ssh_netrc_git_docker_azure_and_google_stay_out() {
    let files = selected(
        "  patterns: []\n",
        &[
            "handler.js",
            ".ssh/id_ed25519",
            "certs/server.key",
            ".netrc",
            ".git-credentials",
            ".yarnrc.yml",
            ".docker/config.json",
            ".azure/accessTokens.json",
            ".config/gcloud/credentials.db",
            "keys/application_default_credentials.json",
        ],
    );
    assert_eq!(files, list(&["handler.js"]));
}

#[test]
fn a_link_to_a_secret_under_another_name_stays_out() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: handler.hello\n"),
        &["handler.js", ".aws/credentials"],
    );
    std::os::unix::fs::symlink(".aws/credentials", dir.path().join("config.ini")).unwrap();
    std::fs::create_dir(dir.path().join("settings")).unwrap();
    std::os::unix::fs::symlink("../.aws", dir.path().join("settings/aws")).unwrap();
    package_ok(dir.path());
    assert_eq!(
        names(&artifact(dir.path(), "demo.zip")),
        list(&["handler.js"]),
        "neither the link to the file nor the files under a link to the folder are packaged"
    );
}

#[test]
fn a_secret_named_by_a_pattern_is_included_with_a_warning_naming_it() {
    let dir = service(
        &manifest(
            "package:\n  patterns:\n    - .env.production\n    - 'src/**'\nfunctions:\n  hello:\n    handler: h.h\n",
        ),
        &["h.js", ".env", ".env.production", "src/.env"],
    );
    let run = package_ok(dir.path());
    let files = names(&artifact(dir.path(), "demo.zip"));
    assert!(files.contains(&".env.production".to_string()));
    // `src/**` names no file in particular: the secret under it stays out.
    assert!(!files.contains(&"src/.env".to_string()));
    assert!(!files.contains(&".env".to_string()));
    // miette wraps long lines: compare with the whitespace folded.
    let stderr = run
        .stderr
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        stderr.contains("`.env.production` looks like a secret; it goes into demo.zip because pattern `.env.production` names it"),
        "{stderr}"
    );
}

#[cfg(unix)]
mod symlinks {
    use super::*;
    use std::os::unix::fs::symlink;

    fn base() -> tempfile::TempDir {
        service(
            &manifest("functions:\n  hello:\n    handler: handler.hello\n"),
            &["handler.js", "shared/util.js"],
        )
    }

    #[test]
    fn links_inside_the_service_are_packaged_as_their_content() {
        let dir = base();
        symlink("shared/util.js", dir.path().join("util.js")).expect("link");
        symlink("shared", dir.path().join("lib")).expect("link");
        package_ok(dir.path());
        let entries = unzip(&artifact(dir.path(), "demo.zip"));
        let content = |name: &str| entries.get(name).map(|e| e.content.clone());
        assert_eq!(
            content("util.js"),
            Some(b"content of shared/util.js\n".to_vec())
        );
        assert_eq!(content("lib/util.js"), content("util.js"));
        assert_eq!(entries.get("util.js").and_then(|e| e.mode), Some(0o100644));
    }

    #[test]
    fn a_link_out_of_the_service_is_an_error_naming_it() {
        let dir = base();
        let outside = tempfile::tempdir().expect("dir");
        write(outside.path(), "secret.txt", "x");
        symlink(
            outside.path().join("secret.txt"),
            dir.path().join("escape.txt"),
        )
        .expect("link");
        let run = package(dir.path(), &[]);
        assert_eq!(run.status, Some(1));
        assert!(
            run.stderr
                .contains("`escape.txt` points outside the service directory"),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn the_pattern_suggested_for_a_link_to_a_folder_outside_works() {
        let dir = base();
        let outside = tempfile::tempdir().expect("dir");
        write(outside.path(), "data/big.bin", "x");
        symlink(outside.path().join("data"), dir.path().join("vendor")).expect("link");
        let run = package(dir.path(), &[]);
        assert_eq!(run.status, Some(1));
        let stderr = run
            .stderr
            .split_whitespace()
            .filter(|word| *word != "│")
            .collect::<Vec<_>>()
            .join(" ");
        assert!(stderr.contains("a pattern like `!vendor/**`"), "{stderr}");
        // Following the advice packages the service.
        let manifest = dir.path().join("serverless.yml");
        let text = std::fs::read_to_string(&manifest).expect("manifest");
        std::fs::write(
            &manifest,
            format!("{text}package:\n  patterns:\n    - '!vendor/**'\n"),
        )
        .expect("manifest");
        let again = package(dir.path(), &[]);
        assert_eq!(again.status, Some(0), "{}", again.stderr);
    }

    #[test]
    fn a_broken_link_is_an_error_naming_it() {
        let dir = base();
        symlink("missing.js", dir.path().join("broken.js")).expect("link");
        let run = package(dir.path(), &[]);
        assert_eq!(run.status, Some(1));
        assert!(
            run.stderr.contains("`broken.js` is broken"),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn a_link_loop_is_an_error_naming_it() {
        let dir = base();
        symlink("..", dir.path().join("shared/up")).expect("link");
        let run = package(dir.path(), &[]);
        assert_eq!(run.status, Some(1));
        assert!(
            run.stderr.contains("`shared/up` is part of a loop"),
            "{}",
            run.stderr
        );
        let cycle = base();
        symlink("b", cycle.path().join("a")).expect("link");
        symlink("a", cycle.path().join("b")).expect("link");
        let run = package(cycle.path(), &[]);
        assert_eq!(run.status, Some(1));
        assert!(run.stderr.contains("is part of a loop"), "{}", run.stderr);
    }

    #[test]
    fn a_bad_link_left_out_by_the_patterns_is_no_error() {
        let dir = service(
            &manifest(
                "package:\n  patterns: ['!broken.js', '!vendor/**']\nfunctions:\n  hello:\n    handler: h.h\n",
            ),
            &["h.js"],
        );
        symlink("missing.js", dir.path().join("broken.js")).expect("link");
        symlink("/", dir.path().join("vendor")).expect("link");
        package_ok(dir.path());
    }
}

#[test]
fn artifacts_json_lists_hash_size_and_files_of_each_artifact() {
    use sha2::Digest;
    let dir = service(
        &manifest(
            "functions:\n  hello:\n    handler: handler.hello\n  world:\n    handler: handler.world\n    package:\n      individually: true\n",
        ),
        &["handler.js"],
    );
    package_ok(dir.path());
    let listing = listing(dir.path());
    assert_eq!(listing["service"], "demo");
    let artifacts = listing["artifacts"].as_array().expect("artifacts");
    assert_eq!(artifacts.len(), 2);
    for entry in artifacts {
        let name = entry["artifact"].as_str().expect("name");
        let bytes = std::fs::read(artifact(dir.path(), name)).expect("zip");
        assert_eq!(entry["bytes"], bytes.len() as u64);
        assert_eq!(entry["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
        let files: Vec<String> = entry["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter_map(|f| f.as_str().map(str::to_string))
            .collect();
        assert_eq!(files, names(&artifact(dir.path(), name)));
    }
    assert_eq!(artifacts[0]["artifact"], "demo.zip");
    assert_eq!(artifacts[0]["functions"], serde_json::json!(["hello"]));
    assert_eq!(artifacts[1]["artifact"], "world.zip");
}

#[test]
fn prebuilt_artifacts_are_used_as_given() {
    let dir = service(
        &manifest(
            "package:\n  artifact: build/service.zip\nfunctions:\n  hello:\n    handler: h.h\n  world:\n    handler: h.h\n    package:\n      artifact: build/world.zip\n",
        ),
        &["h.js"],
    );
    // A zip made by this very command serves as the prebuilt file.
    let donor = service(
        &manifest("functions:\n  hello:\n    handler: h.h\n"),
        &["h.js"],
    );
    package_ok(donor.path());
    std::fs::create_dir_all(dir.path().join("build")).expect("dir");
    std::fs::copy(
        artifact(donor.path(), "demo.zip"),
        dir.path().join("build/service.zip"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("build/world.zip"), b"not really a zip").expect("write");
    package_ok(dir.path());
    assert!(!artifact(dir.path(), "demo.zip").exists());
    let listing = listing(dir.path());
    let artifacts = listing["artifacts"].as_array().expect("artifacts");
    assert_eq!(artifacts[0]["artifact"], "build/service.zip");
    assert_eq!(artifacts[0]["prebuilt"], true);
    assert_eq!(artifacts[0]["functions"], serde_json::json!(["hello"]));
    assert_eq!(artifacts[0]["files"], serde_json::json!(["h.js"]));
    assert_eq!(artifacts[1]["artifact"], "build/world.zip");
    assert_eq!(artifacts[1]["bytes"], 16);
}

#[test]
fn a_missing_prebuilt_artifact_is_an_error_naming_it() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: h.h\n    package:\n      artifact: dist/hello.zip\n"),
        &["h.js"],
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1));
    assert!(run.stderr.contains("`dist/hello.zip`"), "{}", run.stderr);
    assert!(run.stderr.contains("functions.hello.package.artifact"));
}

#[test]
fn over_250_mb_unzipped_is_an_error_before_anything_is_read() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: h.h\n"),
        &["h.js"],
    );
    // Sparse: no disk space, and never read because the limit is checked first.
    let big = std::fs::File::create(dir.path().join("big.bin")).expect("create");
    big.set_len(251 * 1024 * 1024).expect("sparse file");
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1));
    assert!(run.stderr.contains("over Lambda's limit"), "{}", run.stderr);
    assert!(run.stderr.contains("big.bin"), "{}", run.stderr);
    assert!(!artifact(dir.path(), "demo.zip").exists());
}

#[test]
fn over_50_mb_zipped_is_a_warning_to_upload_through_s3() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: h.h\n"),
        &["h.js"],
    );
    // Incompressible bytes from a fixed xorshift sequence.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut data = Vec::with_capacity(51 * 1024 * 1024);
    while data.len() < 51 * 1024 * 1024 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    std::fs::write(dir.path().join("noise.bin"), &data).expect("write");
    let run = package_ok(dir.path());
    assert!(
        run.stderr.contains("needs upload through S3"),
        "{}",
        run.stderr
    );
    let entries = unzip(&artifact(dir.path(), "demo.zip"));
    assert_eq!(
        entries.get("noise.bin").map(|e| e.content.len()),
        Some(data.len())
    );
}

#[test]
fn the_manifest_itself_stays_out_as_the_framework_leaves_it_out() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: h.hello\n"),
        &["h.js"],
    );
    package_ok(dir.path());
    assert_eq!(names(&artifact(dir.path(), "demo.zip")), list(&["h.js"]));
    // A pattern that names it brings it back, as with any default exclude.
    let named = service(
        &manifest("package:\n  patterns:\n    - serverless.yml\nfunctions:\n  hello:\n    handler: h.hello\n"),
        &["h.js"],
    );
    package_ok(named.path());
    assert_eq!(
        names(&artifact(named.path(), "demo.zip")),
        list(&["h.js", "serverless.yml"])
    );
}

#[test]
fn package_dir_option_writes_elsewhere() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: h.h\n"),
        &["h.js"],
    );
    package_ok(dir.path());
    let run = package(dir.path(), &["--package", "out"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    // The earlier `.serverless` output and the new folder itself stay out.
    assert_eq!(names(&dir.path().join("out/demo.zip")), list(&["h.js"]));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/package")
        .join(name)
}

#[test]
fn package_help_documents_every_flag() {
    insta::assert_snapshot!(common::transcript(
        &fixture("missing-artifact"),
        &["package", "--help"],
        &[]
    ));
}

#[test]
fn missing_prebuilt_artifact_error_says_the_fix() {
    insta::assert_snapshot!(common::transcript(
        &fixture("missing-artifact"),
        &["package"],
        &[]
    ));
}

#[test]
fn dev_dependencies_stay_out_and_patterns_can_bring_one_back() {
    let lockfile = r#"{
  "name": "demo", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": { "name": "demo", "version": "1.0.0",
          "dependencies": { "left-pad": "1.3.0" },
          "devDependencies": { "jest-lite": "1.0.0" } },
    "node_modules/left-pad": { "version": "1.3.0" },
    "node_modules/jest-lite": { "version": "1.0.0", "dev": true }
  }
}"#;
    let package_json = r#"{ "name": "demo", "version": "1.0.0",
  "dependencies": { "left-pad": "1.3.0" }, "devDependencies": { "jest-lite": "1.0.0" } }"#;
    let files = &[
        "handler.js",
        "node_modules/left-pad/index.js",
        "node_modules/jest-lite/index.js",
    ];
    for (settings, jest_kept) in [
        ("", false),
        (
            "package:\n  patterns: ['node_modules/jest-lite/**']\n",
            true,
        ),
    ] {
        let dir = service(
            &manifest(&format!(
                "{settings}functions:\n  hello:\n    handler: h.h\n"
            )),
            files,
        );
        write(dir.path(), "package.json", package_json);
        write(dir.path(), "package-lock.json", lockfile);
        package_ok(dir.path());
        let names = names(&artifact(dir.path(), "demo.zip"));
        assert!(names.contains(&"node_modules/left-pad/index.js".to_string()));
        assert_eq!(
            names.contains(&"node_modules/jest-lite/index.js".to_string()),
            jest_kept,
            "with `{settings}`: {names:?}"
        );
    }
}

#[test]
fn layer_folders_stay_out_of_function_artifacts() {
    let dir = service(
        &manifest(
            "layers:\n  deps:\n    path: layer\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js", "layer/nodejs/node_modules/x/index.js"],
    );
    package_ok(dir.path());
    assert_eq!(
        names(&artifact(dir.path(), "demo.zip")),
        list(&["handler.js"])
    );
}

#[test]
fn verbose_lists_the_files_of_each_artifact() {
    let dir = service(
        &manifest("functions:\n  hello:\n    handler: handler.hello\n"),
        &["handler.js", "lib/util.js"],
    );
    let run = package(dir.path(), &["-v"]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("\n  lib/util.js\n"), "{}", run.stderr);
    let quiet = package(dir.path(), &[]);
    assert!(!quiet.stderr.contains("lib/util.js"), "{}", quiet.stderr);
}
