//! The typed, provider-neutral model of a service, built from a resolved manifest tree.
//!
//! [`Service::from_tree`] reads what deploy and the local emulator need: the provider settings
//! with the Framework's defaults filled in (memory 1024 MB, timeout 6 s, stage `dev`, region
//! `us-east-1`), each function with its effective settings (its own, else the provider's), and
//! each event normalised into a [`Trigger`] whatever the cloud wrote it as (see [`events`]).
//! Free-form parts (`custom`, `resources`, IAM statements, authorizers) stay JSON. Functions and
//! events keep their spans so later stages can point at the manifest in their messages.
//!
//! It expects a manifest that passed validation; what validation would have refused is a
//! [`ModelError`] here, never a panic.

pub mod alb;
pub mod events;

use indexmap::IndexMap;
use serde_json::Value as Json;

use super::node::{Node, Value};
use super::source::Span;

pub use events::{Api, Event, HttpTrigger, Trigger, CORS_DEFAULT_HEADERS};

/// Framework defaults.
pub const DEFAULT_MEMORY_SIZE: u32 = 1024;
pub const DEFAULT_TIMEOUT: u32 = 6;
pub const DEFAULT_STAGE: &str = "dev";
pub const DEFAULT_AWS_REGION: &str = "us-east-1";
pub const DEFAULT_AZURE_REGION: &str = "westus";
pub const DEFAULT_GOOGLE_REGION: &str = "us-central1";

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub provider: Provider,
    /// In manifest order.
    pub functions: IndexMap<String, Function>,
    pub custom: Option<Json>,
    /// CloudFormation (or other template) resources, as written.
    pub resources: Option<Json>,
    pub package: Package,
    /// `params`: stage name (or `default`) to parameter values.
    pub params: IndexMap<String, IndexMap<String, Json>>,
    pub plugins: Vec<String>,
    /// Layers built from this service, by name.
    pub layers: IndexMap<String, Json>,
    pub settings: ReadSettings,
}

/// Root settings that are not deployed but change how the manifest reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadSettings {
    pub framework_version: Option<String>,
    pub config_validation_mode: Option<String>,
    pub use_dotenv: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Aws,
    Azure,
    Google,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Google => "google",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub cloud: Cloud,
    pub runtime: Option<String>,
    pub region: String,
    pub stage: String,
    pub profile: Option<String>,
    pub memory_size: u32,
    pub timeout: u32,
    pub environment: IndexMap<String, Json>,
    pub tags: IndexMap<String, Json>,
    pub stack_tags: IndexMap<String, Json>,
    pub stack_name: Option<String>,
    pub iam: Iam,
    pub deployment_bucket: Option<DeploymentBucket>,
    pub http_api: HttpApi,
    /// `provider.apiGateway` (REST API settings), as written.
    pub api_gateway: Option<Json>,
    pub log_retention_in_days: Option<u32>,
    pub architecture: Architecture,
    pub version_functions: bool,
    pub layers: Vec<Json>,
    pub vpc: Option<Json>,
    pub tracing: Option<Json>,
    /// The whole provider map, for settings not modelled here (and other clouds' settings).
    pub raw: Json,
}

