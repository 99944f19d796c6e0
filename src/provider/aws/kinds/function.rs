//! Lambda functions: code from the artifact in the deployment bucket, compared by hash
//! (`code_sha256`, hex; Lambda reports the same hash in base64), and the configuration
//! (handler, runtime, memory, timeout, environment, architecture, layers, description, role,
//! tags, reserved concurrency).
//!
//! Live: one ListFunctions pass joined with the tagging index (see [`LiveContext::functions`]).
//! Reserved concurrency is not in ListFunctions; rather than one GetFunction per function, the
//! value updraft set is kept in the function's [`RESERVED_CONCURRENCY_TAG`] and read from
//! there (a change made in the console to reserved concurrency alone is therefore not seen as
//! drift). Apply is in [`super::function_apply`].

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::function_apply;
use super::{props, ResourceKind, Typed};
use crate::manifest::model::{Architecture, Function};
use crate::plan::{Desired, DesiredState, Live, Properties, Reference, Step};
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::{text, Context};
use crate::provider::aws::intrinsic::{unsupported, Place};
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

/// Where updraft keeps the reserved concurrency it set (see the module doc).
pub const RESERVED_CONCURRENCY_TAG: &str = "updraft:reserved-concurrency";
/// Tags updraft keeps on a function for its own bookkeeping: never shown as the function's
/// tags, never removed by a tag update.
pub const BOOKKEEPING_TAGS: &[&str] = &[
    RESERVED_CONCURRENCY_TAG,
    super::function_url::URL_TAG,
    super::function_url::URL_CONFIG_TAG,
];

/// The function settings updraft deploys; any other key under a function is refused.
const SUPPORTED_SETTINGS: &[&str] = &[
    "name",
    "handler",
    "runtime",
    "memorySize",
    "timeout",
    "environment",
    "events",
    "package",
    "layers",
    "role",
    "reservedConcurrency",
    "url",
    "description",
    "architecture",
    "tags",
    "logRetentionInDays",
];

pub struct Functions;

/// A function's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionProperties {
    pub handler: Option<String>,
    pub runtime: Option<String>,
    pub memory_size: Option<i64>,
    pub timeout: Option<i64>,
    /// Values may refer to other resources' attributes until apply.
    pub environment: BTreeMap<String, Json>,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Layer ARNs; they may refer to other resources until apply.
    pub layers: Vec<Json>,
    pub description: Option<String>,
    /// The execution role's ARN; a reference to the service's own role until apply.
    pub role: Json,
    pub tags: BTreeMap<String, String>,
    /// Hex, as the artifacts are named.
    pub code_sha256: Option<String>,
    pub reserved_concurrency: Option<u64>,
}

impl Typed for FunctionProperties {}

impl FunctionProperties {
    /// Whether UpdateFunctionConfiguration must be called to go from `self` to `wanted`.
    pub fn configuration_differs(&self, wanted: &FunctionProperties) -> bool {
        self.handler != wanted.handler
            || self.runtime != wanted.runtime
            || self.memory_size != wanted.memory_size
            || self.timeout != wanted.timeout
            || self.environment != wanted.environment
            || self.layers != wanted.layers
            || self.description != wanted.description
            || self.role != wanted.role
    }

    /// Whether UpdateFunctionCode must be called.
    pub fn code_differs(&self, wanted: &FunctionProperties) -> bool {
        self.code_sha256 != wanted.code_sha256 || self.architecture != wanted.architecture
    }
}

