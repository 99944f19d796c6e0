//! The function settings beyond code, handler and sizes, read from the manifest with their
//! `provider:` defaults as the Serverless Framework v3 applies them: `ephemeralStorageSize`,
//! `tracing`, `kmsKeyArn`, `vpc` and `fileSystemConfig`. Pure: the function kind compares
//! what this returns with what Lambda reports, and the role kind asks it which permissions
//! the functions running with the generated role need for them.
//!
//! Values are normalized to what Lambda reports back, so an unchanged manifest plans no change:
//! 512 MB of ephemeral storage and `PassThrough` tracing when none is set, VPC ids sorted.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::manifest::model::Function;
use crate::plan::{Reference, ResourceId};
use crate::provider::aws::context::Context;
use crate::provider::aws::intrinsic::Place;
use crate::provider::ProviderError;

/// Lambda's ephemeral storage when none is set, and the range it accepts (MB).
pub const EPHEMERAL_STORAGE_DEFAULT: i64 = 512;
const EPHEMERAL_STORAGE_RANGE: std::ops::RangeInclusive<i64> = 512..=10240;
/// Lambda's tracing mode when none is set.
pub const TRACING_DEFAULT: &str = "PassThrough";

/// A function's VPC attachment. Ids may refer to the service's stack until apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionVpc {
    pub security_group_ids: Vec<Json>,
    pub subnet_ids: Vec<Json>,
}

/// An EFS access point mounted into the function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSystem {
    /// The access point's ARN; may refer to the service's stack until apply.
    pub arn: Json,
    pub local_mount_path: String,
}

/// The settings of one function, with the resources their values refer to.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub ephemeral_storage: i64,
    /// `Active` or `PassThrough`.
    pub tracing: String,
    /// Null for Lambda's own key.
    pub kms_key_arn: Json,
    /// `onError`: an SNS topic or SQS queue ARN (or a reference to one); null for none.
    pub dead_letter_target: Json,
    /// What the role needs to send there: `sns:Publish` or `sqs:SendMessage`.
    pub dead_letter_action: Option<&'static str>,
    pub vpc: Option<FunctionVpc>,
    pub file_system: Option<FileSystem>,
    pub depends_on: BTreeSet<ResourceId>,
}