/// The execution role: deprecated v2 keys (`iamRoleStatements`, `role`, ...) are folded into
/// the v3 places.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Iam {
    /// Statements added to the generated role.
    pub statements: Vec<Json>,
    pub managed_policies: Vec<Json>,
    /// An existing role (name, ARN or CloudFormation reference) used instead of a generated one.
    pub role: Option<Json>,
    pub role_name: Option<String>,
    pub permissions_boundary: Option<Json>,
    /// The role CloudFormation deploys with.
    pub deployment_role: Option<Json>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentBucket {
    pub name: Option<String>,
    /// The object form's settings (encryption, tags, ...), as written.
    pub settings: Option<Json>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpApi {
    /// `true` or the CORS settings.
    pub cors: Option<Json>,
    pub authorizers: IndexMap<String, Json>,
    /// Payload format version: `2.0` unless set.
    pub payload: String,
    /// An existing HTTP API to attach to.
    pub id: Option<Json>,
    pub name: Option<String>,
    pub metrics: bool,
    pub disable_default_endpoint: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Package {
    pub patterns: Vec<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub individually: bool,
    pub artifact: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The key under `functions`.
    pub key: String,
    /// The deployed name: `name`, else `{service}-{stage}-{key}`.
    pub name: String,
    pub handler: Option<String>,
    pub image: Option<Json>,
    /// The function's runtime, else the provider's.
    pub runtime: Option<String>,
    pub memory_size: u32,
    pub timeout: u32,
    /// Provider variables overlaid with the function's own.
    pub environment: IndexMap<String, Json>,
    pub events: Vec<Event>,
    pub package: Package,
    pub layers: Vec<Json>,
    pub role: Option<Json>,
    pub reserved_concurrency: Option<Json>,
    pub provisioned_concurrency: Option<Json>,
    /// A Lambda function URL: `true` or its settings.
    pub url: Option<Json>,
    pub description: Option<String>,
    pub architecture: Architecture,
    pub tags: IndexMap<String, Json>,
    /// The function's map, as written (after resolution).
    pub raw: Json,
    pub span: Span,
    pub key_span: Span,
}

/// Why a tree could not be read as a service (validation reports these first, with snippets).
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(help("run `updraft print` to see the validation errors with their places"))]
pub struct ModelError {
    pub message: String,
    /// Dotted path of the value at fault.
    pub path: String,
    pub span: Span,
}

fn error(node: &Node, path: &str, message: String) -> ModelError {
    ModelError {
        message,
        path: path.to_string(),
        span: node.span,
    }
}

impl Service {
    /// Reads a resolved manifest, for the stage and region it names (or the defaults).
    pub fn from_tree(root: &Node) -> Result<Service, ModelError> {
        Self::from_tree_with_options(root, &IndexMap::new())
    }

    /// Reads a resolved manifest for the command's options: `--stage` and `--region` win over
    /// `provider.stage` and `provider.region`, as they do for the Framework's deploy.
    pub fn from_tree_with_options(
        root: &Node,
        options: &IndexMap<String, Json>,
    ) -> Result<Service, ModelError> {
        let Some(map) = root.as_map() else {
            return Err(error(root, "", "the manifest is not a map".into()));
        };
        let name = match map.get("service").map(|n| (n, scalar(n))) {
            Some((_, Some(name))) => name,
            Some((node, None)) => {
                return Err(error(node, "service", "`service` must be a name".into()))
            }
            None => return Err(error(root, "service", "missing `service`".into())),
        };
        let provider_node = map
            .get("provider")
            .filter(|n| n.as_map().is_some())
            .ok_or_else(|| error(root, "provider", "`provider` must be a map".into()))?;
        let mut provider = provider(provider_node)?;
        provider.stage = super::normalize::effective_stage(root, options);
        if let Some(Json::String(region)) = options.get("region").filter(|r| r.as_str() != Some(""))
        {
            provider.region = region.clone();
        }
        let mut functions = IndexMap::new();
        match map.get("functions").map(|n| &n.value) {
            None | Some(Value::Null) => {}
            Some(Value::Map(entries)) => {
                for (key, entry) in entries.iter() {
                    let function = function(&name, &provider, key, entry.key_span, &entry.node)?;
                    functions.insert(key.clone(), function);
                }
            }
            Some(_) => {
                let node = map.get("functions").unwrap_or(root);
                return Err(error(node, "functions", "`functions` must be a map".into()));
            }
        }
        let params = map
            .get("params")
            .and_then(Node::as_map)
            .map(|stages| {
                stages
                    .iter()
                    .map(|(stage, e)| (stage.clone(), json_map(Some(&e.node))))
                    .collect()
            })
            .unwrap_or_default();
        let plugins = match map.get("plugins").map(|n| &n.value) {
            Some(Value::Seq(items)) => items.iter().filter_map(scalar).collect(),
            Some(Value::Map(m)) => strings(m.get("modules")),
            _ => Vec::new(),
        };
        Ok(Service {
            name,
            provider,
            functions,
            custom: map.get("custom").map(Node::to_json),
            resources: map.get("resources").map(Node::to_json),
            package: package(map.get("package")),
            params,
            plugins,
            layers: json_map(map.get("layers")),
            settings: ReadSettings {
                framework_version: map.get("frameworkVersion").and_then(scalar),
                config_validation_mode: map.get("configValidationMode").and_then(scalar),
                use_dotenv: map.get("useDotenv").and_then(boolean).unwrap_or(false),
            },
        })
    }
}

fn provider(node: &Node) -> Result<Provider, ModelError> {
    let name_node = node
        .get("name")
        .ok_or_else(|| error(node, "provider.name", "missing `provider.name`".into()))?;
    let cloud = match name_node.as_str() {
        Some("aws") => Cloud::Aws,
        Some("azure") => Cloud::Azure,
        Some("google") => Cloud::Google,
        _ => {
            return Err(error(
                name_node,
                "provider.name",
                format!("unknown provider {}", name_node.to_json()),
            ))
        }
    };
    let default_region = match cloud {
        Cloud::Aws => DEFAULT_AWS_REGION,
        Cloud::Azure => DEFAULT_AZURE_REGION,
        Cloud::Google => DEFAULT_GOOGLE_REGION,
    };
    let http_api = node.get("httpApi");
    Ok(Provider {
        cloud,
        runtime: node.get("runtime").and_then(scalar),
        region: node
            .get("region")
            .and_then(scalar)
            .unwrap_or_else(|| default_region.to_string()),
        stage: node
            .get("stage")
            .and_then(scalar)
            .unwrap_or_else(|| DEFAULT_STAGE.to_string()),
        profile: node.get("profile").and_then(scalar),
        memory_size: node
            .get("memorySize")
            .and_then(unsigned)
            .unwrap_or(DEFAULT_MEMORY_SIZE),
        timeout: node
            .get("timeout")
            .and_then(unsigned)
            .unwrap_or(DEFAULT_TIMEOUT),
        environment: json_map(node.get("environment")),
        tags: json_map(node.get("tags")),
        stack_tags: json_map(node.get("stackTags")),
        stack_name: node.get("stackName").and_then(scalar),
        iam: iam(node),
        deployment_bucket: node
            .get("deploymentBucket")
            .map(|bucket| match &bucket.value {
                Value::Map(settings) => DeploymentBucket {
                    name: settings.get("name").and_then(scalar),
                    settings: Some(bucket.to_json()),
                },
                _ => DeploymentBucket {
                    name: scalar(bucket),
                    settings: None,
                },
            }),
        http_api: HttpApi {
            cors: http_api
                .and_then(|h| h.get("cors"))
                .filter(|c| !matches!(c.value, Value::Bool(false) | Value::Null))
                .map(Node::to_json),
            authorizers: json_map(http_api.and_then(|h| h.get("authorizers"))),
            payload: http_api
                .and_then(|h| h.get("payload"))
                .and_then(scalar)
                .unwrap_or_else(|| "2.0".to_string()),
            id: http_api.and_then(|h| h.get("id")).map(Node::to_json),
            name: http_api.and_then(|h| h.get("name")).and_then(scalar),
            metrics: http_api
                .and_then(|h| h.get("metrics"))
                .and_then(boolean)
                .unwrap_or(false),
            disable_default_endpoint: http_api
                .and_then(|h| h.get("disableDefaultEndpoint"))
                .and_then(boolean)
                .unwrap_or(false),
        },
        api_gateway: node.get("apiGateway").map(Node::to_json),
        log_retention_in_days: node.get("logRetentionInDays").and_then(unsigned),
        architecture: architecture(node.get("architecture")),
        version_functions: node
            .get("versionFunctions")
            .and_then(boolean)
            .unwrap_or(true),
        layers: json_list(node.get("layers")),
        vpc: node.get("vpc").map(Node::to_json),
        tracing: node.get("tracing").map(Node::to_json),
        raw: node.to_json(),
    })
}

fn iam(provider: &Node) -> Iam {
    let mut iam = Iam {
        statements: json_list(provider.get("iamRoleStatements")),
        managed_policies: json_list(provider.get("iamManagedPolicies")),
        role: provider.get("role").map(Node::to_json),
        role_name: None,
        permissions_boundary: provider.get("rolePermissionsBoundary").map(Node::to_json),
        deployment_role: provider.get("cfnRole").map(Node::to_json),
    };
    let Some(v3) = provider.get("iam") else {
        return iam;
    };
    if let Some(role) = v3.get("deploymentRole") {
        iam.deployment_role = Some(role.to_json());
    }
    match v3.get("role") {
        Some(role) if role.as_map().is_some_and(|m| !is_cf_function(m)) => {
            iam.statements.extend(json_list(role.get("statements")));
            iam.managed_policies
                .extend(json_list(role.get("managedPolicies")));
            iam.role_name = role.get("name").and_then(scalar);
            if let Some(boundary) = role
                .get("permissionsBoundary")
                .or_else(|| role.get("permissionBoundary"))
            {
                iam.permissions_boundary = Some(boundary.to_json());
            }
        }
        Some(role) => iam.role = Some(role.to_json()),
        None => {}
    }
    iam
}

fn is_cf_function(map: &super::node::Mapping) -> bool {
    map.len() == 1
        && map
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
}

fn function(
    service: &str,
    provider: &Provider,
    key: &str,
    key_span: Span,
    node: &Node,
) -> Result<Function, ModelError> {
    let path = format!("functions.{key}");
    if node.as_map().is_none() {
        return Err(error(
            node,
            &path,
            format!("function `{key}` must be a map"),
        ));
    }
    let mut environment = provider.environment.clone();
    environment.extend(json_map(node.get("environment")));
    let events = match node.get("events").map(|n| &n.value) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Seq(items)) => items
            .iter()
            .flat_map(|event| events::read(provider.cloud, key, event))
            .collect(),
        Some(_) => {
            let events = node.get("events").unwrap_or(node);
            return Err(error(
                events,
                &format!("{path}.events"),
                format!("`{path}.events` must be a list"),
            ));
        }
    };
    let mut layers = provider.layers.clone();
    if let Some(own) = node.get("layers") {
        // A function's layers replace the provider's, as in the Framework.
        layers = json_list(Some(own));
    }
    let mut tags = provider.tags.clone();
    tags.extend(json_map(node.get("tags")));
    Ok(Function {
        key: key.to_string(),
        name: node
            .get("name")
            .and_then(scalar)
            .unwrap_or_else(|| super::normalize::function_name(service, &provider.stage, key)),
        handler: node.get("handler").and_then(scalar),
        image: node.get("image").map(Node::to_json),
        runtime: node
            .get("runtime")
            .and_then(scalar)
            .or_else(|| provider.runtime.clone()),
        memory_size: node
            .get("memorySize")
            .and_then(unsigned)
            .unwrap_or(provider.memory_size),
        timeout: node
            .get("timeout")
            .and_then(unsigned)
            .unwrap_or(provider.timeout),
        environment,
        events,
        package: package(node.get("package")),
        layers,
        role: node.get("role").map(Node::to_json),
        reserved_concurrency: node.get("reservedConcurrency").map(Node::to_json),
        provisioned_concurrency: node.get("provisionedConcurrency").map(Node::to_json),
        url: node
            .get("url")
            .filter(|u| !matches!(u.value, Value::Bool(false) | Value::Null))
            .map(Node::to_json),
        description: node.get("description").and_then(scalar),
        architecture: match node.get("architecture") {
            Some(own) => architecture(Some(own)),
            None => provider.architecture,
        },
        tags,
        raw: node.to_json(),
        span: node.span,
        key_span,
    })
}

