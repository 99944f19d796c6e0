//! `custom.pythonRequirements`, the settings of serverless-python-requirements, read with the
//! plugin's defaults: those updraft honours, those it refuses (with what to do instead) and
//! those it warns are not needed.

use serde_json::Value as Json;

use super::super::{BuildError, BuildWarning};

const PLACE: &str = "custom.pythonRequirements";

/// What the plugin removes with `slim: true` when `slimPatterns` does not replace it.
pub const DEFAULT_SLIM_PATTERNS: &[&str] = &["**/*.py[c|o]", "**/__pycache__*", "**/*.dist-info*"];

/// The settings that change what is installed. Everything here is part of the cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `fileName`: the requirements file, instead of looking for the usual inputs.
    pub file_name: Option<String>,
    pub slim: bool,
    /// The patterns removed when `slim` is on: the defaults, the user's, or both.
    pub slim_patterns: Vec<String>,
    /// `strip` the shared libraries (only with `slim`, as the plugin does).
    pub strip: bool,
    /// `noDeploy`, names normalised as PEP 503 does (`Python_Dateutil` is `python-dateutil`).
    pub no_deploy: Vec<String>,
    /// `pipCmdExtraArgs`, each split at its first space as the plugin does.
    pub pip_extra_args: Vec<String>,
    pub use_pipenv: bool,
    pub use_poetry: bool,
    pub use_uv: bool,
    pub use_pyproject: bool,
    /// `poetryWithGroups`, `poetryWithoutGroups`, `poetryOnlyGroups`: `poetry export`'s
    /// `--with`, `--without` and `--only`.
    pub poetry_with: Vec<String>,
    pub poetry_without: Vec<String>,
    pub poetry_only: Vec<String>,
    /// `pyprojectWithGroups`: `[project.optional-dependencies]` groups installed too.
    pub pyproject_groups: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            file_name: None,
            slim: false,
            slim_patterns: Vec::new(),
            strip: true,
            no_deploy: Vec::new(),
            pip_extra_args: Vec::new(),
            use_pipenv: true,
            use_poetry: true,
            use_uv: true,
            use_pyproject: true,
            poetry_with: Vec::new(),
            poetry_without: Vec::new(),
            poetry_only: Vec::new(),
            pyproject_groups: Vec::new(),
        }
    }
}

