//! `updraft package` on `layers:`: each layer with a `path` is zipped from its folder into
//! `<key>.zip`, named relative to that folder, as the Serverless Framework does; a layer's
//! `package.artifact` is used as given. The zips are read back and checked.

mod common;
mod package_support;

use std::io::Write;

use package_support::*;
use serde_json::Value as Json;

fn sha256_of(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("artifact")))
}

fn listed<'a>(listing: &'a Json, artifact: &str) -> &'a Json {
    listing["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .find(|entry| entry["artifact"] == artifact)
        .unwrap_or_else(|| panic!("{artifact} not in {listing}"))
}

#[test]
fn a_layer_is_zipped_from_its_folder_with_names_relative_to_it() {
    let dir = service(
        &manifest(
            "layers:\n  deps:\n    path: layer\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &[
            "handler.js",
            "layer/nodejs/package.json",
            "layer/nodejs/node_modules/x/index.js",
        ],
    );
    package_ok(dir.path());
    let layer_zip = artifact(dir.path(), "deps.zip");
    let entries = unzip(&layer_zip);
    assert_eq!(
        entries.keys().cloned().collect::<Vec<_>>(),
        list(&["nodejs/node_modules/x/index.js", "nodejs/package.json"])
    );
    assert_eq!(
        entries["nodejs/node_modules/x/index.js"].content,
        b"content of layer/nodejs/node_modules/x/index.js\n"
    );
    assert_eq!(
        names(&artifact(dir.path(), "demo.zip")),
        list(&["handler.js"])
    );
    let listing = listing(dir.path());
    let entry = listed(&listing, "deps.zip");
    assert_eq!(entry["layer"], "deps");
    assert_eq!(entry["functions"], serde_json::json!([]));
    assert_eq!(entry["prebuilt"], false);
    assert_eq!(entry["sha256"], sha256_of(&layer_zip));
    assert_eq!(
        entry["files"],
        serde_json::json!(["nodejs/node_modules/x/index.js", "nodejs/package.json"])
    );
    assert!(listed(&listing, "demo.zip").get("layer").is_none());
}

#[test]
fn layer_patterns_come_after_the_services_patterns() {
    let dir = service(
        &manifest(
            "package:\n  patterns:\n    - '!**/*.md'\nlayers:\n  deps:\n    path: layer\n    package:\n      patterns:\n        - '!nodejs/tmp/**'\n        - 'nodejs/KEEP.md'\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &[
            "handler.js",
            "layer/nodejs/a.js",
            "layer/nodejs/README.md",
            "layer/nodejs/KEEP.md",
            "layer/nodejs/tmp/scratch.js",
            "layer/.git/HEAD",
        ],
    );
    package_ok(dir.path());
    assert_eq!(
        names(&artifact(dir.path(), "deps.zip")),
        list(&["nodejs/KEEP.md", "nodejs/a.js"])
    );
}

#[test]
fn two_layer_runs_write_the_same_bytes() {
    let dir = service(
        &manifest(
            "layers:\n  deps:\n    path: layer\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js", "layer/python/lib.py", "layer/python/b/c.py"],
    );
    package_ok(dir.path());
    let first = sha256_of(&artifact(dir.path(), "deps.zip"));
    std::fs::remove_dir_all(dir.path().join(".serverless")).expect("clean");
    write(
        dir.path(),
        "layer/python/lib.py",
        "content of layer/python/lib.py\n",
    );
    package_ok(dir.path());
    assert_eq!(sha256_of(&artifact(dir.path(), "deps.zip")), first);
}

#[test]
fn a_layers_prebuilt_artifact_is_used_as_given() {
    let dir = service(
        &manifest(
            "layers:\n  deps:\n    package:\n      artifact: prebuilt/deps.zip\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js"],
    );
    std::fs::create_dir_all(dir.path().join("prebuilt")).expect("dir");
    let zip_path = dir.path().join("prebuilt/deps.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("zip"));
    writer
        .start_file("nodejs/x.js", zip::write::SimpleFileOptions::default())
        .expect("entry");
    writer.write_all(b"x").expect("content");
    writer.finish().expect("finish");
    package_ok(dir.path());
    assert!(!artifact(dir.path(), "deps.zip").exists());
    let listing = listing(dir.path());
    let entry = listed(&listing, "prebuilt/deps.zip");
    assert_eq!(entry["layer"], "deps");
    assert_eq!(entry["prebuilt"], true);
    assert_eq!(entry["sha256"], sha256_of(&zip_path));
    assert_eq!(entry["files"], serde_json::json!(["nodejs/x.js"]));
}

#[test]
fn a_layer_without_path_or_artifact_is_an_error_naming_it() {
    let dir = service(
        &manifest(
            "layers:\n  deps:\n    description: no content\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js"],
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("layer `deps`"), "{}", run.stderr);
    assert!(run.stderr.contains("layers.deps.path"), "{}", run.stderr);
}

#[test]
fn a_missing_layer_folder_is_an_error_naming_the_layer_and_the_fix() {
    let dir = service(
        &manifest(
            "layers:\n  ffmpeg:\n    path: layer\nfunctions:\n  hello:\n    handler: handler.hello\n",
        ),
        &["handler.js"],
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("layer `ffmpeg`"), "{}", run.stderr);
    assert!(run.stderr.contains("`layer`"), "{}", run.stderr);
    assert!(run.stderr.contains("layers.ffmpeg.path"), "{}", run.stderr);
    assert!(
        !dir.path().join(".serverless/ffmpeg.zip").exists(),
        "nothing is packaged"
    );
}
