//! `custom.esbuild`: serverless-esbuild's options, read and checked before anything runs. A
//! value of the wrong type is an error naming the setting; an option updraft does not honour is
//! a warning (and is ignored); options that only tune the plugin's own machinery (its packager,
//! its watch mode, its zip step) are accepted silently, since updraft does those jobs itself.

use serde_json::Value as Json;

use super::super::{BuildError, BuildWarning};

/// esbuild's `--sourcemap` forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceMap {
    /// A `.map` file and a `//# sourceMappingURL` comment (`true`, `linked`).
    Linked,
    /// The map inside the bundle.
    Inline,
    /// A `.map` file without the comment.
    External,
    /// Inline and a file.
    Both,
}

impl SourceMap {
    pub fn flag(self) -> &'static str {
        match self {
            SourceMap::Linked => "--sourcemap=linked",
            SourceMap::Inline => "--sourcemap=inline",
            SourceMap::External => "--sourcemap=external",
            SourceMap::Both => "--sourcemap=both",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CommonJs,
    Module,
}

/// Packages left out of the bundle and of the artifact (Lambda provides them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclude {
    /// Not set: `aws-sdk` up to nodejs16.x, `@aws-sdk/*` from nodejs18.x.
    Default,
    Names(Vec<String>),
    /// `'*'`: every package stays out (`--packages=external`).
    All,
}

/// The options of every bundle of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsbuildOptions {
    pub bundle: bool,
    pub minify: bool,
    pub sourcemap: Option<SourceMap>,
    /// Not set: from each function's runtime (`nodejs20.x` is `node20`).
    pub target: Option<Vec<String>>,
    pub platform: String,
    pub format: Format,
    pub external: Vec<String>,
    pub exclude: Exclude,
    /// `.js`, `.mjs` or `.cjs`; not set: `.mjs` for `esm`, else `.js`.
    pub output_extension: Option<String>,
    pub keep_names: bool,
    pub define: Vec<(String, String)>,
    pub loader: Vec<(String, String)>,
    pub banner: Vec<(String, String)>,
    pub footer: Vec<(String, String)>,
    pub tsconfig: Option<String>,
    pub main_fields: Vec<String>,
    pub conditions: Vec<String>,
    pub resolve_extensions: Vec<String>,
    pub inject: Vec<String>,
    pub tree_shaking: Option<bool>,
    pub legal_comments: Option<String>,
    pub charset: Option<String>,
}

impl Default for EsbuildOptions {
    fn default() -> Self {
        EsbuildOptions {
            bundle: true,
            minify: false,
            sourcemap: None,
            target: None,
            platform: "node".to_string(),
            format: Format::CommonJs,
            external: Vec::new(),
            exclude: Exclude::Default,
            output_extension: None,
            keep_names: false,
            define: Vec::new(),
            loader: Vec::new(),
            banner: Vec::new(),
            footer: Vec::new(),
            tsconfig: None,
            main_fields: Vec::new(),
            conditions: Vec::new(),
            resolve_extensions: Vec::new(),
            inject: Vec::new(),
            tree_shaking: None,
            legal_comments: None,
            charset: None,
        }
    }
}

/// Options of the plugin's own machinery, which updraft replaces: accepted, nothing to do.
const PLUGIN_MACHINERY: &[&str] = &[
    "packager",
    "packagerOptions",
    "packagePath",
    "installExtraArgs",
    "watch",
    "concurrency",
    "zipConcurrency",
    "nativeZip",
    "keepOutputDirectory",
    "outputWorkFolder",
    "outputBuildFolder",
    "disableIncremental",
    "disposeContext",
    "skipRebuild",
    "stripEntryResolveExtensions",
    "logLevel",
];

const PACKAGERS: &[&str] = &["npm", "yarn", "pnpm"];

