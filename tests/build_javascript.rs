//! JavaScript and TypeScript bundles through the binary: TypeScript services packaged with the
//! service's own esbuild (serverless-esbuild) or tsc (serverless-plugin-typescript), the zips
//! unpacked and run with `node`, `invoke local` and `offline` (with `--reload`) on the same
//! builds, and the errors a user sees for broken code, bad options and a missing esbuild.
//!
//! The services get their node_modules from tests/fixtures/build-node (esbuild, typescript,
//! `ms`, `debug`), which scripts/test.sh installs with `npm ci` and names in
//! UPDRAFT_TEST_NODE_TOOLS; the tests that build are #[ignore]d for a plain `cargo test`.

mod common;
#[path = "support/offline_process.rs"]
mod offline_process;
mod package_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use offline_process::Offline;
use package_support::{artifact, names, unzip};
use serde_json::Value;

const GREET: &str = "import ms from 'ms';\n\
export function greet(name: string): string {\n  return `hello ${name}`;\n}\n\
export const wait: number = ms('2s');\n";

const HANDLER: &str = "import { greet, wait } from './lib/greet';\n\
export const handler = async (event: { name?: string }) => {\n  \
return { statusCode: 200, body: JSON.stringify({ message: greet(event.name ?? 'world'), wait }) };\n};\n";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/build-node")
}