/// Reads `custom.pythonRequirements` (absent means the defaults). Settings updraft cannot honour
/// are errors that say what to do instead; settings that are not needed are warnings.
pub fn read(
    custom: Option<&Json>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<Options, BuildError> {
    let mut options = Options::default();
    let Some(settings) = custom.and_then(|c| c.get("pythonRequirements")) else {
        return Ok(options);
    };
    let Some(settings) = settings.as_object() else {
        if settings.is_null() {
            return Ok(options);
        }
        return Err(setting(
            "",
            "is not a map of settings",
            "write the plugin's settings under it (`slim: true`, `noDeploy: [...]`), or remove it",
        ));
    };
    let get = |key: &str| settings.get(key).filter(|v| !v.is_null());

    if let Some(value) = get("zip") {
        if flag(value, "zip")? {
            return Err(setting(
                "zip",
                "is not supported: Lambda does not unzip a nested requirements.zip; the plugin \
                 relies on an `import unzip_requirements` in the handler that extracts it to /tmp \
                 at every cold start",
                "remove `zip`; to make the artifact smaller use `slim: true` and `noDeploy`, or \
                 deploy the function as a container image (`image:`), which may be 10 GB",
            ));
        }
    }
    if let Some(value) = get("layer") {
        if value.is_object() || flag(value, "layer")? {
            return Err(setting(
                "layer",
                "is not supported: updraft installs the requirements into each Python function's \
                 artifact, and Lambda counts a function's layers in the same 250 MB unzipped \
                 limit, so a layer makes no room",
                "remove `layer`; to share the requirements as a layer anyway, install them into \
                 a folder (`pip install -r requirements.txt --target layer/python --platform \
                 manylinux2014_x86_64 --only-binary=:all: --python-version 3.12`) and declare it \
                 under `layers:` with `path: layer`",
            ));
        }
    }
    if let Some(value) = get("vendor") {
        if value.as_str().is_some_and(|v| !v.is_empty()) {
            return Err(setting(
                "vendor",
                "is not supported",
                "put the vendored libraries in the service directory: its files are packaged at \
                 the artifact's root, where the plugin copies `vendor`'s",
            ));
        }
    }
    if let Some(value) = get("dockerizePip") {
        let docker = match value {
            Json::String(text) if text == "non-linux" => true,
            other => flag(other, "dockerizePip")?,
        };
        if docker {
            warnings.push(BuildWarning {
                message: format!(
                    "{PLACE}.dockerizePip is not needed: updraft installs wheels built for \
                     Lambda's platform (pip's --platform) without Docker"
                ),
                help: "remove `dockerizePip`; a requirement that publishes only source (no \
                       wheel) is reported by name, with how to build its wheel"
                    .into(),
            });
        }
    }
    if let Some(value) = get("installFolderAsPackage") {
        if flag(value, "installFolderAsPackage")? {
            return Err(setting(
                "installFolderAsPackage",
                "is not supported",
                "the service's own files are packaged at the artifact's root already; remove \
                 `installFolderAsPackage`",
            ));
        }
    }

    if let Some(value) = get("fileName") {
        let Some(name) = value.as_str().filter(|n| !n.trim().is_empty()) else {
            return Err(setting(
                "fileName",
                "is not a file name",
                "name the requirements file, as `requirements-prod.txt`",
            ));
        };
        options.file_name = Some(name.to_string());
    }
    if let Some(value) = get("slim") {
        options.slim = flag(value, "slim")?;
    }
    if let Some(value) = get("strip") {
        options.strip = flag(value, "strip")?;
    }
    let mut append_defaults = true;
    if let Some(value) = get("slimPatternsAppendDefaults") {
        append_defaults = flag(value, "slimPatternsAppendDefaults")?;
    }
    let own_patterns = match get("slimPatterns") {
        // The plugin's default value is `false`: no patterns of the user's.
        Some(Json::Bool(false)) | None => Vec::new(),
        Some(value) => strings(value, "slimPatterns")?,
    };
    if append_defaults || own_patterns.is_empty() {
        options.slim_patterns = DEFAULT_SLIM_PATTERNS
            .iter()
            .map(|p| p.to_string())
            .collect();
    }
    options.slim_patterns.extend(own_patterns);
    if let Some(value) = get("noDeploy") {
        options.no_deploy = strings(value, "noDeploy")?
            .iter()
            .map(|name| normalized_name(name))
            .collect();
        options.no_deploy.sort();
        options.no_deploy.dedup();
    }
    if let Some(value) = get("pipCmdExtraArgs") {
        for argument in strings(value, "pipCmdExtraArgs")? {
            let argument = argument.trim();
            match argument.split_once(char::is_whitespace) {
                Some((name, value)) => {
                    options.pip_extra_args.push(name.to_string());
                    options.pip_extra_args.push(value.trim().to_string());
                }
                None if !argument.is_empty() => options.pip_extra_args.push(argument.to_string()),
                None => {}
            }
        }
    }
    for (key, field) in [
        ("usePipenv", &mut options.use_pipenv),
        ("usePoetry", &mut options.use_poetry),
        ("useUv", &mut options.use_uv),
        ("usePyProject", &mut options.use_pyproject),
    ] {
        if let Some(value) = get(key) {
            *field = flag(value, key)?;
        }
    }
    for (key, field) in [
        ("poetryWithGroups", &mut options.poetry_with),
        ("poetryWithoutGroups", &mut options.poetry_without),
        ("poetryOnlyGroups", &mut options.poetry_only),
        ("pyprojectWithGroups", &mut options.pyproject_groups),
    ] {
        if let Some(value) = get(key) {
            *field = strings(value, key)?;
        }
    }
    Ok(options)
}

/// A package name as PEP 503 compares them: lower case, runs of `-`, `_` and `.` as one `-`.
pub fn normalized_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut separator = false;
    for character in name.trim().chars() {
        if matches!(character, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !normalized.is_empty() {
            normalized.push('-');
        }
        separator = false;
        normalized.extend(character.to_lowercase());
    }
    normalized
}

/// A yes/no setting: a boolean, or the strings `"true"` and `"false"` the plugin also takes.
fn flag(value: &Json, key: &str) -> Result<bool, BuildError> {
    match value {
        Json::Bool(yes) => Ok(*yes),
        Json::String(text) if text == "true" => Ok(true),
        Json::String(text) if text == "false" => Ok(false),
        _ => Err(setting(
            key,
            &format!("is {value}, not true or false"),
            "write `true` or `false`",
        )),
    }
}

/// A list of strings; a single string counts as a list of one.
fn strings(value: &Json, key: &str) -> Result<Vec<String>, BuildError> {
    match value {
        Json::String(text) => Ok(vec![text.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::String(text) => Ok(text.clone()),
                other => Err(setting(
                    key,
                    &format!("holds {other}, which is not a string"),
                    "write each entry as a string",
                )),
            })
            .collect(),
        other => Err(setting(
            key,
            &format!("is {other}, not a list"),
            "write a list of strings",
        )),
    }
}

fn setting(key: &str, reason: &str, help: &str) -> BuildError {
    let place = if key.is_empty() {
        PLACE.to_string()
    } else {
        format!("{PLACE}.{key}")
    };
    BuildError::Setting {
        place,
        reason: reason.to_string(),
        help: help.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(settings: Json) -> Result<(Options, Vec<BuildWarning>), BuildError> {
        let mut warnings = Vec::new();
        let custom = json!({ "pythonRequirements": settings });
        read(Some(&custom), &mut warnings).map(|options| (options, warnings))
    }

    fn refusal(settings: Json) -> (String, String) {
        match options(settings) {
            Err(BuildError::Setting { place, help, .. }) => (place, help),
            other => panic!("expected a refused setting, got {other:?}"),
        }
    }

    #[test]
    fn no_settings_give_the_plugins_defaults() {
        let mut warnings = Vec::new();
        let read_options = read(None, &mut warnings).expect("defaults");
        assert_eq!(read_options, Options::default());
        assert!(!read_options.slim);
        assert!(
            read_options.no_deploy.is_empty(),
            "the plugin omits nothing by default"
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn slim_patterns_are_added_to_the_defaults_unless_told_not_to() {
        let (appended, _) = options(json!({"slim": true, "slimPatterns": ["**/tests"]})).unwrap();
        assert!(appended.slim);
        assert_eq!(appended.slim_patterns.len(), 4);
        assert_eq!(
            appended.slim_patterns.last().map(String::as_str),
            Some("**/tests")
        );
        let (replaced, _) = options(json!({
            "slim": "true", "slimPatterns": ["**/tests"], "slimPatternsAppendDefaults": "false"
        }))
        .unwrap();
        assert_eq!(replaced.slim_patterns, vec!["**/tests".to_string()]);
    }

    #[test]
    fn no_deploy_names_compare_as_pep_503_does() {
        let (read_options, _) =
            options(json!({"noDeploy": ["Python_Dateutil", "boto3", "boto3"]})).unwrap();
        assert_eq!(read_options.no_deploy, vec!["boto3", "python-dateutil"]);
        assert_eq!(normalized_name("zope.interface"), "zope-interface");
        assert_eq!(normalized_name("A__B--c"), "a-b-c");
    }

    #[test]
    fn pip_extra_args_are_split_at_the_first_space() {
        let (read_options, _) = options(json!({
            "pipCmdExtraArgs": ["--extra-index-url https://example.invalid/simple", "--pre"]
        }))
        .unwrap();
        assert_eq!(
            read_options.pip_extra_args,
            vec![
                "--extra-index-url",
                "https://example.invalid/simple",
                "--pre"
            ]
        );
    }

    #[test]
    fn zip_and_layer_are_refused_with_what_to_do_instead() {
        let (place, help) = refusal(json!({"zip": true}));
        assert_eq!(place, "custom.pythonRequirements.zip");
        assert!(help.contains("slim"), "{help}");
        let (place, help) = refusal(json!({"layer": {"name": "deps"}}));
        assert_eq!(place, "custom.pythonRequirements.layer");
        assert!(help.contains("layers:"), "{help}");
        assert!(options(json!({"zip": false, "layer": false})).is_ok());
    }

    #[test]
    fn dockerize_pip_is_a_warning_not_an_error() {
        for value in [json!(true), json!("non-linux")] {
            let (_, warnings) = options(json!({ "dockerizePip": value })).unwrap();
            assert_eq!(warnings.len(), 1);
            assert!(warnings[0].message.contains("dockerizePip"));
        }
        let (_, warnings) = options(json!({"dockerizePip": false})).unwrap();
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_setting_of_the_wrong_kind_names_its_place() {
        let (place, _) = refusal(json!({"slim": 3}));
        assert_eq!(place, "custom.pythonRequirements.slim");
        let (place, _) = refusal(json!({"noDeploy": [1]}));
        assert_eq!(place, "custom.pythonRequirements.noDeploy");
        let (place, _) = refusal(json!(["slim"]));
        assert_eq!(place, "custom.pythonRequirements");
    }
}
