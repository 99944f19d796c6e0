//! Python requirements (the job of serverless-python-requirements) through the binary: what
//! `updraft package` puts in the zip for each function's Lambda platform, the cache that makes
//! an unchanged service re-package without pip, `noDeploy` and `slim`, the errors that name a
//! requirement pip cannot install, and `invoke local` importing what was installed.
//!
//! Most tests install real packages from PyPI with this machine's `python3 -m pip` (or
//! `UPDRAFT_PYTHON`): they are #[ignore]d for a plain `cargo test` and run by
//! `bash scripts/test.sh`; without PyPI they fail. Each uses its own cache (`XDG_CACHE_HOME`).

mod common;
mod package_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use package_support::{artifact, unzip};

const HANDLER: &str = "import attrs\nimport markupsafe\n\n\
def main(event, context):\n    \
return {\"escaped\": str(markupsafe.escape(event.get(\"text\", \"\"))), \"attrs\": attrs.__version__}\n";

/// A service directory and a cache directory of its own.
struct Service {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    /// Extra environment for every run.
    env: Vec<(String, String)>,
}

impl Service {
    fn new(manifest: &str, requirements: &str) -> Service {
        let dir = tempfile::tempdir().expect("service dir");
        std::fs::write(dir.path().join("serverless.yml"), manifest).expect("manifest");
        std::fs::write(dir.path().join("handler.py"), HANDLER).expect("handler");
        if !requirements.is_empty() {
            std::fs::write(dir.path().join("requirements.txt"), requirements)
                .expect("requirements");
        }
        Service {
            dir,
            cache: tempfile::tempdir().expect("cache dir"),
            env: Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> common::Run {
        let cache = self.cache.path().display().to_string();
        let mut env: Vec<(&str, &str)> = vec![("XDG_CACHE_HOME", cache.as_str())];
        env.extend(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        common::updraft(self.path(), args, &env)
    }

    fn package_ok(&self) -> common::Run {
        let run = self.run(&["package"]);
        assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
        run
    }

    fn zip(&self, name: &str) -> Vec<String> {
        unzip(&artifact(self.path(), name)).into_keys().collect()
    }

    /// The entries of the requirements cache (published installs and leftovers alike).
    fn cache_entries(&self) -> Vec<String> {
        let root = self.cache.path().join("updraft/python-requirements");
        std::fs::read_dir(root)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs pip through a wrapper that records each call in the returned log.
    fn record_python_calls(&mut self) -> PathBuf {
        let log = self.cache.path().join("python-calls.log");
        let wrapper = self.cache.path().join("python-wrapper");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec python3 \"$@\"\n",
                log.display()
            ),
        )
        .expect("wrapper");
        make_executable(&wrapper);
        self.env
            .push(("UPDRAFT_PYTHON".into(), wrapper.display().to_string()));
        log
    }
}

/// The diagnostic's words on one line: miette wraps long messages.
fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn manifest(functions: &str, custom: &str) -> String {
    format!(
        "service: pydemo\nprovider:\n  name: aws\n  runtime: python3.12\n  region: eu-west-1\n\
         plugins:\n  - serverless-python-requirements\n{custom}functions:\n{functions}"
    )
}

const ONE_FUNCTION: &str = "  hello:\n    handler: handler.main\n";
const BOTH_PACKAGES: &str = "attrs==23.2.0\nmarkupsafe==2.1.5\n";

/// The `Tag:` lines of a distribution's WHEEL file in the zip.
fn wheel_tags(zip: &Path, distribution: &str) -> Vec<String> {
    let entries = unzip(zip);
    let (_, wheel) = entries
        .iter()
        .find(|(name, _)| name.starts_with(distribution) && name.ends_with(".dist-info/WHEEL"))
        .unwrap_or_else(|| panic!("no {distribution} WHEEL in {}", zip.display()));
    String::from_utf8_lossy(&wheel.content)
        .lines()
        .filter_map(|line| line.strip_prefix("Tag: ").map(str::to_string))
        .collect()
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn each_function_gets_wheels_for_its_architecture_and_python_version() {
    let service = Service::new(
        &manifest(
            "  intel:\n    handler: handler.main\n\
             \x20 graviton:\n    handler: handler.main\n    runtime: python3.11\n    architecture: arm64\n",
            "",
        ),
        BOTH_PACKAGES,
    );
    service.package_ok();
    for (zip, python, machine) in [
        ("intel.zip", "cp312", "x86_64"),
        ("graviton.zip", "cp311", "aarch64"),
    ] {
        let path = artifact(service.path(), zip);
        let tags = wheel_tags(&path, "MarkupSafe");
        assert!(!tags.is_empty(), "{zip}: no tags");
        for tag in &tags {
            assert!(
                tag.starts_with(&format!("{python}-{python}-manylinux")),
                "{zip}: {tag}"
            );
            assert!(tag.ends_with(machine), "{zip}: {tag}");
        }
        assert_eq!(wheel_tags(&path, "attrs"), vec!["py3-none-any"], "{zip}");
        let names = service.zip(zip);
        let library = format!(
            "markupsafe/_speedups.cpython-{}-{machine}-linux-gnu.so",
            &python[2..]
        );
        assert!(names.contains(&library), "{zip} lacks {library}: {names:?}");
        assert!(names.contains(&"attrs/__init__.py".to_string()), "{zip}");
        assert!(names.contains(&"handler.py".to_string()), "{zip}");
    }
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn an_unchanged_service_repackages_from_the_cache_without_running_pip() {
    let mut service = Service::new(&manifest(ONE_FUNCTION, ""), BOTH_PACKAGES);
    let calls = service.record_python_calls();
    service.package_ok();
    let zip = artifact(service.path(), "pydemo.zip");
    let first = std::fs::read(&zip).expect("zip");
    let pip_calls = std::fs::read_to_string(&calls).expect("pip ran the first time");
    assert!(pip_calls.contains("-m pip install"), "{pip_calls}");

    std::fs::remove_dir_all(service.path().join(".serverless")).expect("clean");
    service.package_ok();
    assert_eq!(
        std::fs::read(&zip).expect("zip"),
        first,
        "the zip's bytes changed"
    );
    assert_eq!(
        std::fs::read_to_string(&calls).expect("log"),
        pip_calls,
        "Python ran again on an unchanged service"
    );

    // A changed requirements file is a new install.
    std::fs::write(service.path().join("requirements.txt"), "attrs==23.1.0\n").expect("write");
    service.package_ok();
    assert_ne!(std::fs::read_to_string(&calls).expect("log"), pip_calls);
    assert!(service
        .zip("pydemo.zip")
        .contains(&"attrs-23.1.0.dist-info/WHEEL".to_string()));
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn no_deploy_packages_are_left_out_even_when_another_requirement_pulls_them_in() {
    let service = Service::new(
        &manifest(
            ONE_FUNCTION,
            "custom:\n  pythonRequirements:\n    noDeploy:\n      - six\n      - attrs\n",
        ),
        "attrs==23.2.0\npython-dateutil==2.9.0.post0\n",
    );
    service.package_ok();
    let names = service.zip("pydemo.zip");
    assert!(
        names.iter().any(|n| n.starts_with("dateutil/")),
        "{names:?}"
    );
    for left_out in ["six.py", "attrs/", "attr/", "six-", "attrs-"] {
        assert!(
            !names.iter().any(|n| n.starts_with(left_out)),
            "{left_out} is in the zip: {names:?}"
        );
    }
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn slim_removes_metadata_and_caches_and_the_users_patterns() {
    let service = Service::new(
        &manifest(
            ONE_FUNCTION,
            "custom:\n  pythonRequirements:\n    slim: true\n    slimPatterns:\n      - '**/*.pyi'\n",
        ),
        BOTH_PACKAGES,
    );
    service.package_ok();
    let names = service.zip("pydemo.zip");
    assert!(
        names.contains(&"markupsafe/__init__.py".to_string()),
        "{names:?}"
    );
    assert!(names
        .iter()
        .any(|n| n.starts_with("markupsafe/_speedups") && n.ends_with(".so")));
    for name in &names {
        assert!(!name.contains(".dist-info/"), "{name}");
        assert!(!name.contains("__pycache__"), "{name}");
        assert!(!name.ends_with(".pyi"), "{name}");
    }
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn a_requirement_that_does_not_exist_fails_naming_it_and_leaves_nothing_behind() {
    let service = Service::new(
        &manifest(ONE_FUNCTION, ""),
        "attrs==23.2.0\nupdraft-no-such-package-xyz==1.0\n",
    );
    let run = service.run(&["package"]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    let stderr = flat(&run.stderr);
    for needle in [
        "updraft-no-such-package-xyz",
        "requirements.txt",
        "`hello`",
        "no package named",
    ] {
        assert!(stderr.contains(needle), "{needle} not in: {}", run.stderr);
    }
    let output: Vec<_> = std::fs::read_dir(service.path().join(".serverless"))
        .map(|e| e.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !output.iter().any(|n| n.to_string_lossy().ends_with(".zip")),
        "{output:?}"
    );
    assert!(
        service.cache_entries().is_empty(),
        "{:?}",
        service.cache_entries()
    );
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn a_requirement_with_only_a_source_distribution_fails_naming_it() {
    // docopt 0.6.2 is published as a source distribution only.
    let service = Service::new(&manifest(ONE_FUNCTION, ""), "docopt==0.6.2\n");
    let run = service.run(&["package"]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    let stderr = flat(&run.stderr);
    for needle in [
        "docopt==0.6.2",
        "publishes no",
        "manylinux2014_x86_64",
        "pip wheel",
    ] {
        assert!(stderr.contains(needle), "{needle} not in: {}", run.stderr);
    }
    assert!(
        service.cache_entries().is_empty(),
        "{:?}",
        service.cache_entries()
    );
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn invoke_local_imports_the_requirements_installed_for_this_machine() {
    let service = Service::new(&manifest(ONE_FUNCTION, ""), BOTH_PACKAGES);
    let run = service.run(&[
        "invoke",
        "local",
        "-f",
        "hello",
        "--data",
        r#"{"text":"<b>"}"#,
    ]);
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            run.stdout, run.stderr
        )
    });
    assert_eq!(answer["escaped"], "&lt;b&gt;");
    assert_eq!(answer["attrs"], "23.2.0");
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn no_deploy_packages_are_still_installed_for_invoke_local() {
    // Lambda's runtime provides what noDeploy usually names; this machine's Python may not.
    let service = Service::new(
        &manifest(
            ONE_FUNCTION,
            "custom:\n  pythonRequirements:\n    noDeploy:\n      - attrs\n",
        ),
        BOTH_PACKAGES,
    );
    let run = service.run(&["invoke", "local", "-f", "hello"]);
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("\"attrs\": \"23.2.0\""),
        "{}",
        run.stdout
    );
}

#[test]
#[ignore = "needs PyPI: run through scripts/test.sh"]
fn pyproject_dependencies_are_installed_without_a_lock_file() {
    let service = Service::new(&manifest(ONE_FUNCTION, ""), "");
    std::fs::write(
        service.path().join("pyproject.toml"),
        "[project]\nname = 'pydemo'\nversion = '1.0'\ndependencies = ['attrs==23.2.0']\n",
    )
    .expect("pyproject");
    service.package_ok();
    assert!(service
        .zip("pydemo.zip")
        .contains(&"attrs-23.2.0.dist-info/WHEEL".to_string()));
}

#[test]
fn requirements_are_not_installed_unless_the_plugin_is_listed_or_configured() {
    let service = Service::new(
        "service: pydemo\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  hello:\n    handler: handler.main\n",
        "updraft-no-such-package-xyz==1.0\n",
    );
    service.package_ok();
    assert_eq!(
        service.zip("pydemo.zip"),
        vec!["handler.py", "requirements.txt"]
    );
    assert!(service.cache_entries().is_empty());
}

#[test]
fn zip_and_layer_settings_are_refused_with_what_to_do_instead() {
    for (setting, needle) in [("zip: true", "slim"), ("layer: true", "layers:")] {
        let service = Service::new(
            &manifest(
                ONE_FUNCTION,
                &format!("custom:\n  pythonRequirements:\n    {setting}\n"),
            ),
            BOTH_PACKAGES,
        );
        let run = service.run(&["package"]);
        assert_eq!(run.status, Some(1), "{setting}: {}", run.stderr);
        let stderr = flat(&run.stderr);
        assert!(
            stderr.contains("custom.pythonRequirements."),
            "{}",
            run.stderr
        );
        assert!(stderr.contains(needle), "{setting}: {}", run.stderr);
    }
}

#[test]
fn ctrl_c_stops_pip_and_leaves_no_cache_entry() {
    let service = Service::new(&manifest(ONE_FUNCTION, ""), BOTH_PACKAGES);
    let started_marker = service.cache.path().join("pip-started");
    let wrapper = service.cache.path().join("slow-python");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ntouch '{}'\nexec sleep 60\n",
            started_marker.display()
        ),
    )
    .expect("wrapper");
    make_executable(&wrapper);
    let mut child = common::clean_command(env!("CARGO_BIN_EXE_updraft"), service.path())
        .arg("package")
        .env("XDG_CACHE_HOME", service.cache.path())
        .env("UPDRAFT_PYTHON", &wrapper)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("updraft starts");
    let started = Instant::now();
    while !started_marker.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "pip never started"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "updraft ended before pip started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "Ctrl-C did not stop the build"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        service.cache_entries().is_empty(),
        "{:?}",
        service.cache_entries()
    );
    assert!(!artifact(service.path(), "pydemo.zip").exists());
}

/// The folder with `uv` and `poetry` (`UPDRAFT_TEST_PYTHON_TOOLS`, set by scripts/test.sh).
fn python_tools() -> PathBuf {
    let dir = std::env::var_os("UPDRAFT_TEST_PYTHON_TOOLS")
        .map(PathBuf::from)
        .filter(|dir| dir.join("uv").is_file() && dir.join("poetry").is_file());
    dir.expect(
        "UPDRAFT_TEST_PYTHON_TOOLS does not name a folder with uv and poetry: run these tests \
         through `bash scripts/test.sh`, which installs them",
    )
}

/// PATH with the Python tools first.
fn path_with(tools: &Path) -> String {
    let mut paths = vec![tools.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths)
        .expect("a PATH")
        .to_string_lossy()
        .into_owned()
}

/// Runs `tool lock` in the service, as its user would have before packaging. The clean
/// environment keeps the machine's certificate settings: resolving asks the package index.
fn lock(service: &Service, tool: &Path) {
    let mut command = common::clean_command(tool, service.path());
    command
        .arg("lock")
        .env("PATH", path_with(tool.parent().expect("tools folder")))
        .env("XDG_CACHE_HOME", service.cache.path())
        .env("UV_NATIVE_TLS", "1");
    for variable in [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "PIP_CERT",
    ] {
        if let Some(value) = std::env::var_os(variable) {
            command.env(variable, value);
        }
    }
    let output = command.output().expect("the lock tool runs");
    assert!(
        output.status.success(),
        "{} lock failed: {}",
        tool.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

const PYPROJECT: &str = "[project]\nname = 'pydemo'\nversion = '1.0'\nrequires-python = '>=3.9'\n\
    dependencies = ['attrs==23.2.0']\n";

#[test]
#[ignore = "needs PyPI, uv and Poetry: run through scripts/test.sh"]
fn uv_and_poetry_locks_are_exported_and_installed() {
    let tools = python_tools();
    for (tool, extra) in [
        ("uv", ""),
        ("poetry", "\n[tool.poetry]\npackage-mode = false\n"),
    ] {
        let mut service = Service::new(&manifest(ONE_FUNCTION, ""), "");
        std::fs::write(
            service.path().join("pyproject.toml"),
            format!("{PYPROJECT}{extra}"),
        )
        .expect("pyproject");
        lock(&service, &tools.join(tool));
        let lock_file = format!("{tool}.lock");
        assert!(service.path().join(&lock_file).is_file(), "no {lock_file}");
        service.env.push(("PATH".into(), path_with(&tools)));
        service.package_ok();
        let names = service.zip("pydemo.zip");
        assert!(
            names.contains(&"attrs-23.2.0.dist-info/WHEEL".to_string()),
            "{tool}: {names:?}"
        );
    }
}

#[test]
fn a_uv_lock_without_uv_installed_says_what_to_install() {
    let mut service = Service::new(&manifest(ONE_FUNCTION, ""), "");
    std::fs::write(service.path().join("pyproject.toml"), PYPROJECT).expect("pyproject");
    std::fs::write(service.path().join("uv.lock"), "version = 1\n").expect("lock");
    // A PATH on which no uv can be found.
    let empty = tempfile::tempdir().expect("empty dir");
    service
        .env
        .push(("PATH".into(), empty.path().display().to_string()));
    let run = service.run(&["package"]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    let stderr = flat(&run.stderr);
    for needle in [
        "`uv`",
        "uv.lock",
        "`hello`",
        "pip install uv",
        "requirements.txt",
    ] {
        assert!(stderr.contains(needle), "{needle} not in: {}", run.stderr);
    }
    assert!(
        service.cache_entries().is_empty(),
        "{:?}",
        service.cache_entries()
    );
}