/// Reads the settings of function `key`, refusing values Lambda would refuse.
pub fn read(
    context: &Context<'_>,
    key: &str,
    function: &Function,
) -> Result<Settings, ProviderError> {
    let own = function.raw.as_object();
    let provider = context.service.provider.raw.as_object();
    let path = format!("functions.{key}");
    let span = Some(function.span);
    let mut depends_on = BTreeSet::new();

    let ephemeral_storage = match own.and_then(|o| o.get("ephemeralStorageSize")) {
        None | Some(Json::Null) => EPHEMERAL_STORAGE_DEFAULT,
        Some(value) => whole_number(value)
            .filter(|size| EPHEMERAL_STORAGE_RANGE.contains(size))
            .ok_or_else(|| ProviderError::Invalid {
                message: format!(
                    "`{path}.ephemeralStorageSize` of function `{key}` is {value}, outside what Lambda accepts"
                ),
                span,
                help: "set a whole number of MB from 512 to 10240".into(),
            })?,
    };

    let provider_tracing = provider
        .and_then(|p| p.get("tracing"))
        .and_then(|t| t.get("lambda"));
    let tracing = match own.and_then(|o| o.get("tracing")).filter(|t| !t.is_null()) {
        Some(value) => tracing_mode(value)
            .ok_or_else(|| invalid_tracing(&format!("{path}.tracing"), value, span))?,
        None => match provider_tracing.filter(|t| !t.is_null()) {
            Some(value) => tracing_mode(value)
                .ok_or_else(|| invalid_tracing("provider.tracing.lambda", value, None))?,
            None => TRACING_DEFAULT.to_string(),
        },
    };

    let kms_key_arn = match own
        .and_then(|o| o.get("kmsKeyArn"))
        .filter(|k| !k.is_null())
    {
        Some(value) => resolve(
            context,
            value,
            &format!("{path}.kmsKeyArn"),
            span,
            &mut depends_on,
        )?,
        None => match provider
            .and_then(|p| p.get("kmsKeyArn"))
            .filter(|k| !k.is_null())
        {
            Some(value) => resolve(context, value, "provider.kmsKeyArn", None, &mut depends_on)?,
            None => Json::Null,
        },
    };

    let (dead_letter_target, dead_letter_action) = match own
        .and_then(|o| o.get("onError"))
        .filter(|v| !v.is_null())
    {
        None => (Json::Null, None),
        Some(value) => {
            let at = format!("{path}.onError");
            let target = resolve(context, value, &at, span, &mut depends_on)?;
            let service = match target.as_str() {
                Some(arn) if arn.starts_with("arn:") => arn.split(':').nth(2).map(str::to_string),
                Some(_) => None,
                None => super::function_destinations::referred_service(context, value),
            };
            let action = match service.as_deref() {
                    Some("sns") => "sns:Publish",
                    Some("sqs") => "sqs:SendMessage",
                    _ => {
                        return Err(ProviderError::Invalid {
                            message: format!(
                                "`{at}` of function `{key}` is not an SNS topic or SQS queue"
                            ),
                            span,
                            help: "give the ARN of the topic or queue failed invocations go to, or a `Ref`/`Fn::GetAtt` of one".into(),
                        })
                    }
                };
            (target, Some(action))
        }
    };

    let vpc = vpc(context, key, function, &mut depends_on)?;

    let file_system = match own
        .and_then(|o| o.get("fileSystemConfig"))
        .filter(|f| !f.is_null())
    {
        None => None,
        Some(value) => {
            let at = format!("{path}.fileSystemConfig");
            if vpc.is_none() {
                return Err(ProviderError::Invalid {
                    message: format!(
                        "function `{key}` mounts a file system (`{at}`) but runs outside a VPC"
                    ),
                    span,
                    help: "Lambda mounts EFS only inside a VPC: give the function (or `provider`) a `vpc` with `securityGroupIds` and `subnetIds`".into(),
                });
            }
            let arn = value.get("arn").filter(|a| !a.is_null()).ok_or_else(|| {
                ProviderError::Invalid {
                    message: format!("`{at}` of function `{key}` has no `arn`"),
                    span,
                    help: "set `arn` to the EFS access point's ARN".into(),
                }
            })?;
            let arn = resolve(context, arn, &format!("{at}.arn"), span, &mut depends_on)?;
            let mount = value
                .get("localMountPath")
                .and_then(Json::as_str)
                .unwrap_or_default();
            if !valid_mount_path(mount) {
                return Err(ProviderError::Invalid {
                    message: format!(
                        "`{at}.localMountPath` of function `{key}` is `{mount}`, which Lambda refuses"
                    ),
                    span,
                    help: "mount under /mnt/, e.g. `localMountPath: /mnt/data`".into(),
                });
            }
            Some(FileSystem {
                arn,
                local_mount_path: mount.to_string(),
            })
        }
    };

    Ok(Settings {
        ephemeral_storage,
        tracing,
        kms_key_arn,
        dead_letter_target,
        dead_letter_action,
        vpc,
        file_system,
        depends_on,
    })
}

