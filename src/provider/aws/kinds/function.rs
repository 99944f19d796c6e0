//! Lambda functions: code from the artifact in the deployment bucket, compared by hash
//! (`code_sha256`, hex; Lambda reports the same hash in base64), and the configuration
//! (handler, runtime, memory, timeout, environment, architecture, layers, description, role,
//! tags, reserved concurrency, and the settings of [`super::function_settings`]), or a
//! container image by its URI (ListFunctions does not report the URI: one GetFunction per image
//! function reads it).
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
use super::function_settings::{self, FileSystem, FunctionVpc, ImageSettings};
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
    super::function_destinations::DESTINATIONS_TAG,
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
    "ephemeralStorageSize",
    "tracing",
    "kmsKeyArn",
    "vpc",
    "maximumRetryAttempts",
    "onError",
    "maximumEventAge",
    "fileSystemConfig",
    "dependsOn",
    "image",
    "destinations",
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
    /// MB of `/tmp`.
    pub ephemeral_storage: Option<i64>,
    /// `Active` or `PassThrough`.
    pub tracing: Option<String>,
    /// The key that encrypts the environment (null: Lambda's own); may refer to a resource
    /// until apply.
    pub kms_key_arn: Json,
    pub vpc: Option<FunctionVpc>,
    pub file_system: Option<FileSystem>,
    /// `Zip` or `Image`.
    pub package_type: Option<String>,
    /// A container image's URI (image functions only).
    pub image_uri: Option<String>,
    /// What overrides the image's command, entry point and working directory.
    pub image: Option<ImageSettings>,
    /// `onError`: the SNS topic or SQS queue an asynchronous invocation that failed every
    /// attempt goes to (the function's dead-letter target); null for none.
    #[serde(default)]
    pub dead_letter_target: Json,
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
            || self.ephemeral_storage != wanted.ephemeral_storage
            || self.tracing != wanted.tracing
            || self.kms_key_arn != wanted.kms_key_arn
            || self.vpc != wanted.vpc
            || self.file_system != wanted.file_system
            || self.image != wanted.image
            || self.dead_letter_target != wanted.dead_letter_target
    }

    /// Whether UpdateFunctionCode must be called.
    pub fn code_differs(&self, wanted: &FunctionProperties) -> bool {
        self.code_sha256 != wanted.code_sha256
            || self.architecture != wanted.architecture
            || self.image_uri != wanted.image_uri
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
                let is_image = configuration
                    .package_type()
                    .is_some_and(|p| p.as_str() == "Image");
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
                    // An image function's hash is its image's digest: its URI is compared.
                    code_sha256: configuration
                        .code_sha256()
                        .filter(|_| !is_image)
                        .and_then(base64_to_hex),
                    reserved_concurrency: reserved,
                    ephemeral_storage: Some(
                        configuration
                            .ephemeral_storage()
                            .map_or(function_settings::EPHEMERAL_STORAGE_DEFAULT, |e| {
                                i64::from(e.size())
                            }),
                    ),
                    tracing: Some(
                        configuration
                            .tracing_config()
                            .and_then(|t| t.mode())
                            .map_or(function_settings::TRACING_DEFAULT, |m| m.as_str())
                            .to_string(),
                    ),
                    kms_key_arn: configuration
                        .kms_key_arn()
                        .filter(|arn| !arn.is_empty())
                        .map_or(Json::Null, |arn| json!(arn)),
                    vpc: live_vpc(configuration),
                    dead_letter_target: configuration
                        .dead_letter_config()
                        .and_then(|d| d.target_arn())
                        .filter(|arn| !arn.is_empty())
                        .map_or(Json::Null, |arn| json!(arn)),
                    file_system: configuration.file_system_configs().first().map(|config| {
                        FileSystem {
                            arn: json!(config.arn()),
                            local_mount_path: config.local_mount_path().to_string(),
                        }
                    }),
                    package_type: Some(if is_image { "Image" } else { "Zip" }.to_string()),
                    image_uri: owned.image_uri.clone(),
                    image: configuration
                        .image_config_response()
                        .and_then(|response| response.image_config())
                        .and_then(|config| {
                            ImageSettings {
                                command: config.command().to_vec(),
                                entry_point: config.entry_point().to_vec(),
                                working_directory: config
                                    .working_directory()
                                    .filter(|d| !d.is_empty())
                                    .map(str::to_string),
                            }
                            .or_none()
                        }),
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
        if settings
            .get("provisionedConcurrency")
            .is_some_and(|value| !value.is_null())
        {
            return Err(ProviderError::Unsupported {
                what: format!(
                    "provisioned concurrency of function `{key}` (at `{path}.provisionedConcurrency`)"
                ),
                span,
                help: "it needs a published version and an alias (`provisioned`, as the Framework makes them), which updraft does not publish yet: remove the setting, or use `reservedConcurrency` to keep capacity for the function".into(),
            });
        }
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
    let image = function_settings::image(key, function)?;
    let mut depends_on = BTreeSet::from([naming::id(
        kind::LOG_GROUP,
        naming::log_group_name(&function.name),
    )]);
    let (handler, runtime, code_sha256, inputs) = match &image {
        Some(_) => (None, None, None, Properties::new()),
        None => {
            let (handler, runtime, artifact) = zip_code(context, key, function)?;
            let artifact_key =
                naming::artifact_key(&context.name, &context.stage, &artifact.sha256);
            depends_on.insert(naming::id(kind::ARTIFACT, artifact_key.clone()));
            (
                Some(handler),
                Some(runtime),
                Some(artifact.sha256.clone()),
                Properties::from([
                    ("s3_bucket".into(), json!(context.bucket)),
                    ("s3_key".into(), json!(artifact_key)),
                ]),
            )
        }
    };

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

    let layers = function_layers(context, key, function)?;
    depends_on.extend(layers.depends_on);
    let layers = layers.value.as_array().cloned().unwrap_or_default();

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
    let settings = function_settings::read(context, key, function)?;
    depends_on.extend(settings.depends_on);
    depends_on.extend(named_dependencies(context, key, function)?);
    let tags = context.tags_with(&function.tags);
    let properties = FunctionProperties {
        handler,
        runtime,
        memory_size: Some(i64::from(function.memory_size)),
        timeout: Some(i64::from(function.timeout)),
        environment,
        architecture: architecture.to_string(),
        layers,
        description: function.description.clone().filter(|d| !d.is_empty()),
        role,
        tags,
        code_sha256,
        reserved_concurrency: reserved,
        ephemeral_storage: Some(settings.ephemeral_storage),
        tracing: Some(settings.tracing),
        kms_key_arn: settings.kms_key_arn,
        dead_letter_target: settings.dead_letter_target,
        vpc: settings.vpc,
        file_system: settings.file_system,
        package_type: Some(if image.is_some() { "Image" } else { "Zip" }.to_string()),
        image_uri: image.as_ref().map(|i| i.uri.clone()),
        image: image.and_then(|i| i.settings),
    };
    Ok(Desired {
        id: target.id.clone(),
        properties: properties.to_properties(),
        inputs,
        depends_on,
        // Lambda cannot turn a zip function into an image function or back.
        replace_when: BTreeSet::from(["package_type".to_string()]),
    })
}