/// Reads `custom.esbuild` (absent or `null`: the defaults).
pub fn read(
    custom: Option<&Json>,
    warnings: &mut Vec<BuildWarning>,
) -> Result<EsbuildOptions, BuildError> {
    let mut options = EsbuildOptions::default();
    let settings = match custom.and_then(|c| c.get("esbuild")) {
        None | Some(Json::Null) => return Ok(options),
        Some(Json::Object(map)) => map,
        Some(_) => {
            return Err(setting(
                "custom.esbuild",
                "must be a map of options",
                "write it as `esbuild:` followed by indented options, e.g. `minify: true`",
            ))
        }
    };
    for (name, value) in settings {
        let place = format!("custom.esbuild.{name}");
        match name.as_str() {
            "bundle" => options.bundle = flag(&place, value)?,
            "minify" => options.minify = flag(&place, value)?,
            "keepNames" => options.keep_names = flag(&place, value)?,
            "treeShaking" => options.tree_shaking = Some(flag(&place, value)?),
            "sourcemap" => options.sourcemap = sourcemap(&place, value)?,
            "target" => options.target = Some(strings(&place, value)?),
            "platform" => {
                options.platform = choice(&place, value, &["node", "neutral", "browser"])?;
                if options.platform != "node" {
                    warnings.push(BuildWarning {
                        message: format!("{place} is `{}`: Lambda runs Node.js", options.platform),
                        help: "leave `platform` out (it is `node`) unless the bundle really targets another platform".into(),
                    });
                }
            }
            "format" => {
                options.format = match choice(&place, value, &["cjs", "esm"])?.as_str() {
                    "esm" => Format::Module,
                    _ => Format::CommonJs,
                }
            }
            "outputFileExtension" => {
                options.output_extension = Some(choice(&place, value, &[".js", ".mjs", ".cjs"])?)
            }
            "external" => options.external = strings(&place, value)?,
            "exclude" => {
                options.exclude = match value {
                    Json::String(all) if all == "*" => Exclude::All,
                    _ => {
                        let names = strings(&place, value)?;
                        if names.iter().any(|n| n == "*") {
                            Exclude::All
                        } else {
                            Exclude::Names(names)
                        }
                    }
                }
            }
            "define" => options.define = pairs(&place, value)?,
            "loader" => options.loader = pairs(&place, value)?,
            "banner" => options.banner = pairs(&place, value)?,
            "footer" => options.footer = pairs(&place, value)?,
            "tsconfig" => options.tsconfig = Some(text(&place, value)?),
            "mainFields" => options.main_fields = strings(&place, value)?,
            "conditions" => options.conditions = strings(&place, value)?,
            "resolveExtensions" => options.resolve_extensions = strings(&place, value)?,
            "inject" => options.inject = strings(&place, value)?,
            "legalComments" => {
                options.legal_comments = Some(choice(
                    &place,
                    value,
                    &["none", "inline", "eof", "linked", "external"],
                )?)
            }
            "charset" => options.charset = Some(choice(&place, value, &["ascii", "utf8"])?),
            "packager" => {
                choice(&place, value, PACKAGERS)?;
            }
            known if PLUGIN_MACHINERY.contains(&known) => {}
            other => warnings.push(BuildWarning {
                message: format!("custom.esbuild.{other} is not supported and is ignored"),
                help: format!(
                    "updraft runs esbuild's command line with the options listed in docs/building.md; remove `{other}`, or bundle with the Framework if the build needs it"
                ),
            }),
        }
    }
    if options.format == Format::Module && options.output_extension.as_deref() == Some(".cjs") {
        return Err(setting(
            "custom.esbuild.outputFileExtension",
            "`.cjs` with `format: esm`: Node would load the bundle as CommonJS",
            "use `.mjs` (or leave `outputFileExtension` out) for `format: esm`",
        ));
    }
    if options.format == Format::CommonJs && options.output_extension.as_deref() == Some(".mjs") {
        return Err(setting(
            "custom.esbuild.outputFileExtension",
            "`.mjs` without `format: esm`: Node would load a CommonJS bundle as a module",
            "set `format: esm`, or use `.js`",
        ));
    }
    Ok(options)
}

impl EsbuildOptions {
    /// The bundle's file extension.
    pub fn extension(&self) -> &str {
        match (&self.output_extension, self.format) {
            (Some(extension), _) => extension,
            (None, Format::Module) => ".mjs",
            (None, Format::CommonJs) => ".js",
        }
    }

    /// The packages excluded for a function of this runtime: passed to esbuild as externals
    /// and left out of the artifact.
    pub fn excluded(&self, runtime: &str) -> Vec<String> {
        match &self.exclude {
            Exclude::Names(names) => names.clone(),
            Exclude::All => Vec::new(),
            Exclude::Default if node_major(runtime).is_some_and(|major| major >= 18) => {
                vec!["@aws-sdk/*".to_string()]
            }
            Exclude::Default => vec!["aws-sdk".to_string()],
        }
    }