/// The function's VPC: its own `vpc`, each list falling back to `provider.vpc`'s; `vpc: ~` or
/// `vpc: {}` on the function runs it outside any VPC. Both lists are needed, as Lambda needs both.
fn vpc(
    context: &Context<'_>,
    key: &str,
    function: &Function,
    depends_on: &mut BTreeSet<ResourceId>,
) -> Result<Option<FunctionVpc>, ProviderError> {
    let own = function.raw.as_object().and_then(|o| o.get("vpc"));
    let opted_out = match own {
        Some(Json::Null) => true,
        Some(Json::Object(map)) => map.values().all(Json::is_null),
        _ => false,
    };
    if opted_out {
        return Ok(None);
    }
    let provider = context
        .service
        .provider
        .raw
        .get("vpc")
        .filter(|v| !v.is_null());
    let pick = |list: &str| -> Option<(String, &Json, Option<crate::manifest::source::Span>)> {
        if let Some(value) = own.and_then(|v| v.get(list)).filter(|v| !v.is_null()) {
            return Some((
                format!("functions.{key}.vpc.{list}"),
                value,
                Some(function.span),
            ));
        }
        provider
            .and_then(|v| v.get(list))
            .filter(|v| !v.is_null())
            .map(|value| (format!("provider.vpc.{list}"), value, None))
    };
    let (Some(groups), Some(subnets)) = (pick("securityGroupIds"), pick("subnetIds")) else {
        if own.is_some() || provider.is_some() {
            return Err(ProviderError::Invalid {
                message: format!(
                    "the `vpc` of function `{key}` needs both `securityGroupIds` and `subnetIds`"
                ),
                span: Some(function.span),
                help: "give both lists (on the function or under `provider.vpc`), or `vpc: ~` on the function to run it outside a VPC".into(),
            });
        }
        return Ok(None);
    };
    let mut ids = |(path, value, span): (String, &Json, Option<crate::manifest::source::Span>)| {
        let Json::Array(items) = value else {
            return Err(ProviderError::Invalid {
                message: format!("`{path}` of function `{key}` is not a list"),
                span,
                help: "write a list of ids, e.g. `[sg-0123456789abcdef0]`".into(),
            });
        };
        let mut resolved = Vec::new();
        for (index, item) in items.iter().enumerate() {
            resolved.push(resolve(
                context,
                item,
                &format!("{path}[{index}]"),
                span,
                depends_on,
            )?);
        }
        sort_known(&mut resolved);
        Ok(resolved)
    };
    let security_group_ids = ids(groups)?;
    let subnet_ids = ids(subnets)?;
    if security_group_ids.is_empty() || subnet_ids.is_empty() {
        return Ok(None);
    }
    Ok(Some(FunctionVpc {
        security_group_ids,
        subnet_ids,
    }))
}

/// Sorts ids as Lambda reports them back (sorted), when all are known text.
pub fn sort_known(ids: &mut [Json]) {
    if ids.iter().all(Json::is_string) {
        ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
}

/// What the execution role needs for the settings of the functions that run with it: the
/// statements (X-Ray for active tracing, `kms:Decrypt` for the key, EFS for a mount) and the
/// managed policy Lambda needs to attach a function to a VPC, as the Framework adds them.
pub fn role_needs(context: &Context<'_>) -> Result<RoleNeeds, ProviderError> {
    let mut statements: Vec<Json> = Vec::new();
    let mut managed = Vec::new();
    let mut depends_on = BTreeSet::new();
    let mut add = |statement: Json| {
        if !statements.contains(&statement) {
            statements.push(statement);
        }
    };
    for (key, function) in &context.service.functions {
        if function.role.is_some() {
            continue;
        }
        let settings = read(context, key, function)?;
        depends_on.extend(settings.depends_on);
        if settings.tracing == "Active" {
            add(
                json!({"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": ["*"]}),
            );
        }
        if !settings.kms_key_arn.is_null() {
            add(
                json!({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [settings.kms_key_arn]}),
            );
        }
        if let Some(action) = settings.dead_letter_action {
            add(
                json!({"Effect": "Allow", "Action": [action], "Resource": [settings.dead_letter_target]}),
            );
        }
        if let Some(file_system) = settings.file_system {
            add(
                json!({"Effect": "Allow", "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], "Resource": [file_system.arn]}),
            );
        }
        if settings.vpc.is_some() {
            managed.push(format!(
                "arn:{}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                context.partition
            ));
        }
    }
    Ok(RoleNeeds {
        statements,
        managed_policies: managed,
        depends_on,
    })
}

/// What [`role_needs`] finds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleNeeds {
    pub statements: Vec<Json>,
    /// ARNs.
    pub managed_policies: Vec<String>,
    /// What the statements refer to.
    pub depends_on: BTreeSet<ResourceId>,
}

fn resolve(
    context: &Context<'_>,
    value: &Json,
    path: &str,
    span: Option<crate::manifest::source::Span>,
    depends_on: &mut BTreeSet<ResourceId>,
) -> Result<Json, ProviderError> {
    let resolved = context.resolve(value, Place { path, span })?;
    match &resolved.value {
        Json::String(_) => {}
        other if Reference::from_json(other).is_some() => {}
        _ => {
            return Err(ProviderError::Invalid {
                message: format!("`{path}` is not a text value"),
                span,
                help: "write an id or ARN, or a `Ref` or `Fn::GetAtt` of a resource".into(),
            })
        }
    }
    depends_on.extend(resolved.depends_on);
    Ok(resolved.value)
}

/// `Active` and `PassThrough` as written; `true` is `Active` and `false` `PassThrough`.
fn tracing_mode(value: &Json) -> Option<String> {
    match value {
        Json::Bool(true) => Some("Active".into()),
        Json::Bool(false) => Some(TRACING_DEFAULT.into()),
        Json::String(mode) => match mode.as_str() {
            "Active" | "PassThrough" => Some(mode.clone()),
            "true" => Some("Active".into()),
            "false" => Some(TRACING_DEFAULT.into()),
            _ => None,
        },
        _ => None,
    }
}

fn invalid_tracing(
    path: &str,
    value: &Json,
    span: Option<crate::manifest::source::Span>,
) -> ProviderError {
    ProviderError::Invalid {
        message: format!("`{path}` is {value}, not a tracing mode"),
        span,
        help: "set `Active` or `PassThrough` (or `true` / `false`)".into(),
    }
}

fn whole_number(value: &Json) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}

/// Lambda's rule for a mount path: `/mnt/` and a name of letters, digits, `-`, `_` and `.`.
fn valid_mount_path(path: &str) -> bool {
    path.strip_prefix("/mnt/").is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 155
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    })
}

