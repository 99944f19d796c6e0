//! JavaScript and TypeScript configuration through the `updraft print` CLI, with the real Node.js
//! on `PATH`: `${file(x.js)}` (function exports, their callbacks into the resolver, ES modules)
//! and `serverless.js`/`serverless.ts` manifests, then the failures: a module that throws, one
//! that never settles, a value JSON cannot hold, and no Node.js at all.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

const MANIFEST: &str = "service: js-config
provider:
  name: aws
  runtime: nodejs20.x
  stage: ${opt:stage, 'dev'}
functions:
  hello:
    handler: handler.hello
";

/// A scratch service: `serverless.yml` with `custom` (YAML lines, indented two spaces) after
/// [`MANIFEST`], plus `files`.
fn service(custom: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!("{MANIFEST}custom:\n{custom}");
    std::fs::write(dir.path().join("serverless.yml"), manifest).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `custom` as `print --format json` resolves it.
fn custom(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Json {
    let mut all = vec!["print", "--format", "json", "--path", "custom"];
    all.extend(args);
    let run = common::updraft(dir, &all, env);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The transcript of a failing `print`, with the scratch directory's path taken out.
fn failure(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let run = common::updraft(dir, &["print"], env);
    assert!(
        run.stdout.is_empty(),
        "printed a configuration: {}",
        run.stdout
    );
    let stderr = run.stderr.replace(&dir.display().to_string(), "[SERVICE]");
    (run.status, stderr)
}

/// Text with miette's line wrapping undone: every run of spaces, newlines and `│` becomes one
/// space.
fn flat(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '│')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_function_export_gets_the_cli_options() {
    let dir = service(
        "  fromFn: ${file(./config.js):fn}\n  plain: ${file(./config.js):plain}\n",
        &[(
            "config.js",
            "module.exports = { plain: 'js-plain', \
             fn: ({ options }) => `js-fn-${options.stage || 'none'}` };",
        )],
    );
    assert_eq!(
        custom(dir.path(), &["--stage", "dev"], &[]),
        json!({"fromFn": "js-fn-dev", "plain": "js-plain"})
    );
}

#[test]
fn an_async_function_is_awaited_and_its_address_walked() {
    let dir = service(
        "  whole: ${file(./config.js)}\n  deep: ${file(./config.js):db.port}\n",
        &[(
            "config.js",
            "module.exports = async () => { \
               await new Promise((resolve) => setTimeout(resolve, 20)); \
               return { db: { host: 'localhost', port: 5432 }, skipped: undefined }; };",
        )],
    );
    assert_eq!(
        custom(dir.path(), &[], &[]),
        json!({"whole": {"db": {"host": "localhost", "port": 5432}}, "deep": 5432})
    );
}

/// The callbacks reach the resolver: `provider.stage` is itself a variable, resolved before the
/// function's answer (the function runs again once it is).
#[test]
fn a_function_resolves_variables_and_properties_through_updraft() {
    let dir = service(
        "  viaVariable: ${file(./config.js):viaVariable}\n  viaProperty: \
         ${file(./config.js):viaProperty}\n  fallback: ${file(./config.js):nothing, 'none'}\n",
        &[(
            "config.js",
            "module.exports = { \
               viaVariable: async ({ resolveVariable }) => \
                 `stage-${await resolveVariable('self:provider.stage')}`, \
               viaProperty: ({ resolveConfigurationProperty }) => \
                 resolveConfigurationProperty(['provider', 'stage']), \
               nothing: () => undefined };",
        )],
    );
    assert_eq!(
        custom(dir.path(), &["--stage", "prod"], &[]),
        json!({"viaVariable": "stage-prod", "viaProperty": "prod", "fallback": "none"})
    );
}

#[test]
fn es_modules_give_their_default_or_named_exports() {
    let dir = service(
        "  named: ${file(./named.mjs):greeting}\n  default: ${file(./default.mjs):list.1}\n",
        &[
            (
                "named.mjs",
                "export const greeting = ({ options }) => `hi ${options.stage}`;",
            ),
            ("default.mjs", "export default { list: ['a', 'b'] };"),
        ],
    );
    assert_eq!(
        custom(dir.path(), &["--stage", "qa"], &[]),
        json!({"named": "hi qa", "default": "b"})
    );
}

/// What the module prints is not part of the output.
#[test]
fn a_module_output_stays_out_of_a_successful_run() {
    let dir = service(
        "  value: ${file(./noisy.js)}\n",
        &[(
            "noisy.js",
            "console.log('NOISE-OUT'); console.error('NOISE-ERR'); module.exports = 'quiet';",
        )],
    );
    let run = common::updraft(dir.path(), &["print", "--path", "custom"], &[]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "value: quiet\n");
    assert!(!run.stderr.contains("NOISE"), "{}", run.stderr);
}

#[test]
fn a_javascript_manifest_is_its_export() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("serverless.js"),
        "const stage = '${opt:stage, \"dev\"}';\n\
         module.exports = Promise.resolve({\n\
           service: 'from-js',\n\
           provider: { name: 'aws', runtime: 'nodejs20.x', stage },\n\
           functions: { hello: { handler: 'handler.hello', memorySize: '${env:MEMORY, 512}' } },\n\
         });\n",
    )
    .unwrap();
    insta::assert_snapshot!(common::transcript(
        dir.path(),
        &["print", "--stage", "prod"],
        &[]
    ));
}

/// Errors in a manifest's configuration point at the exported JSON, named as such.
#[test]
fn an_error_in_a_javascript_manifest_points_at_its_export() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("serverless.mjs"),
        "export default { service: 'x', provider: { name: 'aws' }, \
         custom: { region: '${env:JS_CONFIG_UNSET}' } };",
    )
    .unwrap();
    let (status, stderr) = failure(dir.path(), &[]);
    assert_eq!(status, Some(1));
    assert!(
        flat(&stderr).contains("\"custom.region\" (serverless.mjs export:7:15)"),
        "{stderr}"
    );
}