    /// esbuild's target for a function of this runtime.
    pub fn targets(&self, runtime: &str) -> Vec<String> {
        match &self.target {
            Some(targets) => targets.clone(),
            None => vec![format!("node{}", node_major(runtime).unwrap_or(18))],
        }
    }
}

/// `nodejs20.x` is 20.
pub fn node_major(runtime: &str) -> Option<u32> {
    let rest = runtime.strip_prefix("nodejs")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn setting(place: &str, reason: &str, help: &str) -> BuildError {
    BuildError::Setting {
        place: place.to_string(),
        reason: reason.to_string(),
        help: help.to_string(),
    }
}

fn flag(place: &str, value: &Json) -> Result<bool, BuildError> {
    match value {
        Json::Bool(on) => Ok(*on),
        Json::String(text) if text == "true" || text == "false" => Ok(text == "true"),
        _ => Err(setting(
            place,
            "must be true or false",
            "write `true` or `false`",
        )),
    }
}

fn sourcemap(place: &str, value: &Json) -> Result<Option<SourceMap>, BuildError> {
    if let Json::Bool(on) = value {
        return Ok(on.then_some(SourceMap::Linked));
    }
    let form = choice(
        place,
        value,
        &["linked", "inline", "external", "both", "true", "false"],
    )?;
    Ok(match form.as_str() {
        "inline" => Some(SourceMap::Inline),
        "external" => Some(SourceMap::External),
        "both" => Some(SourceMap::Both),
        "false" => None,
        _ => Some(SourceMap::Linked),
    })
}

fn text(place: &str, value: &Json) -> Result<String, BuildError> {
    match value {
        Json::String(text) => Ok(text.clone()),
        _ => Err(setting(place, "must be a string", "write it as text")),
    }
}

fn choice(place: &str, value: &Json, allowed: &[&str]) -> Result<String, BuildError> {
    match value {
        Json::String(text) if allowed.contains(&text.as_str()) => Ok(text.clone()),
        _ => Err(setting(
            place,
            &format!("must be one of {}", allowed.join(", ")),
            &format!("use one of {}", allowed.join(", ")),
        )),
    }
}

/// A string or a list of strings.
fn strings(place: &str, value: &Json) -> Result<Vec<String>, BuildError> {
    match value {
        Json::String(text) => Ok(vec![text.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::String(text) => Ok(text.clone()),
                _ => Err(setting(
                    place,
                    "must be a list of strings",
                    "write each entry as text",
                )),
            })
            .collect(),
        _ => Err(setting(
            place,
            "must be a string or a list of strings",
            "write a list, e.g. `[pg, sharp]`",
        )),
    }
}

/// A map of names to values; a value that is not a string is written as JSON (`define` takes
/// `DEBUG: false` to mean the expression `false`).
fn pairs(place: &str, value: &Json) -> Result<Vec<(String, String)>, BuildError> {
    let Json::Object(map) = value else {
        return Err(setting(
            place,
            "must be a map",
            "write it as indented `name: value` lines",
        ));
    };
    map.iter()
        .map(|(name, value)| match value {
            Json::String(text) => Ok((name.clone(), text.clone())),
            Json::Bool(_) | Json::Number(_) | Json::Null => Ok((name.clone(), value.to_string())),
            _ => Err(setting(
                &format!("{place}.{name}"),
                "must be a string",
                "write the value as text",
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_ok(custom: Json) -> (EsbuildOptions, Vec<BuildWarning>) {
        let mut warnings = Vec::new();
        let options = read(Some(&custom), &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        (options, warnings)
    }

    #[test]
    fn no_settings_give_serverless_esbuilds_defaults() {
        let (options, warnings) = read_ok(json!({}));
        assert_eq!(options, EsbuildOptions::default());
        assert!(options.bundle);
        assert_eq!(options.extension(), ".js");
        assert_eq!(options.targets("nodejs20.x"), ["node20"]);
        assert_eq!(options.excluded("nodejs16.x"), ["aws-sdk"]);
        assert_eq!(options.excluded("nodejs20.x"), ["@aws-sdk/*"]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn every_supported_option_is_read() {
        let (options, warnings) = read_ok(json!({"esbuild": {
            "bundle": false, "minify": true, "sourcemap": "inline", "target": "es2022",
            "format": "esm", "external": ["pg"], "exclude": ["aws-sdk", "sharp"],
            "keepNames": true, "define": {"process.env.DEBUG": false, "VERSION": "\"1\""},
            "loader": {".png": "file"}, "banner": {"js": "// hi"}, "tsconfig": "tsconfig.build.json",
            "packager": "pnpm", "watch": {"pattern": "src/**"}
        }}));
        assert!(!options.bundle && options.minify && options.keep_names);
        assert_eq!(options.sourcemap, Some(SourceMap::Inline));
        assert_eq!(options.targets("nodejs20.x"), ["es2022"]);
        assert_eq!(options.format, Format::Module);
        assert_eq!(options.extension(), ".mjs");
        assert_eq!(options.external, ["pg"]);
        assert_eq!(options.excluded("nodejs20.x"), ["aws-sdk", "sharp"]);
        assert_eq!(
            options.define,
            [
                ("process.env.DEBUG".to_string(), "false".to_string()),
                ("VERSION".to_string(), "\"1\"".to_string())
            ]
        );
        assert_eq!(options.loader, [(".png".to_string(), "file".to_string())]);
        assert_eq!(options.tsconfig.as_deref(), Some("tsconfig.build.json"));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn sourcemap_true_is_a_linked_file_and_false_is_none() {
        assert_eq!(
            read_ok(json!({"esbuild": {"sourcemap": true}})).0.sourcemap,
            Some(SourceMap::Linked)
        );
        assert_eq!(
            read_ok(json!({"esbuild": {"sourcemap": false}}))
                .0
                .sourcemap,
            None
        );
        assert_eq!(
            read_ok(json!({"esbuild": {"sourcemap": "external"}}))
                .0
                .sourcemap,
            Some(SourceMap::External)
        );
    }

    #[test]
    fn exclude_star_leaves_every_package_out() {
        let (options, _) = read_ok(json!({"esbuild": {"exclude": "*"}}));
        assert_eq!(options.exclude, Exclude::All);
        assert!(options.excluded("nodejs20.x").is_empty());
    }

    #[test]
    fn an_unknown_option_is_a_warning_naming_it() {
        let (_, warnings) = read_ok(json!({"esbuild": {"plugins": "plugins.js", "minify": true}}));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("custom.esbuild.plugins"));
    }

    #[test]
    fn a_wrong_type_is_an_error_naming_the_setting() {
        for (custom, place) in [
            (
                json!({"esbuild": {"minify": "yes"}}),
                "custom.esbuild.minify",
            ),
            (
                json!({"esbuild": {"format": "umd"}}),
                "custom.esbuild.format",
            ),
            (
                json!({"esbuild": {"external": {"pg": 1}}}),
                "custom.esbuild.external",
            ),
            (
                json!({"esbuild": {"define": {"X": [1]}}}),
                "custom.esbuild.define.X",
            ),
            (json!({"esbuild": "fast"}), "custom.esbuild"),
            (
                json!({"esbuild": {"packager": "bun"}}),
                "custom.esbuild.packager",
            ),
        ] {
            let mut warnings = Vec::new();
            match read(Some(&custom), &mut warnings) {
                Err(BuildError::Setting { place: found, .. }) => assert_eq!(found, place),
                other => panic!("{custom}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_extension_that_contradicts_the_format_is_an_error() {
        let mut warnings = Vec::new();
        let custom = json!({"esbuild": {"format": "esm", "outputFileExtension": ".cjs"}});
        assert!(read(Some(&custom), &mut warnings).is_err());
        let custom = json!({"esbuild": {"outputFileExtension": ".mjs"}});
        assert!(read(Some(&custom), &mut warnings).is_err());
        let custom = json!({"esbuild": {"format": "esm", "outputFileExtension": ".js"}});
        let options = read(Some(&custom), &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(options.extension(), ".js");
    }

    #[test]
    fn the_node_version_comes_from_the_runtime_name() {
        assert_eq!(node_major("nodejs22.x"), Some(22));
        assert_eq!(node_major("nodejs8.10"), Some(8));
        assert_eq!(node_major("python3.12"), None);
    }
}
