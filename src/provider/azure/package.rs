//! The Function App package: the one zip Azure runs a service from, in the classic (function.json)
//! programming model. It owns what updraft writes beside the packaged code — `host.json` at the
//! root and `{function}/function.json` for each function — the hash that identifies the
//! deployed code ([`code_hash`]), and the zip itself ([`build`]): the service's artifacts merged
//! raw (see [`crate::package::extend`]) plus the generated files, all at the root, sorted.
//!
//! ```text
//! host.json                 {"extensionBundle": {...}, "functionTimeout"?: "00:05:00", "version": "2.0"}
//! hello/function.json       {"bindings": [...], "entryPoint": "sayHello", "scriptFile": "../src/handlers/hello.js"}
//! src/handlers/hello.js     (the artifacts' files, as packaged)
//! ```
//!
//! What `function.json` points to depends on the runtime:
//! - `node`: handler `path/file.export` runs `export` of `../path/file.js` (or `.mjs`, `.cjs`:
//!   whichever the artifacts hold, in that order).
//! - `python`: handler `pkg.mod.fn` (or `pkg/mod.fn`) runs `fn` of `../pkg/mod.py`.
//! - `powershell`: the handler is the script's path (`hello/run.ps1`), run as
//!   `../hello/run.ps1`; no entry point.
//! - `dotnet-isolated`, `java`: bindings only. Their workers find functions from the built
//!   assemblies or jars, not from `scriptFile`, so the handler is not checked.
//!
//! A handler file missing from the artifacts, a function name Azure refuses and a generated
//! file the artifacts already hold are errors at plan time. Everything here is pure except
//! [`build`] and [`build_from_paths`], which write the zip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use super::app::{AppSpec, FunctionSpec};
use crate::package::extend::{self, Written};
use crate::package::{Artifact, PackageError};
use crate::provider::ProviderError;

/// The host's configuration, at the package's root.
pub const HOST_JSON: &str = "host.json";
/// Each function's bindings, in a folder named after the function.
pub const FUNCTION_JSON: &str = "function.json";
/// The extension bundle (the binding extensions of non-.NET apps) `host.json` asks for.
const EXTENSION_BUNDLE: &str = "Microsoft.Azure.Functions.ExtensionBundle";
const EXTENSION_BUNDLE_VERSION: &str = "[4.*, 5.0.0)";
/// Node script extensions, in the order they are looked for.
const NODE_EXTENSIONS: &[&str] = &["js", "mjs", "cjs"];
/// Azure's longest function name.
const NAME_MAX: usize = 127;
/// What the hash of the code starts with: a change here is a change of every app's code.
const HASH_VERSION: &str = "updraft azure package 1";

/// `host.json` and each function's `function.json` (`{key}/function.json`), sorted by name,
/// as pretty-printed JSON with sorted keys and a final newline. `artifact_files` are the names
/// inside the artifacts: a handler's file must be among them, and no generated name may be.
pub fn generated_files(
    app: &AppSpec,
    artifact_files: &[String],
) -> Result<Vec<(String, Vec<u8>)>, ProviderError> {
    let files: BTreeSet<&str> = artifact_files.iter().map(String::as_str).collect();
    let mut generated = vec![(HOST_JSON.to_string(), json_bytes(&host_json(app)))];
    let mut names: BTreeMap<String, &str> = BTreeMap::new();
    for function in &app.functions {
        check_name(&function.key)?;
        // Azure compares function names without case: `Hello` and `hello` are one function.
        if let Some(other) = names.insert(function.key.to_lowercase(), &function.key) {
            return Err(ProviderError::Invalid {
                message: format!(
                    "functions `{other}` and `{}` differ only in case, and Azure function names do not",
                    function.key
                ),
                span: None,
                help: "rename one of them".into(),
            });
        }
        let mut object = Map::new();
        object.insert("bindings".into(), Json::Array(function.bindings.clone()));
        if let Some(entry) = entry(app.runtime.name, function, &files)? {
            object.insert("scriptFile".into(), json!(format!("../{}", entry.file)));
            if let Some(point) = entry.point {
                object.insert("entryPoint".into(), json!(point));
            }
        }
        let name = format!("{}/{FUNCTION_JSON}", function.key);
        generated.push((name, json_bytes(&Json::Object(object))));
    }
    if let Some((name, _)) = generated
        .iter()
        .find(|(name, _)| files.contains(name.as_str()))
    {
        return Err(ProviderError::Invalid {
            message: format!(
                "the packaged code holds `{name}`, which updraft writes from the manifest"
            ),
            span: None,
            help: format!(
                "leave it out of the package (`package.patterns: ['!{name}']`): the timeout comes from `timeout`, the bindings from the function's `events`"
            ),
        });
    }
    generated.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(generated)
}