/// A function's layers: ARNs, and references to the version a layer of the service publishes
/// (`{Ref: {Key}LambdaLayer}`), which are known once it is published. At most five, as Lambda
/// allows.
fn function_layers(
    context: &Context<'_>,
    key: &str,
    function: &Function,
) -> Result<crate::provider::aws::intrinsic::Resolved, ProviderError> {
    let path = format!("functions.{key}.layers");
    let limit = super::layer::LAYERS_PER_FUNCTION_LIMIT;
    if function.layers.len() > limit {
        return Err(ProviderError::Invalid {
            message: format!(
                "function `{key}` has {} layers, more than Lambda's limit of {limit}",
                function.layers.len()
            ),
            span: Some(function.span),
            help: format!("give `{path}` (or `provider.layers`) at most {limit} layers: merge some into one layer"),
        });
    }
    let mut layers = Vec::new();
    let mut depends_on = BTreeSet::new();
    for (index, layer) in function.layers.iter().enumerate() {
        let at = format!("{path}[{index}]");
        let place = Place {
            path: &at,
            span: Some(function.span),
        };
        let resolved = context.resolve(layer, place)?;
        let fits = resolved.value.is_string() || Reference::from_json(&resolved.value).is_some();
        if !fits {
            return Err(ProviderError::Invalid {
                message: format!("`{path}[{index}]` is not a layer version's ARN"),
                span: Some(function.span),
                help: "give a layer version's ARN, or `{Ref: {Key}LambdaLayer}` for a layer of the service's `layers:`".into(),
            });
        }
        depends_on.extend(resolved.depends_on);
        layers.push(resolved.value);
    }
    Ok(crate::provider::aws::intrinsic::Resolved {
        value: Json::Array(layers),
        depends_on,
    })
}

