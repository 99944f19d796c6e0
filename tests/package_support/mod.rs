//! Shared by the `updraft package` tests: services built in temporary directories, running the
//! command, and reading back the zips it writes with the `zip` crate.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// A service directory with `serverless.yml` and the given files.
pub fn service(manifest: &str, files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("manifest");
    for file in files {
        write(dir.path(), file, &format!("content of {file}\n"));
    }
    dir
}

pub fn write(root: &Path, relative: &str, content: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(path, content).expect("file");
}

pub const HEADER: &str = "service: demo\nprovider:\n  name: aws\n  runtime: nodejs18.x\n";

pub fn manifest(rest: &str) -> String {
    format!("{HEADER}{rest}")
}

pub fn package(dir: &Path, args: &[&str]) -> crate::common::Run {
    let mut all = vec!["package"];
    all.extend_from_slice(args);
    crate::common::updraft(dir, &all, &[])
}

pub fn package_ok(dir: &Path) -> crate::common::Run {
    let run = package(dir, &[]);
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    run
}

pub struct Entry {
    pub mode: Option<u32>,
    pub modified: Option<zip::DateTime>,
    pub content: Vec<u8>,
}

pub fn unzip(path: &Path) -> BTreeMap<String, Entry> {
    let file = std::fs::File::open(path).expect("zip exists");
    let mut archive = zip::ZipArchive::new(file).expect("a valid zip");
    let mut entries = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("entry");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("entry content");
        entries.insert(
            entry.name().to_string(),
            Entry {
                mode: entry.unix_mode(),
                modified: entry.last_modified(),
                content,
            },
        );
    }
    entries
}

pub fn names(path: &Path) -> Vec<String> {
    unzip(path).into_keys().collect()
}

pub fn artifact(dir: &Path, name: &str) -> PathBuf {
    dir.join(".serverless").join(name)
}

pub fn listing(dir: &Path) -> Json {
    let text = std::fs::read_to_string(artifact(dir, "artifacts.json")).expect("listing");
    serde_json::from_str(&text).expect("listing is JSON")
}

/// The files a service with `package:` settings `settings` packages, of `files`.
pub fn selected(settings: &str, files: &[&str]) -> Vec<String> {
    let dir = service(
        &manifest(&format!(
            "package:\n{settings}functions:\n  hello:\n    handler: handler.hello\n"
        )),
        files,
    );
    package_ok(dir.path());
    names(&artifact(dir.path(), "demo.zip"))
}

pub const TREE: &[&str] = &[
    "handler.js",
    "README.md",
    "node_modules/node-fetch/index.js",
    "node_modules/other/index.js",
    "src/function/handler.js",
    "src/function/helper.js",
    "src/lib/util.js",
    "tmp/cache.txt",
    "tmp/keep.txt",
];

pub fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A copy of `tests/fixtures/<name>` in a temporary folder.
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
        dir.path(),
    );
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Lays out node_modules under `root` as npm does from its package-lock.json: a folder with a
/// package.json and an index.js per installed package, a symlink per workspace link.
#[cfg(unix)]
pub fn install_from_lockfile(root: &Path) {
    let text = std::fs::read_to_string(root.join("package-lock.json")).expect("lockfile");
    let lockfile: Json = serde_json::from_str(&text).expect("lockfile JSON");
    let packages = lockfile["packages"].as_object().expect("packages");
    for (location, entry) in packages {
        let Some(start) = location.rfind("node_modules/") else {
            continue;
        };
        let name = &location[start + "node_modules/".len()..];
        let path = root.join(location);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        if entry["link"] == Json::Bool(true) {
            let target = root.join(entry["resolved"].as_str().expect("resolved"));
            std::os::unix::fs::symlink(target, &path).expect("link");
            continue;
        }
        std::fs::create_dir_all(&path).expect("package dir");
        let mut manifest = serde_json::json!({ "name": name, "version": entry["version"] });
        if let Some(dependencies) = entry.get("dependencies") {
            manifest["dependencies"] = dependencies.clone();
        }
        std::fs::write(path.join("package.json"), manifest.to_string()).expect("package.json");
        std::fs::write(path.join("index.js"), format!("// {location}\n")).expect("index.js");
    }
}
