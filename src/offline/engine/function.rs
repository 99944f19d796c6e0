//! What the engine needs to know to run one function, read from the service model: runtime,
//! handler, code directory, memory, timeout, concurrency and the environment as the function
//! would see it offline.
//!
//! Environment values that are CloudFormation intrinsics (`Ref: JobsQueue`,
//! `Fn::GetAtt: [Table, Arn]`, `Fn::Join`, `Fn::Sub`, `Fn::ImportValue`) have no value without
//! a deployed stack. Offline they resolve to stand-ins: pseudo parameters to this service's
//! values (`AWS::Region`, `AWS::AccountId` as 123456789012, `AWS::StackName`, `AWS::Partition`,
//! `AWS::URLSuffix`), `Ref` of a resource to its logical id, `Fn::GetAtt` to `LogicalId.Attribute`,
//! and `Fn::Join`/`Fn::Sub` built from those. Each such variable is reported as a warning so the
//! user can set the real value with `--env` (or in the manifest per stage).

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::manifest::model::{Cloud, Function, Service, Trigger};
use crate::package::build::{BuildError, BuildRequest, BuildWarning, Builds, LocalCode, Purpose};

/// The account id offline: Lambda's ARNs need one and the documentation examples use it.
pub const OFFLINE_ACCOUNT_ID: &str = "123456789012";

/// One function as the engine runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// The key under `functions:`.
    pub key: String,
    /// The deployed name (`{service}-{stage}-{key}` unless `name:` is set).
    pub name: String,
    pub runtime: String,
    pub handler: String,
    /// The code directory (`LAMBDA_TASK_ROOT`): the service directory, or what a build step
    /// made for the function (a bundle's folder, a compiled `bootstrap`'s folder).
    pub task_root: PathBuf,
    /// Folders the runtime searches for modules after the code directory (`PYTHONPATH`,
    /// `NODE_PATH`): built dependencies.
    pub search_paths: Vec<PathBuf>,
    pub memory_size: u32,
    pub timeout: Duration,
    /// Provider variables overlaid with the function's own, as strings.
    pub environment: IndexMap<String, String>,
    pub reserved_concurrency: Option<usize>,
    pub region: String,
    /// `offline --localEnvironment`: the process starts with the emulator's own environment
    /// under the variables above, instead of an empty one.
    pub inherit_environment: bool,
    /// How the handler is called: Lambda's `(event, context)`, or Google's or Azure's own way.
    pub convention: Convention,
}

/// How a function's handler expects to be called. The engine always speaks the Lambda Runtime
/// API; for Google and Azure functions the runtime bootstrap turns each invocation into that
/// cloud's call (an Express or Flask request for Google HTTP functions, an Azure context and
/// request for Azure ones) and the handler's answer back into an API Gateway style response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Convention {
    #[default]
    Lambda,
    /// Google Cloud Functions: `(req, res)` / `hello(request)` for HTTP functions.
    GoogleHttp,
    /// Google Cloud Functions background functions: `(data, context)`.
    GoogleEvent,
    /// Azure Functions (the `function.json` model): `(context, req)` / `main(req)`.
    AzureHttp,
    /// Azure Functions with a non-HTTP trigger: `(context, item)` / `main(item)`.
    AzureEvent,
}

impl Convention {
    /// The name the runtime bootstraps read from `UPDRAFT_CALLING_CONVENTION`.
    pub fn name(self) -> &'static str {
        match self {
            Convention::Lambda => "lambda",
            Convention::GoogleHttp => "google-http",
            Convention::GoogleEvent => "google-event",
            Convention::AzureHttp => "azure-http",
            Convention::AzureEvent => "azure-event",
        }
    }

    fn of(service: &Service, function: &Function) -> Convention {
        let http = function
            .events
            .iter()
            .any(|event| matches!(event.trigger, Trigger::Http(_)));
        match (service.provider.cloud, http) {
            (Cloud::Aws, _) => Convention::Lambda,
            (Cloud::Google, true) => Convention::GoogleHttp,
            (Cloud::Google, false) => Convention::GoogleEvent,
            (Cloud::Azure, true) => Convention::AzureHttp,
            (Cloud::Azure, false) => Convention::AzureEvent,
        }
    }
}