/// The handler, runtime and artifact of a function whose code is the service's zip.
fn zip_code<'a>(
    context: &Context<'a>,
    key: &str,
    function: &Function,
) -> Result<(String, String, &'a crate::package::Artifact), ProviderError> {
    let handler = function
        .handler
        .clone()
        .ok_or_else(|| ProviderError::Invalid {
            message: format!("function `{key}` has no `handler`"),
            span: Some(function.span),
            help: "set `handler: file.function`, or `image:` with a container image's URI".into(),
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
    Ok((handler, runtime, artifact))
}

/// `dependsOn`: the `resources:` logical ids the function is created after. A resource of the
/// service's stack orders the function after the stack; one updraft deploys itself (a queue,
/// another function) after that resource.
fn named_dependencies(
    context: &Context<'_>,
    key: &str,
    function: &Function,
) -> Result<BTreeSet<crate::plan::ResourceId>, ProviderError> {
    let path = format!("functions.{key}.dependsOn");
    let names: Vec<&Json> = match function.raw.get("dependsOn") {
        None | Some(Json::Null) => return Ok(BTreeSet::new()),
        Some(Json::Array(many)) => many.iter().collect(),
        Some(one) => vec![one],
    };
    let mut found = BTreeSet::new();
    for name in names {
        let Some(name) = name.as_str() else {
            return Err(ProviderError::Invalid {
                message: format!("`{path}` of function `{key}` holds {name}, not a logical id"),
                span: Some(function.span),
                help: "list the logical ids of resources under `resources.Resources`".into(),
            });
        };
        if context.stack.resources.contains_key(name) {
            found.insert(context.stack.id.clone());
        } else if let Some(logical) = context.logical.get(name) {
            if logical.id != naming::id(kind::FUNCTION, function.name.clone()) {
                found.insert(logical.id.clone());
            }
        } else {
            return Err(ProviderError::Invalid {
                message: format!(
                    "`{path}` of function `{key}` names `{name}`, which the service does not define"
                ),
                span: Some(function.span),
                help: "name a resource under `resources.Resources` (or a function as `{Key}LambdaFunction`)".into(),
            });
        }
    }
    Ok(found)
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

/// The VPC Lambda reports, ids sorted; none when its lists are empty (Lambda reports empty
/// lists for a function outside any VPC).
fn live_vpc(configuration: &aws_sdk_lambda::types::FunctionConfiguration) -> Option<FunctionVpc> {
    let vpc = configuration.vpc_config()?;
    let ids = |list: &[String]| {
        let mut ids: Vec<Json> = list.iter().map(|id| json!(id)).collect();
        function_settings::sort_known(&mut ids);
        ids
    };
    let vpc = FunctionVpc {
        security_group_ids: ids(vpc.security_group_ids()),
        subnet_ids: ids(vpc.subnet_ids()),
    };
    (!vpc.security_group_ids.is_empty() && !vpc.subnet_ids.is_empty()).then_some(vpc)
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
