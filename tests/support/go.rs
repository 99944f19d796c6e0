//! Go for the tests that build Go functions: the toolchain `scripts/test.sh` installs (found
//! through `UPDRAFT_TEST_GO_BIN`), the caches it points `go` at, and a module proxy written from
//! `tests/fixtures/go-modules`, because the Go module proxy is out of reach of the test machines.
//! Each test binary that needs it includes this file after `mod common;`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory with the `go` that `scripts/test.sh` installs. The tests that need Go are
/// `#[ignore]`d; this panics, saying how to get Go, when `UPDRAFT_TEST_GO_BIN` is unset or holds
/// no `go`, so such a test never passes without building anything.
pub fn bin_dir(test: &str) -> PathBuf {
    let Some(dir) = std::env::var_os("UPDRAFT_TEST_GO_BIN").filter(|dir| !dir.is_empty()) else {
        panic!(
            "{test} needs Go, and UPDRAFT_TEST_GO_BIN is not set: run `bash scripts/test.sh`, \
             which installs Go and runs this test, or set UPDRAFT_TEST_GO_BIN to the directory \
             of a `go` program"
        );
    };
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("go").is_file(),
        "{test} needs Go, and UPDRAFT_TEST_GO_BIN ({}) has no `go` in it",
        dir.display()
    );
    dir
}

/// A cache directory: the one `scripts/test.sh` exports in `variable`, else `target/go/NAME`,
/// so that no run of the tests writes under the home directory.
fn cache(variable: &str, name: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|dir| !dir.is_empty())
        .unwrap_or_else(|| {
            crate::common::target_dir()
                .join("go")
                .join(name)
                .to_string_lossy()
                .into_owned()
        })
}

/// What `go` (and updraft, which runs it) needs from the environment `common::updraft` clears:
/// that Go first on `PATH`, the caches, no toolchain download, and modules from `proxy` (a
/// `file://` URL from [`write_module_proxy`]) or from nowhere. There is no checksum database to
/// ask, and `-modcacherw` keeps the module cache removable like the rest of `target/`.
pub fn environment(test: &str, proxy: Option<&str>) -> Vec<(&'static str, String)> {
    let path = std::env::var("PATH").unwrap_or_default();
    vec![
        ("PATH", format!("{}:{path}", bin_dir(test).display())),
        ("GOCACHE", cache("GOCACHE", "build")),
        ("GOMODCACHE", cache("GOMODCACHE", "mod")),
        ("GOPATH", cache("GOPATH", "path")),
        ("GOTOOLCHAIN", "local".into()),
        ("GOPROXY", proxy.unwrap_or("off").into()),
        ("GOSUMDB", "off".into()),
        ("GOFLAGS", "-modcacherw".into()),
        ("GOTELEMETRY", "off".into()),
    ]
}

/// Writes a module proxy into `dir` for every `MODULE@VERSION` directory under
/// `tests/fixtures/go-modules` (`MODULE/@v/list`, `VERSION.info`, `VERSION.mod` and
/// `VERSION.zip`, whose entries start with `MODULE@VERSION/`) and returns its `file://` URL.
pub fn write_module_proxy(dir: &Path) -> String {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-modules");
    let mut modules = Vec::new();
    find_modules(&fixtures, &mut modules);
    assert!(!modules.is_empty(), "no modules in {}", fixtures.display());
    for source in modules {
        let relative = source
            .strip_prefix(&fixtures)
            .expect("under the fixtures")
            .to_string_lossy()
            .into_owned();
        let (module, version) = relative.split_once('@').expect("MODULE@VERSION");
        let versions = dir.join(module).join("@v");
        std::fs::create_dir_all(&versions).expect("the proxy's folder");
        std::fs::write(versions.join("list"), format!("{version}\n")).expect("list");
        std::fs::write(
            versions.join(format!("{version}.info")),
            format!("{{\"Version\":\"{version}\"}}\n"),
        )
        .expect("info");
        std::fs::copy(
            source.join("go.mod"),
            versions.join(format!("{version}.mod")),
        )
        .expect("the module's go.mod");
        let zip = std::fs::File::create(versions.join(format!("{version}.zip"))).expect("zip");
        let mut writer = zip::ZipWriter::new(zip);
        let mut files = Vec::new();
        list_files(&source, &mut files);
        files.sort();
        for file in files {
            let inside = file.strip_prefix(&source).expect("inside the module");
            let name = format!("{relative}/{}", inside.to_string_lossy());
            writer
                .start_file(name, zip::write::SimpleFileOptions::default())
                .expect("a zip entry");
            writer
                .write_all(&std::fs::read(&file).expect("a module file"))
                .expect("written");
        }
        writer.finish().expect("the zip is finished");
    }
    format!("file://{}", dir.display())
}

/// The `MODULE@VERSION` directories under `dir` (a module path has slashes, so they nest).
fn find_modules(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if entry.file_name().to_string_lossy().contains('@') {
            found.push(path);
        } else {
            find_modules(&path, found);
        }
    }
}

fn list_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            list_files(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// `go ARGS` in `dir` with `env` (from [`environment`], whose `PATH` finds the `go`), which
/// must succeed.
pub fn run(dir: &Path, args: &[&str], env: &[(&'static str, String)]) {
    let mut command = crate::common::clean_command("go", dir);
    command.args(args).stdin(std::process::Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("go runs");
    assert!(
        output.status.success(),
        "go {}: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