/// The sha256 (hex) of what Azure runs: the artifacts' sha256s (sorted, so their order does
/// not count) and the generated files' names and bytes, so that a changed binding, handler or
/// timeout is new code as much as a changed artifact is.
pub fn code_hash(app: &AppSpec, artifacts: &[&Artifact]) -> Result<String, ProviderError> {
    let generated = generated_files(app, &artifact_files(artifacts))?;
    let mut shas: Vec<&str> = artifacts.iter().map(|a| a.sha256.as_str()).collect();
    shas.sort_unstable();
    shas.dedup();
    let mut hasher = Sha256::new();
    hasher.update(HASH_VERSION.as_bytes());
    hasher.update(b"\n");
    for sha in shas {
        hasher.update(format!("artifact {sha}\n").as_bytes());
    }
    for (name, bytes) in &generated {
        hasher.update(format!("file {} {name}\n", bytes.len()).as_bytes());
        hasher.update(bytes);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Writes the package to `destination`: the artifacts' entries (merged in the order of their
/// sha256, so the bytes depend only on which artifacts they are) plus the generated files. An
/// identical zip already there is left untouched.
pub fn build(
    app: &AppSpec,
    artifacts: &[&Artifact],
    destination: &Path,
) -> Result<Written, ProviderError> {
    let mut ordered: Vec<&Artifact> = artifacts.to_vec();
    ordered.sort_by(|a, b| a.sha256.cmp(&b.sha256).then_with(|| a.path.cmp(&b.path)));
    ordered.dedup_by(|a, b| a.path == b.path);
    let generated = generated_files(app, &artifact_files(&ordered))?;
    let sources: Vec<&Path> = ordered.iter().map(|a| a.path.as_path()).collect();
    extend::merge_zips(&sources, &generated, destination)
        .map_err(|error| package_error(app, destination, error))
}

/// [`build`] from the artifacts' paths alone (what a deploy step records): their entry names
/// are read from the zips. The zips are merged in the order of their paths.
pub fn build_from_paths(
    app: &AppSpec,
    paths: &[PathBuf],
    destination: &Path,
) -> Result<Written, ProviderError> {
    let mut ordered: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    ordered.sort();
    ordered.dedup();
    let mut files = Vec::new();
    for path in &ordered {
        let names =
            extend::entry_names(path).map_err(|error| package_error(app, destination, error))?;
        files.extend(names);
    }
    let generated = generated_files(app, &files)?;
    extend::merge_zips(&ordered, &generated, destination)
        .map_err(|error| package_error(app, destination, error))
}

fn artifact_files(artifacts: &[&Artifact]) -> Vec<String> {
    artifacts
        .iter()
        .flat_map(|artifact| artifact.files.iter().cloned())
        .collect()
}

/// `host.json` as Microsoft documents it: schema 2.0, the extension bundle, and the timeout
/// when the manifest sets one.
fn host_json(app: &AppSpec) -> Json {
    let mut host = Map::new();
    host.insert("version".into(), json!("2.0"));
    host.insert(
        "extensionBundle".into(),
        json!({"id": EXTENSION_BUNDLE, "version": EXTENSION_BUNDLE_VERSION}),
    );
    if let Some(timeout) = &app.function_timeout {
        host.insert("functionTimeout".into(), json!(timeout));
    }
    Json::Object(host)
}

/// Pretty-printed, keys sorted at every level, with a final newline.
fn json_bytes(value: &Json) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

fn sorted(value: &Json) -> Json {
    match value {
        Json::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                if let Some(inner) = object.get(key) {
                    out.insert(key.clone(), sorted(inner));
                }
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Azure's rule for function names: a letter, then letters, digits, `_` and `-`, at most 127.
fn check_name(key: &str) -> Result<(), ProviderError> {
    let valid = key.len() <= NAME_MAX
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        return Ok(());
    }
    Err(ProviderError::Invalid {
        message: format!("function `{key}` has a name Azure Functions refuses"),
        span: None,
        help: format!(
            "an Azure function name starts with a letter and holds only letters, digits, `_` and `-`, at most {NAME_MAX} characters: rename the function in the manifest"
        ),
    })
}

/// What `function.json` runs: the script (relative to the package's root) and its export.
struct Entry {
    file: String,
    point: Option<String>,
}

fn entry(
    runtime: &str,
    function: &FunctionSpec,
    files: &BTreeSet<&str>,
) -> Result<Option<Entry>, ProviderError> {
    let key = &function.key;
    let handler = function.handler.trim();
    let written = handler.trim_start_matches("./");
    let split = || {
        written
            .rsplit_once('.')
            .filter(|(module, export)| !module.is_empty() && !export.is_empty())
            .ok_or_else(|| ProviderError::Invalid {
                message: format!(
                    "the handler `{handler}` of function `{key}` is not `file.function`"
                ),
                span: None,
                help: match runtime {
                    "python" => "write the handler as `module.function`, e.g. `handler.hello` or `pkg.mod.hello`".into(),
                    _ => "write the handler as `path/to/file.export`, e.g. `src/handlers/hello.sayHello`".into(),
                },
            })
    };
    let missing = |file: &str, also: &str| {
        ProviderError::Invalid {
        message: format!(
            "the handler `{handler}` of function `{key}` needs `{file}`{also}, which is not in the packaged code"
        ),
        span: None,
        help: "fix the handler, or check `package.patterns`: the file must be packaged".into(),
    }
    };
    let entry = match runtime {
        "node" => {
            let (module, export) = split()?;
            let has_extension = NODE_EXTENSIONS
                .iter()
                .any(|extension| module.ends_with(&format!(".{extension}")));
            let as_written = has_extension.then(|| module.to_string());
            let candidates = as_written.into_iter().chain(
                NODE_EXTENSIONS
                    .iter()
                    .map(|extension| format!("{module}.{extension}")),
            );
            let mut candidates = candidates.collect::<Vec<_>>();
            let Some(file) = candidates
                .iter()
                .position(|file| files.contains(file.as_str()))
                .map(|at| candidates.swap_remove(at))
            else {
                return Err(missing(&format!("{module}.js"), " (or `.mjs`, `.cjs`)"));
            };
            Entry {
                file,
                point: Some(export.to_string()),
            }
        }
        "python" => {
            let (module, function_name) = split()?;
            let file = format!("{}.py", module.replace('.', "/"));
            if !files.contains(file.as_str()) {
                return Err(missing(&file, ""));
            }
            Entry {
                file,
                point: Some(function_name.to_string()),
            }
        }
        "powershell" => {
            if written.is_empty() || !files.contains(written) {
                let file = if written.is_empty() {
                    "run.ps1"
                } else {
                    written
                };
                return Err(missing(file, ""));
            }
            Entry {
                file: written.to_string(),
                point: None,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(entry))
}

/// A merge that failed, said as the deploy's problem.
fn package_error(app: &AppSpec, destination: &Path, error: PackageError) -> ProviderError {
    let kind = match &error {
        PackageError::Read { source, .. } | PackageError::Write { source, .. } => {
            Some(source.kind())
        }
        _ => None,
    };
    let message = format!(
        "cannot build the package of Function App `{}`: {error}",
        app.name
    );
    match kind {
        Some(std::io::ErrorKind::AlreadyExists) => ProviderError::Invalid {
            message,
            span: None,
            help: "Azure runs one package per Function App, so the artifacts are merged into one zip: give a file one content in every artifact, or package the service as one artifact".into(),
        },
        Some(std::io::ErrorKind::InvalidData) => ProviderError::Invalid {
            message,
            span: None,
            help: "run `updraft package` again; for a prebuilt `package.artifact`, rebuild it with a zip tool that writes sizes in the headers, without zip64".into(),
        },
        _ => ProviderError::Call {
            operation: "build the Function App package".into(),
            resource: destination.display().to_string(),
            message: error.to_string(),
            help: miette::Diagnostic::help(&error)
                .map(|help| help.to_string())
                .unwrap_or_else(|| "run `updraft package` again".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::manifest::model::Service;
    use crate::manifest::node::Node;
    use crate::manifest::source::Span;

    /// The app of a one-function service (`hello`, an HTTP trigger) on `runtime`.
    fn app(runtime: &str, handler: &str) -> AppSpec {
        let manifest = json!({
            "service": "shop",
            "provider": {"name": "azure", "runtime": runtime, "region": "West US 2"},
            "functions": {"hello": {"handler": handler, "events": [{"http": true, "methods": ["GET"], "route": "hello"}]}},
        });
        let service = Service::from_tree(&Node::from_json(&manifest, Span::default()))
            .unwrap_or_else(|error| panic!("{error}"));
        super::super::app::read(&service).expect("reads").app
    }

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn function_json(generated: &[(String, Vec<u8>)], name: &str) -> Json {
        let (_, bytes) = generated
            .iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("no {name}"));
        serde_json::from_slice(bytes).expect("json")
    }

    fn message_and_help(error: &ProviderError) -> String {
        let help = miette::Diagnostic::help(error)
            .map(|help| help.to_string())
            .unwrap_or_default();
        format!("{error} / {help}")
    }

    /// An artifact zip holding `entries`, as `updraft package` describes it.
    fn artifact(dir: &Path, name: &str, entries: &[(&str, &str)], functions: &[&str]) -> Artifact {
        let path = dir.join(name);
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
        for (file, content) in entries {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            writer.start_file(*file, options).expect("start");
            writer.write_all(content.as_bytes()).expect("write");
        }
        writer.finish().expect("finish");
        let bytes = std::fs::read(&path).expect("read");
        Artifact {
            path,
            name: name.to_string(),
            functions: functions.iter().map(|f| f.to_string()).collect(),
            layer: None,
            sha256: hex::encode(Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            unzipped_bytes: None,
            files: entries.iter().map(|(file, _)| file.to_string()).collect(),
            prebuilt: false,
            rewritten: true,
            secrets_left_out: Vec::new(),
            milliseconds: 0,
        }
    }

    #[test]
    fn a_node_function_runs_its_export_of_the_file_the_artifact_holds() {
        let app = app("nodejs20", "src/handlers/hello.sayHello");
        let generated = generated_files(&app, &files(&["package.json", "src/handlers/hello.mjs"]))
            .expect("generated");
        let names: Vec<&str> = generated.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["hello/function.json", "host.json"]);
        let function = function_json(&generated, "hello/function.json");
        assert_eq!(function["scriptFile"], "../src/handlers/hello.mjs");
        assert_eq!(function["entryPoint"], "sayHello");
        assert_eq!(
            function["bindings"],
            Json::Array(app.functions[0].bindings.clone())
        );
        assert_eq!(function["bindings"][0]["type"], "httpTrigger");
        assert_eq!(function["bindings"][1]["type"], "http");
        let text = String::from_utf8(generated[0].1.clone()).expect("utf-8");
        assert!(
            text.starts_with("{\n  \"bindings\": [\n    {\n      \"authLevel\""),
            "{text}"
        );
        let entry = text.find("\"entryPoint\"").expect("entryPoint");
        let script = text.find("\"scriptFile\"").expect("scriptFile");
        assert!(
            entry < script && text.ends_with("}\n"),
            "keys sorted: {text}"
        );
        // `.js` is taken before `.mjs` when both are there.
        let both = generated_files(
            &app,
            &files(&["src/handlers/hello.js", "src/handlers/hello.mjs"]),
        )
        .expect("generated");
        let function = function_json(&both, "hello/function.json");
        assert_eq!(function["scriptFile"], "../src/handlers/hello.js");
    }

    #[test]
    fn host_json_has_the_bundle_and_the_timeout() {
        let mut app = app("nodejs20", "handler.hello");
        let generated = generated_files(&app, &files(&["handler.js"])).expect("generated");
        let host = String::from_utf8(generated[1].1.clone()).expect("utf-8");
        assert_eq!(
            host,
            "{\n  \"extensionBundle\": {\n    \"id\": \"Microsoft.Azure.Functions.ExtensionBundle\",\n    \"version\": \"[4.*, 5.0.0)\"\n  },\n  \"version\": \"2.0\"\n}\n"
        );
        app.function_timeout = Some("00:05:00".into());
        let generated = generated_files(&app, &files(&["handler.js"])).expect("generated");
        let host = function_json(&generated, "host.json");
        assert_eq!(host["functionTimeout"], "00:05:00");
        assert_eq!(host["version"], "2.0");
    }

    #[test]
    fn a_python_handler_names_a_dotted_module() {
        let app = app("python3.11", "pkg.mod.fn");
        let generated =
            generated_files(&app, &files(&["pkg/__init__.py", "pkg/mod.py"])).expect("generated");
        let function = function_json(&generated, "hello/function.json");
        assert_eq!(function["scriptFile"], "../pkg/mod.py");
        assert_eq!(function["entryPoint"], "fn");
        let simple = generated_files(
            &super::tests::app("python3.11", "handler.hello"),
            &files(&["handler.py"]),
        )
        .expect("generated");
        let function = function_json(&simple, "hello/function.json");
        assert_eq!(function["scriptFile"], "../handler.py");
        assert_eq!(function["entryPoint"], "hello");
    }

    #[test]
    fn powershell_runs_the_script_and_dotnet_has_bindings_only() {
        let app = app("powershell7.4", "hello/run.ps1");
        let generated = generated_files(&app, &files(&["hello/run.ps1"])).expect("generated");
        let function = function_json(&generated, "hello/function.json");
        assert_eq!(function["scriptFile"], "../hello/run.ps1");
        assert!(function.get("entryPoint").is_none());
        let app = super::tests::app("dotnet8", "Shop.Hello.Run");
        let generated = generated_files(&app, &files(&["Shop.dll"])).expect("generated");
        let function = function_json(&generated, "hello/function.json");
        let keys: Vec<&String> = function.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["bindings"]);
    }

    #[test]
    fn a_handler_whose_file_is_not_packaged_is_an_error_naming_it() {
        let app = app("nodejs20", "src/handlers/hello.sayHello");
        let error = generated_files(&app, &files(&["src/other.js"])).expect_err("refused");
        let text = message_and_help(&error);
        assert!(text.contains("`hello`"), "{text}");
        assert!(text.contains("`src/handlers/hello.sayHello`"), "{text}");
        assert!(text.contains("`src/handlers/hello.js`"), "{text}");
        assert!(matches!(error, ProviderError::Invalid { span: None, .. }));
        let app = super::tests::app("python3.11", "pkg.mod.fn");
        let error = generated_files(&app, &files(&["pkg/other.py"])).expect_err("refused");
        assert!(error.to_string().contains("`pkg/mod.py`"), "{error}");
    }

    #[test]
    fn names_azure_refuses_and_generated_files_in_the_artifact_are_errors() {
        let mut app = app("nodejs20", "handler.hello");
        app.functions[0].key = "1hello".into();
        let error = generated_files(&app, &files(&["handler.js"])).expect_err("refused");
        let text = message_and_help(&error);
        assert!(
            text.contains("`1hello`") && text.contains("starts with a letter"),
            "{text}"
        );
        app.functions[0].key = format!("h{}", "e".repeat(NAME_MAX));
        assert!(generated_files(&app, &files(&["handler.js"])).is_err());
        app.functions[0].key = format!("h{}", "e".repeat(NAME_MAX - 1));
        assert!(generated_files(&app, &files(&["handler.js"])).is_ok());
        app.functions[0].key = "hello.world".into();
        assert!(generated_files(&app, &files(&["handler.js"])).is_err());
        app.functions[0].key = "hello".into();
        let error =
            generated_files(&app, &files(&["handler.js", "host.json"])).expect_err("refused");
        assert!(message_and_help(&error).contains("!host.json"), "{error}");
    }

    #[test]
    fn the_code_hash_follows_bindings_not_the_order_of_artifacts() {
        let dir = tempfile::tempdir().expect("scratch");
        let one = artifact(
            dir.path(),
            "one.zip",
            &[("handler.js", "exports.hello = 1")],
            &["hello"],
        );
        let two = artifact(
            dir.path(),
            "two.zip",
            &[("lib/util.js", "exports.x = 2")],
            &[],
        );
        let mut app = app("nodejs20", "handler.hello");
        let hash = code_hash(&app, &[&one, &two]).expect("hash");
        assert_eq!(hash.len(), 64);
        assert_eq!(code_hash(&app, &[&two, &one]).expect("hash"), hash);
        app.functions[0].bindings[0]["authLevel"] = json!("function");
        let changed = code_hash(&app, &[&one, &two]).expect("hash");
        assert_ne!(changed, hash);
        app.functions[0].bindings[0]["authLevel"] = json!("anonymous");
        assert_eq!(code_hash(&app, &[&one, &two]).expect("hash"), hash);
        let mut other = one.clone();
        other.sha256 = "0".repeat(64);
        assert_ne!(code_hash(&app, &[&other, &two]).expect("hash"), hash);
    }

    #[test]
    fn the_built_zip_holds_host_json_each_function_json_and_the_code() {
        let dir = tempfile::tempdir().expect("scratch");
        let code = artifact(
            dir.path(),
            "shop.zip",
            &[
                ("package.json", "{\"name\": \"shop\"}"),
                (
                    "src/handlers/hello.js",
                    "exports.sayHello = async () => ({ body: 'hi' });",
                ),
            ],
            &["hello", "bye"],
        );
        let mut app = app("nodejs20", "src/handlers/hello.sayHello");
        let mut bye = app.functions[0].clone();
        bye.key = "bye".into();
        app.functions.push(bye);
        let destination = dir.path().join("shop-dev.azure.zip");
        let written = build(&app, &[&code], &destination).expect("built");
        assert!(written.rewritten);
        let bytes = std::fs::read(&destination).expect("read");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let names: Vec<String> = zip
            .file_names()
            .map(str::to_string)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            names,
            [
                "bye/function.json",
                "hello/function.json",
                "host.json",
                "package.json",
                "src/handlers/hello.js"
            ]
        );
        let generated = generated_files(&app, &code.files).expect("generated");
        for (name, content) in &generated {
            let mut read = Vec::new();
            zip.by_name(name)
                .expect("entry")
                .read_to_end(&mut read)
                .expect("read");
            assert_eq!(&read, content, "{name}");
        }
        let mut script = String::new();
        zip.by_name("src/handlers/hello.js")
            .expect("entry")
            .read_to_string(&mut script)
            .expect("read");
        assert!(script.contains("sayHello"));
        let again = build(&app, &[&code], &destination).expect("built again");
        assert_eq!(again.sha256, written.sha256);
        assert!(!again.rewritten);
        let from_paths = dir.path().join("from-paths.zip");
        let by_path = build_from_paths(&app, std::slice::from_ref(&code.path), &from_paths)
            .expect("built from paths");
        assert_eq!(by_path.sha256, written.sha256);
    }

    #[test]
    fn artifacts_that_disagree_on_a_file_cannot_be_merged() {
        let dir = tempfile::tempdir().expect("scratch");
        let one = artifact(
            dir.path(),
            "one.zip",
            &[("handler.js", "exports.hello = 1")],
            &["hello"],
        );
        let two = artifact(
            dir.path(),
            "two.zip",
            &[("handler.js", "exports.hello = 2")],
            &[],
        );
        let app = app("nodejs20", "handler.hello");
        let error = build(&app, &[&one, &two], &dir.path().join("app.zip")).expect_err("refused");
        let text = message_and_help(&error);
        assert!(
            text.contains("`handler.js`") && text.contains("one package per Function App"),
            "{text}"
        );
    }
}