/// The installed node_modules of the fixture: UPDRAFT_TEST_NODE_TOOLS, else the fixture's own.
/// Panics, saying how to install them, when esbuild is not there.
fn tools() -> PathBuf {
    let dir = std::env::var_os("UPDRAFT_TEST_NODE_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixture_dir().join("node_modules"));
    assert!(
        dir.join(".bin/esbuild").is_file() && dir.join(".bin/tsc").is_file(),
        "esbuild and tsc are not installed in {}: run scripts/test.sh, or `npm ci --prefix tests/fixtures/build-node`",
        dir.display()
    );
    dir
}

/// A service with `serverless.yml`, the given files and, when `with_tools`, the fixture's
/// package.json, lockfile and node_modules (hard links: nothing is copied where they can be).
fn service(manifest: &str, files: &[(&str, &str)], with_tools: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("manifest");
    for (name, content) in files {
        package_support::write(dir.path(), name, content);
    }
    if with_tools {
        for name in ["package.json", "package-lock.json"] {
            std::fs::copy(fixture_dir().join(name), dir.path().join(name)).expect("copy");
        }
        common::link_tree(&tools(), &dir.path().join("node_modules"));
    }
    dir
}

fn manifest(plugins: &str, custom: &str, functions: &str) -> String {
    format!(
        "service: bundled\nprovider:\n  name: aws\n  runtime: nodejs20.x\n{plugins}{custom}functions:\n{functions}"
    )
}

const ESBUILD: &str = "plugins:\n  - serverless-esbuild\n";
const HELLO: &str = "  hello:\n    handler: src/h.handler\n";

fn typescript_service(plugins: &str, custom: &str) -> tempfile::TempDir {
    service(
        &manifest(plugins, custom, HELLO),
        &[("src/h.ts", HANDLER), ("src/lib/greet.ts", GREET)],
        true,
    )
}

fn package(dir: &Path) -> common::Run {
    common::updraft(dir, &["package"], &[])
}

fn package_ok(dir: &Path) -> common::Run {
    let run = package(dir);
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    run
}

/// Unpacks a zip into a fresh folder and calls its `src/h.js` handler with `node`, as Lambda
/// would load it from the zip's root.
fn run_unzipped(zip: &Path, module: &str, event: &str) -> Value {
    let root = tempfile::tempdir().expect("dir");
    for (name, entry) in unzip(zip) {
        let path = root.path().join(&name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, entry.content).expect("write");
    }
    let script = format!(
        "import(require('path').resolve(process.argv[1])).then(m => (m.handler || m.default.handler)({event})).then(r => console.log(JSON.stringify(r)))"
    );
    let output = Command::new("node")
        .current_dir(root.path())
        .args(["-e", &script, module])
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().expect("a body")).expect("JSON body")
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn a_typescript_service_packages_into_a_bundle_that_runs() {
    let dir = typescript_service(ESBUILD, "");
    package_ok(dir.path());
    let zip = artifact(dir.path(), "bundled.zip");
    let files = names(&zip);
    assert_eq!(files, ["src/h.js"], "only the bundle: ms is inside it");
    let response = run_unzipped(&zip, "src/h.js", "{name: 'zip'}");
    assert_eq!(
        body(&response),
        serde_json::json!({"message": "hello zip", "wait": 2000})
    );
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn an_unchanged_service_repackages_to_the_same_bytes_and_a_change_rebuilds() {
    let dir = typescript_service(ESBUILD, "");
    package_ok(dir.path());
    let zip = artifact(dir.path(), "bundled.zip");
    let first = std::fs::read(&zip).expect("zip");
    let again = package_ok(dir.path());
    assert!(again.stderr.contains("unchanged"), "{}", again.stderr);
    assert_eq!(std::fs::read(&zip).expect("zip"), first);
    package_support::write(
        dir.path(),
        "src/lib/greet.ts",
        &GREET.replace("hello", "howdy"),
    );
    package_ok(dir.path());
    let response = run_unzipped(&zip, "src/h.js", "{}");
    assert_eq!(body(&response)["message"], "howdy world");
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn invoke_local_runs_the_bundle_and_its_stack_traces_name_the_typescript_line() {
    let functions = format!("{HELLO}  boom:\n    handler: src/boom.handler\n");
    let boom = "export const handler = async () => {\n  const n: number = 1;\n  throw new Error('boom ' + n);\n};\n";
    let dir = service(
        &manifest(ESBUILD, "", &functions),
        &[
            ("src/h.ts", HANDLER),
            ("src/lib/greet.ts", GREET),
            ("src/boom.ts", boom),
        ],
        true,
    );
    let run = common::updraft(
        dir.path(),
        &[
            "invoke",
            "local",
            "-f",
            "hello",
            "-d",
            r#"{"name":"local"}"#,
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    let response: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(body(&response)["message"], "hello local");
    let run = common::updraft(dir.path(), &["invoke", "local", "-f", "boom"], &[]);
    assert_eq!(run.status, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stdout.contains("src/boom.ts:3:"),
        "the stack trace names the TypeScript line: {}",
        run.stdout
    );
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn external_packages_go_into_node_modules_with_their_dependencies() {
    let handler = "import createDebug from 'debug';\nconst log = createDebug('h');\n\
export const handler = async () => { log('called'); return { statusCode: 200, body: JSON.stringify({ debug: typeof createDebug }) }; };\n";
    let dir = service(
        &manifest(
            ESBUILD,
            "custom:\n  esbuild:\n    external:\n      - debug\n",
            HELLO,
        ),
        &[("src/h.ts", handler)],
        true,
    );
    package_ok(dir.path());
    let zip = artifact(dir.path(), "bundled.zip");
    let files = names(&zip);
    assert!(
        files.contains(&"node_modules/debug/package.json".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"node_modules/ms/index.js".to_string()),
        "debug needs ms: {files:?}"
    );
    assert!(
        !files.iter().any(|f| f.starts_with("node_modules/esbuild/")
            || f.starts_with("node_modules/typescript/")
            || f.starts_with("node_modules/.bin/")),
        "dev tools stay out: {files:?}"
    );
    let bundle = String::from_utf8(unzip(&zip)["src/h.js"].content.clone()).expect("text");
    assert!(
        bundle.contains("require(\"debug\")"),
        "debug is loaded, not bundled"
    );
    let response = run_unzipped(&zip, "src/h.js", "{}");
    assert_eq!(body(&response)["debug"], "function");
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn serverless_plugin_typescript_compiles_with_tsc_and_keeps_production_packages() {
    let tsconfig = r#"{"compilerOptions": {"target": "ES2020", "module": "commonjs", "strict": true, "esModuleInterop": true}}"#;
    let dir = service(
        &manifest("plugins:\n  - serverless-plugin-typescript\n", "", HELLO),
        &[
            ("src/h.ts", HANDLER),
            ("src/lib/greet.ts", GREET),
            ("tsconfig.json", tsconfig),
        ],
        true,
    );
    package_ok(dir.path());
    let zip = artifact(dir.path(), "bundled.zip");
    let files = names(&zip);
    for expected in [
        "src/h.js",
        "src/lib/greet.js",
        "package.json",
        "node_modules/ms/index.js",
    ] {
        assert!(
            files.contains(&expected.to_string()),
            "{expected}: {files:?}"
        );
    }
    assert!(!files.iter().any(|f| f.ends_with(".ts")), "{files:?}");
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("node_modules/typescript/")),
        "dev dependencies stay out: {files:?}"
    );
    let response = run_unzipped(&zip, "src/h.js", "{name: 'tsc'}");
    assert_eq!(body(&response)["message"], "hello tsc");
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn a_typescript_handler_without_a_plugin_is_bundled_and_javascript_is_left_alone() {
    let functions = format!("{HELLO}  plain:\n    handler: plain.handler\n");
    let dir = service(
        &manifest("", "", &functions),
        &[
            ("src/h.ts", HANDLER),
            ("src/lib/greet.ts", GREET),
            ("plain.js", "exports.handler = async () => 'plain';\n"),
        ],
        true,
    );
    package_ok(dir.path());
    let zip = artifact(dir.path(), "bundled.zip");
    let files = names(&zip);
    // The plain function shares the artifact: the service's files are there for it, and the
    // bundle joins them.
    assert!(files.contains(&"plain.js".to_string()), "{files:?}");
    assert!(files.contains(&"src/h.js".to_string()), "{files:?}");
    let response = run_unzipped(&zip, "src/h.js", "{name: 'mixed'}");
    assert_eq!(body(&response)["message"], "hello mixed");
    assert!(
        !dir.path().join(".serverless/build/esbuild/plain").exists(),
        "the JavaScript function is not bundled"
    );
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn individually_packaged_functions_hold_only_their_own_bundle_and_named_files() {
    let functions = "  one:\n    handler: src/one.handler\n  two:\n    handler: src/two.handler\n";
    let read_template = "import { readFileSync } from 'fs';\nimport { join } from 'path';\n\
export const handler = async () => readFileSync(join(__dirname, '..', 'templates', 'page.html'), 'utf8');\n";
    let dir = service(
        &format!(
            "service: bundled\nprovider:\n  name: aws\n  runtime: nodejs20.x\n{ESBUILD}package:\n  individually: true\n  patterns:\n    - 'templates/**'\nfunctions:\n{functions}"
        ),
        &[
            ("src/one.ts", read_template),
            ("src/two.ts", "export const handler = async () => 'two';\n"),
            ("templates/page.html", "<p>page</p>"),
            ("README.md", "docs"),
        ],
        true,
    );
    package_ok(dir.path());
    assert_eq!(
        names(&artifact(dir.path(), "one.zip")),
        ["src/one.js", "templates/page.html"]
    );
    assert_eq!(
        names(&artifact(dir.path(), "two.zip")),
        ["src/two.js", "templates/page.html"]
    );
    // Locally the named file sits beside the bundle too.
    let run = common::updraft(dir.path(), &["invoke", "local", "-f", "one"], &[]);
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout.trim(), "\"<p>page</p>\"");
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn a_service_packaged_from_another_folder_into_a_relative_output_folder_builds_there() {
    let parent = tempfile::tempdir().expect("dir");
    let dir = typescript_service(ESBUILD, "");
    let service_dir = parent.path().join("service");
    std::fs::rename(dir.path(), &service_dir).expect("move the service");
    let run = common::updraft(
        parent.path(),
        &[
            "package",
            "-c",
            "service/serverless.yml",
            "--package",
            "out",
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
    let zip = parent.path().join("out/bundled.zip");
    assert_eq!(names(&zip), ["src/h.js"]);
    assert!(parent
        .path()
        .join("out/build/esbuild/hello/src/h.js")
        .is_file());
    assert!(
        !service_dir.join("out").exists(),
        "nothing written relative to the service"
    );
    let response = run_unzipped(&zip, "src/h.js", "{}");
    assert_eq!(body(&response)["message"], "hello world");
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn format_esm_writes_an_mjs_bundle_that_lambda_loads() {
    let dir = typescript_service(ESBUILD, "custom:\n  esbuild:\n    format: esm\n");
    package_ok(dir.path());
    let zip = artifact(dir.path(), "bundled.zip");
    assert_eq!(names(&zip), ["src/h.mjs"]);
    let response = run_unzipped(&zip, "src/h.mjs", "{}");
    assert_eq!(body(&response)["message"], "hello world");
    let run = common::updraft(dir.path(), &["invoke", "local", "-f", "hello"], &[]);
    assert_eq!(run.status, Some(0), "stderr: {}", run.stderr);
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn a_syntax_error_fails_naming_the_file_and_line_and_leaves_nothing_half_written() {
    let dir = typescript_service(ESBUILD, "");
    package_support::write(
        dir.path(),
        "src/lib/greet.ts",
        "export function greet(name: string): string {\n  return `hi ${name}` oops;\n}\n",
    );
    let run = package(dir.path());
    assert_eq!(run.status, Some(1), "stdout: {}", run.stdout);
    assert!(
        run.stderr.contains("src/lib/greet.ts:2:"),
        "names the file and line: {}",
        run.stderr
    );
    let output = dir.path().join(".serverless");
    assert!(!artifact(dir.path(), "bundled.zip").exists());
    let leftovers: Vec<String> = walk(&output)
        .into_iter()
        .filter(|p| p.contains(".partial") || p.ends_with(".zip"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(
        !output.join("build/esbuild/hello").exists(),
        "no build of the broken function"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        found.push(entry.path().display().to_string());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&entry.path()));
        }
    }
    found
}

#[test]
fn a_missing_esbuild_is_an_error_saying_how_to_install_it() {
    let dir = service(
        &manifest(ESBUILD, "", HELLO),
        &[("src/h.ts", HANDLER)],
        false,
    );
    insta::assert_snapshot!(common::transcript(dir.path(), &["package"], &[]));
    assert!(!artifact(dir.path(), "bundled.zip").exists());
}

#[test]
fn a_typescript_handler_with_neither_esbuild_nor_tsc_installed_is_an_error() {
    let dir = service(&manifest("", "", HELLO), &[("src/h.ts", HANDLER)], false);
    let run = common::updraft(dir.path(), &["invoke", "local", "-f", "hello"], &[]);
    assert_eq!(run.status, Some(1));
    assert!(
        run.stderr.contains("npm install --save-dev esbuild"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_option_of_the_wrong_type_is_an_error_naming_it() {
    let dir = service(
        &manifest(ESBUILD, "custom:\n  esbuild:\n    minify: often\n", HELLO),
        &[("src/h.ts", HANDLER)],
        false,
    );
    insta::assert_snapshot!(common::transcript(dir.path(), &["package"], &[]));
}

#[test]
fn a_handler_without_its_file_is_an_error_listing_what_was_tried() {
    let dir = service(&manifest(ESBUILD, "", HELLO), &[], false);
    let run = package(dir.path());
    assert_eq!(run.status, Some(1));
    assert!(run.stderr.contains("src/h.ts, src/h.tsx"), "{}", run.stderr);
}

/// `updraft offline --reload` in `dir`, stopped with SIGINT when dropped.
fn offline_reloading(dir: &Path) -> Offline {
    Offline::start_with(dir, "serverless.yml", &["--reload"])
}

#[test]
#[ignore = "needs esbuild and typescript from npm: scripts/test.sh installs them"]
fn offline_serves_the_bundle_and_reload_rebuilds_it_keeping_the_old_one_on_errors() {
    let functions =
        "  hello:\n    handler: src/h.handler\n    events:\n      - httpApi: GET /hello\n";
    let dir = service(
        &manifest(ESBUILD, "", functions),
        &[("src/h.ts", HANDLER), ("src/lib/greet.ts", GREET)],
        true,
    );
    let mut offline = offline_reloading(dir.path());
    assert_eq!(offline.get_json("/hello")["message"], "hello world");
    package_support::write(
        dir.path(),
        "src/lib/greet.ts",
        &GREET.replace("hello", "howdy"),
    );
    assert!(
        offline.wait_for_within("reloaded hello", Duration::from_secs(30)),
        "no reload:\n{}",
        offline.seen.join("\n")
    );
    assert_eq!(offline.get_json("/hello")["message"], "howdy world");
    package_support::write(
        dir.path(),
        "src/lib/greet.ts",
        "export function greet(name: string): string {\n  return `hi ${name}` oops;\n}\n",
    );
    assert!(
        offline.wait_for_within(
            "rebuilding after the change failed",
            Duration::from_secs(30)
        ),
        "no rebuild error:\n{}",
        offline.seen.join("\n")
    );
    offline.wait_for_within("src/lib/greet.ts:2:", Duration::from_secs(5));
    assert!(
        offline
            .seen
            .iter()
            .any(|l| l.contains("src/lib/greet.ts:2:")),
        "{}",
        offline.seen.join("\n")
    );
    assert_eq!(
        offline.get_json("/hello")["message"],
        "howdy world",
        "the previous build keeps answering"
    );
}

/// The node_modules of a service that installed only `tsx` (tests/fixtures/typescript-config,
/// which scripts/test.sh installs): tsx brings its own esbuild, and nothing else.
fn tsx_only_tools() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/typescript-config/node_modules");
    assert!(
        dir.join(".bin/tsx").is_file(),
        "tsx is not installed in {}: run scripts/test.sh, or `npm ci --prefix tests/fixtures/typescript-config`",
        dir.display()
    );
    dir
}

const FAILING: &str = "type Order = { id: number };\n\
export const handler = async (event: { queryStringParameters?: { id?: string } }) => {\n  \
const order: Order = { id: Number(event.queryStringParameters?.id ?? 0) };\n  \
if (order.id < 0) {\n    throw new Error(`no order ${order.id}`);\n  }\n  \
return { statusCode: 200, body: JSON.stringify(order) };\n};\n";

#[test]
#[ignore = "needs tsx from npm: scripts/test.sh installs it"]
fn offline_runs_typescript_with_only_tsx_installed_and_logs_the_typescript_line_of_an_error() {
    let functions =
        "  order:\n    handler: src/order.handler\n    events:\n      - httpApi: GET /order\n";
    let dir = service(
        &manifest("", "", functions),
        &[("src/order.ts", FAILING)],
        false,
    );
    common::link_tree(&tsx_only_tools(), &dir.path().join("node_modules"));
    let mut offline = offline_reloading(dir.path());
    assert_eq!(offline.get_json("/order?id=7")["id"], 7);
    let failed = ureq::get(&offline.url("/order?id=-1")).call();
    assert!(
        matches!(failed, Err(ureq::Error::Status(502, _))),
        "a handler error answers 502: {failed:?}"
    );
    // The error's stack in the emulator's log names the TypeScript source and line, not the
    // bundle's.
    assert!(
        offline.wait_for_within("src/order.ts:5", Duration::from_secs(10)),
        "no TypeScript line:\n{}",
        offline.seen.join("\n")
    );
}