#[async_trait]
impl ResourceKind for Functions {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::FUNCTION]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        for (key, function) in &context.service.functions {
            state
                .resources
                .push(desired_function(context, key, function)?);
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        Ok(live
            .functions()
            .await?
            .iter()
            .map(|owned| {
                let configuration = &owned.configuration;
                let name = configuration
                    .function_name()
                    .unwrap_or_default()
                    .to_string();
                let environment: BTreeMap<String, String> = configuration
                    .environment()
                    .and_then(|e| e.variables())
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let tags: BTreeMap<String, String> = owned
                    .tags
                    .iter()
                    .filter(|(key, _)| !BOOKKEEPING_TAGS.contains(&key.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let reserved = owned
                    .tags
                    .get(RESERVED_CONCURRENCY_TAG)
                    .and_then(|value| value.parse::<u64>().ok());
                let description = configuration.description().filter(|d| !d.is_empty());
                let architecture = configuration
                    .architectures()
                    .first()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_else(|| "x86_64".into());
                let layers: Vec<Json> = configuration
                    .layers()
                    .iter()
                    .filter_map(|layer| layer.arn())
                    .map(|arn| json!(arn))
                    .collect();
                let properties = FunctionProperties {
                    handler: configuration.handler().map(str::to_string),
                    runtime: configuration.runtime().map(|r| r.as_str().to_string()),
                    memory_size: configuration.memory_size().map(i64::from),
                    timeout: configuration.timeout().map(i64::from),
                    environment: environment
                        .into_iter()
                        .map(|(key, value)| (key, Json::String(value)))
                        .collect(),
                    architecture,
                    layers,
                    description: description.map(str::to_string),
                    role: json!(configuration.role()),
                    tags,
                    code_sha256: configuration.code_sha256().and_then(base64_to_hex),
                    reserved_concurrency: reserved,
                };
                Live {
                    id: naming::id(kind::FUNCTION, name.clone()),
                    properties: properties.to_properties(),
                    attributes: props::attributes([
                        ("arn", json!(configuration.function_arn())),
                        ("name", json!(name)),
                    ]),
                    // Deleted before its log group and role.
                    depends_on: [
                        Some(naming::id(kind::LOG_GROUP, naming::log_group_name(&name))),
                        configuration
                            .role()
                            .and_then(|arn| arn.rsplit_once(":role/"))
                            .map(|(_, role)| {
                                naming::id(kind::ROLE, role.rsplit('/').next().unwrap_or(role))
                            }),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                }
            })
            .collect())
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        function_apply::apply(aws, step, properties, context).await
    }

    async fn wait_ready(
        &self,
        aws: &Aws,
        step: &Step,
        _attributes: &Properties,
        context: &StepContext<'_>,
    ) -> Result<(), ProviderError> {
        function_apply::wait_idle(aws, &step.id, context).await
    }
}

fn desired_function(
    context: &Context<'_>,
    key: &str,
    function: &Function,
) -> Result<Desired, ProviderError> {
    let path = format!("functions.{key}");
    let span = Some(function.span);
    fn place(path: &str, span: Option<crate::manifest::source::Span>) -> Place<'_> {
        Place { path, span }
    }
    if let Some(settings) = function.raw.as_object() {
        // A key the Framework does not know was warned about when the manifest was read, and
        // is ignored as the Framework ignores it; one it knows and updraft does not deploy is
        // refused.
        let known = crate::manifest::validate::aws::function_keys();
        if let Some(other) = settings
            .keys()
            .find(|k| !SUPPORTED_SETTINGS.contains(&k.as_str()) && known.contains(&k.as_str()))
        {
            return Err(unsupported(
                place(&format!("{path}.{other}"), span),
                &format!("the function setting `{other}`"),
            ));
        }
    }
    let Some(target) = context.functions.get(key) else {
        return Err(ProviderError::Invalid {
            message: format!("function `{key}` is missing from the deploy context"),
            span: Some(function.span),
            help: "this is a bug in updraft: please report it with the manifest".into(),
        });
    };
    let handler = function
        .handler
        .clone()
        .ok_or_else(|| ProviderError::Invalid {
            message: format!("function `{key}` has no `handler`"),
            span: Some(function.span),
            help: "set `handler: file.function` (container images are not supported yet)".into(),
        })?;
    let runtime = function
        .runtime
        .clone()
        .ok_or_else(|| ProviderError::Invalid {
            message: format!("function `{key}` has no `runtime`"),
            span: Some(function.span),
            help: "set `provider.runtime` or the function's `runtime` (e.g. nodejs20.x)".into(),
        })?;
    if let Some(instead) = crate::provider::aws::runtimes::replacement(&runtime) {
        return Err(ProviderError::Invalid {
            message: format!(
                "function `{key}` runs on `{runtime}`, which Lambda no longer accepts for new or updated functions"
            ),
            span: Some(function.span),
            help: instead,
        });
    }
    let artifact = context
        .artifact_for(key)
        .ok_or_else(|| ProviderError::Invalid {
            message: format!("function `{key}` has no packaged artifact"),
            span: Some(function.span),
            help: "package the service first (`updraft package`); deploy packages it for you"
                .into(),
        })?;
    let artifact_key = naming::artifact_key(&context.name, &context.stage, &artifact.sha256);
    let mut depends_on = BTreeSet::from([
        naming::id(kind::ARTIFACT, artifact_key.clone()),
        naming::id(kind::LOG_GROUP, naming::log_group_name(&function.name)),
    ]);

    let role = match function
        .role
        .as_ref()
        .or(context.service.provider.iam.role.as_ref())
    {
        Some(given) => role_arn(
            context,
            given,
            place(&format!("{path}.role"), span),
            &mut depends_on,
        )?,
        None => match &context.role {
            Some(role) => {
                depends_on.insert(role.clone());
                Reference::new(role.clone(), "arn").to_json()
            }
            None => {
                return Err(ProviderError::Internal {
                    resource: target.id.clone(),
                    message: "no execution role was planned for a function that needs one".into(),
                })
            }
        },
    };

    let mut environment = BTreeMap::new();
    for (name, value) in &function.environment {
        let resolved =
            context.resolve(value, place(&format!("{path}.environment.{name}"), span))?;
        depends_on.extend(resolved.depends_on);
        let value = match resolved.value {
            Json::String(_) => resolved.value,
            Json::Object(_) if Reference::from_json(&resolved.value).is_some() => resolved.value,
            Json::Null => json!(""),
            other @ (Json::Number(_) | Json::Bool(_)) => json!(text(&other)),
            _ => {
                return Err(ProviderError::Invalid {
                    message: format!(
                        "environment variable `{name}` of function `{key}` is not a text value"
                    ),
                    span: Some(function.span),
                    help: "give environment variables strings, numbers or booleans".into(),
                })
            }
        };
        environment.insert(name.clone(), value);
    }

    let mut layers = Vec::new();
    for (index, layer) in function.layers.iter().enumerate() {
        let resolved =
            context.resolve_text(layer, place(&format!("{path}.layers[{index}]"), span))?;
        depends_on.extend(resolved.depends_on);
        layers.push(resolved.value);
    }

    let reserved = match &function.reserved_concurrency {
        None | Some(Json::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| ProviderError::Invalid {
                    message: format!("`{path}.reservedConcurrency` must be a whole number"),
                    span: Some(function.span),
                    help: "set it to a number of concurrent executions, e.g. 5".into(),
                })?,
        ),
    };
    let architecture = match function.architecture {
        Architecture::X86_64 => "x86_64",
        Architecture::Arm64 => "arm64",
    };
    let tags = context.tags_with(&function.tags);
    let properties = FunctionProperties {
        handler: Some(handler),
        runtime: Some(runtime),
        memory_size: Some(i64::from(function.memory_size)),
        timeout: Some(i64::from(function.timeout)),
        environment,
        architecture: architecture.to_string(),
        layers,
        description: function.description.clone().filter(|d| !d.is_empty()),
        role,
        tags,
        code_sha256: Some(artifact.sha256.clone()),
        reserved_concurrency: reserved,
    };
    Ok(Desired {
        id: target.id.clone(),
        properties: properties.to_properties(),
        inputs: Properties::from([
            ("s3_bucket".into(), json!(context.bucket)),
            ("s3_key".into(), json!(artifact_key)),
        ]),
        depends_on,
        replace_when: BTreeSet::new(),
    })
}

/// A given role: an ARN as is, a name as the account's role of that name, or a CloudFormation
/// reference to a role the service defines.
fn role_arn(
    context: &Context<'_>,
    given: &Json,
    place: Place<'_>,
    depends_on: &mut BTreeSet<crate::plan::ResourceId>,
) -> Result<Json, ProviderError> {
    if let Some(name) = given.as_str() {
        if name.starts_with("arn:") {
            return Ok(json!(name));
        }
        return Ok(json!(format!(
            "arn:{}:iam::{}:role/{name}",
            context.partition, context.account
        )));
    }
    let resolved = context.resolve(given, place)?;
    depends_on.extend(resolved.depends_on);
    Ok(resolved.value)
}

/// Lambda's CodeSha256 (base64) as the lower-case hex the artifacts are named by.
pub fn base64_to_hex(text: &str) -> Option<String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .map(hex::encode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_code_hashes_compare_with_artifact_hashes() {
        // sha256("") in base64, as Lambda reports it, and in hex, as artifacts are named.
        assert_eq!(
            base64_to_hex("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(base64_to_hex("not base64!"), None);
    }
}