/// A container image's settings: what overrides the image's own `CMD`, `ENTRYPOINT` and
/// `WORKDIR`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSettings {
    pub command: Vec<String>,
    pub entry_point: Vec<String>,
    pub working_directory: Option<String>,
}

impl ImageSettings {
    /// None when nothing is overridden, as Lambda reports an image with no overrides.
    pub fn or_none(self) -> Option<ImageSettings> {
        (!self.command.is_empty()
            || !self.entry_point.is_empty()
            || self.working_directory.is_some())
        .then_some(self)
    }
}

/// A function's container image, given by its URI.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub uri: String,
    pub settings: Option<ImageSettings>,
}

/// `image: URI` or `image: {uri, command, entryPoint, workingDirectory}`. An image updraft
/// would have to build (`image: name` or `{name}` of `provider.ecr.images`) is refused: that
/// takes Docker.
pub fn image(key: &str, function: &Function) -> Result<Option<Image>, ProviderError> {
    let Some(image) = function.image.as_ref().filter(|i| !i.is_null()) else {
        return Ok(None);
    };
    let path = format!("functions.{key}.image");
    let span = Some(function.span);
    let built = || {
        ProviderError::Unsupported {
        what: format!("building the container image of function `{key}` (at `{path}`)"),
        span,
        help: "build and push the image yourself (docker build, docker push to ECR), then give its URI: `image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/repository@sha256:...` or `image: {uri: ...}`".into(),
    }
    };
    let (uri, options) = match image {
        Json::String(uri) => (uri.clone(), None),
        Json::Object(options) => match options.get("uri").and_then(Json::as_str) {
            Some(uri) => (uri.to_string(), Some(options)),
            None => return Err(built()),
        },
        _ => {
            return Err(ProviderError::Invalid {
                message: format!("`{path}` of function `{key}` is neither a URI nor an object"),
                span,
                help: "write `image: URI` or `image: {uri: URI, command: [...]}`".into(),
            })
        }
    };
    // A name of `provider.ecr.images`, not a repository URI.
    if !uri.contains('/') {
        return Err(built());
    }
    if function.handler.is_some() {
        return Err(ProviderError::Invalid {
            message: format!("function `{key}` sets both `handler` and `image`"),
            span,
            help: "a function runs either a handler from the service's code or a container image: remove one".into(),
        });
    }
    let strings = |name: &str| -> Result<Vec<String>, ProviderError> {
        match options.and_then(|o| o.get(name)) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(items)) if items.iter().all(Json::is_string) => Ok(items
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()),
            Some(_) => Err(ProviderError::Invalid {
                message: format!("`{path}.{name}` of function `{key}` is not a list of strings"),
                span,
                help: "write a list, e.g. `command: [app.handler]`".into(),
            }),
        }
    };
    let settings = ImageSettings {
        command: strings("command")?,
        entry_point: strings("entryPoint")?,
        working_directory: options
            .and_then(|o| o.get("workingDirectory"))
            .and_then(Json::as_str)
            .map(str::to_string),
    };
    Ok(Some(Image {
        uri,
        settings: settings.or_none(),
    }))
}