fn typescript_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/typescript-config")
}

#[test]
#[ignore = "needs tests/fixtures/typescript-config/node_modules (scripts/test.sh installs tsx)"]
fn a_typescript_manifest_runs_through_the_service_tsx() {
    let fixture = typescript_fixture();
    assert!(
        fixture.join("node_modules/.bin/tsx").is_file(),
        "run `npm ci --prefix tests/fixtures/typescript-config` (scripts/test.sh does)"
    );
    let run = common::updraft(
        &fixture,
        &["print", "--format", "json", "--stage", "qa"],
        &[],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let config: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(config["service"], "typescript-config");
    assert_eq!(config["functions"]["hello"]["memorySize"], 256);
    assert_eq!(config["custom"]["fromModule"], "hello from qa");
}

/// Without tsx or ts-node, Node.js strips types itself from 22.6 on; before, the error says
/// what to install.
#[test]
fn a_typescript_manifest_without_a_loader_needs_type_stripping() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["serverless.ts", "settings.ts"] {
        std::fs::copy(typescript_fixture().join(file), dir.path().join(file)).unwrap();
    }
    let version = std::process::Command::new("node")
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let mut numbers = version.trim().trim_start_matches('v').split('.');
    let mut next = || numbers.next().and_then(|n| n.parse::<u32>().ok());
    let strips_types = (next().unwrap(), next().unwrap()) >= (22, 6);
    let run = common::updraft(dir.path(), &["print", "--format", "json"], &[]);
    if strips_types {
        assert_eq!(run.status, Some(0), "{}", run.stderr);
        assert!(run.stdout.contains("typescript-config"), "{}", run.stdout);
    } else {
        assert_eq!(run.status, Some(1));
        let stderr = flat(&run.stderr);
        assert!(
            stderr.contains("needs a TypeScript loader to evaluate serverless.ts"),
            "{stderr}"
        );
        assert!(stderr.contains("npm install --save-dev tsx"), "{stderr}");
    }
}

#[test]
fn a_module_that_throws_names_the_file_and_the_message() {
    let dir = service(
        "  value: ${file(./broken.js):key}\n",
        &[(
            "broken.js",
            "const a = 1;\nthrow new Error('no config for you');\n",
        )],
    );
    let (status, stderr) = failure(dir.path(), &[]);
    assert_eq!(status, Some(1));
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_module_that_never_settles_is_stopped_at_the_time_limit() {
    let dir = service(
        "  value: ${file(./hangs.js):fn}\n",
        &[(
            "hangs.js",
            "module.exports = { fn: () => new Promise(() => {}) };",
        )],
    );
    let started = std::time::Instant::now();
    let (status, stderr) = failure(dir.path(), &[("UPDRAFT_JS_CONFIG_TIMEOUT_SECONDS", "1")]);
    assert_eq!(status, Some(1));
    assert!(
        flat(&stderr).contains("hangs.js did not finish within 1 s"),
        "{stderr}"
    );
    assert!(stderr.contains("serverless.yml:"), "{stderr}");
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn a_value_json_cannot_hold_is_a_clear_error() {
    let dir = service(
        "  big: ${file(./values.js):big}\n  loop: ${file(./values.js):loop}\n",
        &[(
            "values.js",
            "const loop = {}; loop.self = loop; module.exports = { big: 10n, loop };",
        )],
    );
    let (status, stderr) = failure(dir.path(), &[]);
    assert_eq!(status, Some(1));
    for expected in [
        "Cannot resolve \"values.js\": the value is not JSON data",
        "Do not know how to serialize a BigInt",
        "Converting circular structure to JSON",
    ] {
        assert!(flat(&stderr).contains(expected), "{expected}: {stderr}");
    }
}

#[test]
fn without_node_the_error_says_to_install_it() {
    let dir = service(
        "  value: ${file(./config.js)}\n",
        &[("config.js", "module.exports = 1;")],
    );
    let (status, stderr) = failure(dir.path(), &[("UPDRAFT_NODE", "/nonexistent")]);
    assert_eq!(status, Some(1));
    insta::assert_snapshot!(stderr);
}