/// The handler as the bootstraps read it (`module.function`). A Google handler names only the
/// exported function: Google's runtimes load it from `main.py`, or from the file `main` names
/// in `package.json` (`index.js` without one).
fn handler_setting(service_dir: &Path, runtime: &str, cloud: Cloud, handler: &str) -> String {
    if cloud != Cloud::Google || handler.contains('.') {
        return handler.to_string();
    }
    let module = if runtime.starts_with("python") {
        "main".to_string()
    } else {
        std::fs::read_to_string(service_dir.join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Json>(&text).ok())
            .and_then(|package| package.get("main")?.as_str().map(str::to_string))
            .map(|main| {
                let main = main.trim_start_matches("./");
                [".js", ".mjs", ".cjs"]
                    .iter()
                    .find_map(|extension| main.strip_suffix(extension))
                    .unwrap_or(main)
                    .to_string()
            })
            .unwrap_or_else(|| "index".to_string())
    };
    format!("{module}.{handler}")
}

impl FunctionSpec {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{OFFLINE_ACCOUNT_ID}:function:{}",
            self.region, self.name
        )
    }
}

/// A variable whose value offline is a stand-in for what CloudFormation would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("function `{function}`: environment variable {variable} is a CloudFormation reference; offline it is \"{value}\"")]
#[diagnostic(help(
    "pass the real value with `--env {variable}=VALUE`, or give the variable a plain value for local stages"
))]
pub struct StandInWarning {
    pub function: String,
    pub variable: String,
    pub value: String,
}

/// The functions of a service that the engine can run, with warnings for stand-in values.
/// Container-image functions are left out (they need Docker); they are not warned about here,
/// since invoking one gives an error that says so.
pub fn functions_from_service(
    service: &Service,
    service_dir: &Path,
) -> (Vec<FunctionSpec>, Vec<StandInWarning>) {
    let mut specs = Vec::new();
    let mut warnings = Vec::new();
    for function in service.functions.values() {
        if function.image.is_some() {
            continue;
        }
        specs.push(function_spec(service, service_dir, function, &mut warnings));
    }
    (specs, warnings)
}

/// What [`built_functions`] gives: the functions, pointed at their builds, and what to warn of.
#[derive(Debug)]
pub struct LocalFunctions {
    pub specs: Vec<FunctionSpec>,
    pub stand_ins: Vec<StandInWarning>,
    pub build_warnings: Vec<BuildWarning>,
}

/// The functions of a service as [`functions_from_service`] gives them, after running the build
/// steps they need on this machine (`only` names the functions to build, all when empty):
/// requirements installed, bundles and binaries built into `.serverless/build/`.
pub fn built_functions(
    service: &Service,
    service_dir: &Path,
    only: &[String],
    interrupted: Option<&std::sync::atomic::AtomicBool>,
) -> Result<LocalFunctions, BuildError> {
    let output_dir = service_dir.join(".serverless");
    let builds = crate::package::build::build(&BuildRequest {
        service,
        service_dir,
        output_dir: &output_dir,
        purpose: Purpose::Local,
        only: only.to_vec(),
        interrupted,
    })?;
    let (mut specs, warnings) = functions_from_service(service, service_dir);
    use_builds(&mut specs, service_dir, &builds);
    Ok(LocalFunctions {
        specs,
        stand_ins: warnings,
        build_warnings: builds.warnings,
    })
}

/// Points each function at what the local build steps made for it (see
/// [`crate::package::build::LocalCode`]).
pub fn use_builds(specs: &mut [FunctionSpec], service_dir: &Path, builds: &Builds) {
    for spec in specs {
        let build = builds.get(&spec.key);
        let code = LocalCode::of(service_dir, build);
        spec.task_root = code.task_root;
        spec.search_paths = code.search_paths;
        // A bundle's stack traces name the TypeScript (or original) lines through its source
        // map, which Node reads only when asked to.
        if spec.runtime.starts_with("nodejs") && build.is_some_and(|b| b.code.is_some()) {
            let options = spec.environment.entry("NODE_OPTIONS".into()).or_default();
            if !options.contains("--enable-source-maps") {
                if !options.is_empty() {
                    options.push(' ');
                }
                options.push_str("--enable-source-maps");
            }
        }
    }
}