fn package(node: Option<&Node>) -> Package {
    let Some(node) = node else {
        return Package::default();
    };
    Package {
        patterns: strings(node.get("patterns")),
        include: strings(node.get("include")),
        exclude: strings(node.get("exclude")),
        individually: node.get("individually").and_then(boolean).unwrap_or(false),
        artifact: node.get("artifact").and_then(scalar),
    }
}

fn architecture(node: Option<&Node>) -> Architecture {
    match node.and_then(Node::as_str) {
        Some("arm64") => Architecture::Arm64,
        _ => Architecture::X86_64,
    }
}

// Small readers that take values the way the Framework does: numbers may be strings, a single
// value may stand for a one-item list.

pub(crate) fn scalar(node: &Node) -> Option<String> {
    node.scalar_text()
}

pub(crate) fn unsigned(node: &Node) -> Option<u32> {
    match &node.value {
        Value::Int(i) => u32::try_from(*i).ok(),
        Value::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64 => {
            Some(*f as u32)
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn boolean(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

pub(crate) fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(scalar).collect(),
        Some(_) => node.and_then(scalar).into_iter().collect(),
        None => Vec::new(),
    }
}

pub(crate) fn json_list(node: Option<&Node>) -> Vec<Json> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().map(Node::to_json).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(_) => node.map(Node::to_json).into_iter().collect(),
    }
}

pub(crate) fn json_map(node: Option<&Node>) -> IndexMap<String, Json> {
    node.and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, e)| (k.clone(), e.node.to_json()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