fn function_spec(
    service: &Service,
    service_dir: &Path,
    function: &Function,
    warnings: &mut Vec<StandInWarning>,
) -> FunctionSpec {
    let context = Pseudo {
        region: &service.provider.region,
        stack_name: service
            .provider
            .stack_name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", service.name, service.provider.stage)),
    };
    let mut environment = IndexMap::new();
    for (variable, value) in &function.environment {
        let (text, stand_in) = match value {
            Json::String(text) => (text.clone(), false),
            Json::Null => continue,
            Json::Bool(_) | Json::Number(_) => (value.to_string(), false),
            other => (context.resolve(other), true),
        };
        if stand_in {
            warnings.push(StandInWarning {
                function: function.key.clone(),
                variable: variable.clone(),
                value: text.clone(),
            });
        }
        environment.insert(variable.clone(), text);
    }
    // The Framework's default runtime when neither the function nor the provider names one.
    let runtime = function
        .runtime
        .clone()
        .unwrap_or_else(|| "nodejs18.x".to_string());
    let handler = handler_setting(
        service_dir,
        &runtime,
        service.provider.cloud,
        function.handler.as_deref().unwrap_or_default(),
    );
    FunctionSpec {
        key: function.key.clone(),
        name: function.name.clone(),
        runtime,
        handler,
        task_root: service_dir.to_path_buf(),
        search_paths: Vec::new(),
        memory_size: function.memory_size,
        timeout: Duration::from_secs(u64::from(function.timeout.max(1))),
        environment,
        reserved_concurrency: function.reserved_concurrency.as_ref().and_then(json_count),
        region: service.provider.region.clone(),
        inherit_environment: false,
        convention: Convention::of(service, function),
    }
}

fn json_count(value: &Json) -> Option<usize> {
    match value {
        Json::Number(number) => number.as_u64().and_then(|n| usize::try_from(n).ok()),
        Json::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

struct Pseudo<'a> {
    region: &'a str,
    stack_name: String,
}

impl Pseudo<'_> {
    /// The offline stand-in for a CloudFormation value (see the module documentation).
    fn resolve(&self, value: &Json) -> String {
        match value {
            Json::String(text) => text.clone(),
            Json::Null => String::new(),
            Json::Bool(_) | Json::Number(_) => value.to_string(),
            Json::Array(items) => items
                .iter()
                .map(|item| self.resolve(item))
                .collect::<Vec<_>>()
                .join(","),
            Json::Object(map) => {
                let Some((name, argument)) = map.iter().next().filter(|_| map.len() == 1) else {
                    return value.to_string();
                };
                match name.as_str() {
                    "Ref" => self.reference(&self.resolve(argument)),
                    "Fn::GetAtt" => match argument {
                        Json::Array(parts) => parts
                            .iter()
                            .map(|part| self.resolve(part))
                            .collect::<Vec<_>>()
                            .join("."),
                        other => self.resolve(other),
                    },
                    "Fn::Join" => match argument.as_array().map(Vec::as_slice) {
                        Some([separator, Json::Array(parts)]) => parts
                            .iter()
                            .map(|part| self.resolve(part))
                            .collect::<Vec<_>>()
                            .join(separator.as_str().unwrap_or_default()),
                        _ => value.to_string(),
                    },
                    "Fn::Sub" => {
                        let template = match argument {
                            Json::Array(parts) => parts.first().cloned().unwrap_or_default(),
                            other => other.clone(),
                        };
                        self.substitute(template.as_str().unwrap_or_default())
                    }
                    "Fn::ImportValue" => self.resolve(argument),
                    _ => value.to_string(),
                }
            }
        }
    }

    fn reference(&self, name: &str) -> String {
        match name {
            "AWS::Region" => self.region.to_string(),
            "AWS::AccountId" => OFFLINE_ACCOUNT_ID.to_string(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::Partition" => "aws".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            other => other.to_string(),
        }
    }

    /// `${Name}` and `${Name.Attribute}` in an `Fn::Sub` template.
    fn substitute(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            out.push_str(&self.reference(&after[..end]));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pseudo() -> Pseudo<'static> {
        Pseudo {
            region: "eu-west-1",
            stack_name: "jobs-dev".into(),
        }
    }

    #[test]
    fn intrinsics_resolve_to_offline_stand_ins() {
        let pseudo = pseudo();
        assert_eq!(pseudo.resolve(&json!({"Ref": "JobsQueue"})), "JobsQueue");
        assert_eq!(pseudo.resolve(&json!({"Ref": "AWS::Region"})), "eu-west-1");
        assert_eq!(
            pseudo.resolve(&json!({"Fn::GetAtt": ["Table", "Arn"]})),
            "Table.Arn"
        );
        assert_eq!(
            pseudo.resolve(&json!({"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "Bucket"}, "/*"]]})),
            "arn:aws:s3:::Bucket/*"
        );
        assert_eq!(
            pseudo.resolve(
                &json!({"Fn::Sub": "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Queue}"})
            ),
            "arn:aws:sqs:eu-west-1:123456789012:Queue"
        );
    }

    #[test]
    fn unclosed_sub_placeholder_is_kept_as_written() {
        assert_eq!(pseudo().substitute("a-${AWS::Region"), "a-${AWS::Region");
    }
}
