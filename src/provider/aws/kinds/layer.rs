//! Lambda layers built from the service (`layers:`): one resource per layer, named as the
//! Serverless Framework names it (its `name`, else its key), whose live state is its latest
//! version. A layer version cannot change: a new zip (compared by hash) or a changed setting
//! (description, compatible runtimes and architectures, license) publishes a new version, so
//! those properties replace the resource, and the functions that refer to it
//! (`{Ref: {Key}LambdaLayer}`, the version's ARN) move to the new version in the same plan.
//! `retain` is not a version's setting: changing it alone changes nothing in Lambda.
//!
//! Live: Lambda layers take no tags, so the live reader finds the service's layers by the names
//! the deploy state records ([`crate::provider::aws::deploy_state`]): a deploy records a
//! layer's name before it publishes the first version. A name the manifest gives that the
//! deploy state does not record is not read as the service's: a layer of that name may belong
//! to someone else (layer names are per account and region, and the Framework names a layer by
//! its bare key), and its versions must not be deleted. One ListLayerVersions per layer gives
//! its versions, and one GetLayerVersion of the latest its content hash and settings
//! (ListLayerVersions does not report the content). Lambda reports the hash as the version's
//! `Content.CodeSha256`, the base64 sha256 of the zip, which compares with the artifact's hash
//! as a function's code does; nothing has to be kept in the version's description.
//!
//! Apply is in [`super::layer_apply`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::function::base64_to_hex;
use super::{layer_apply, props, ResourceKind, Typed};
use crate::plan::{Desired, DesiredState, Live, Properties, Step, RETAINED};
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::{layer_name, Context};
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

/// Lambda's limit on the runtimes a layer version lists.
pub const COMPATIBLE_RUNTIMES_LIMIT: usize = 15;
/// Lambda's limit on the layers of one function.
pub const LAYERS_PER_FUNCTION_LIMIT: usize = 5;
/// Lambda's limit on a layer's name.
const NAME_LIMIT: usize = 64;

/// The layer settings updraft deploys; the others the Framework knows are refused.
const SUPPORTED_SETTINGS: &[&str] = &[
    "path",
    "name",
    "description",
    "compatibleRuntimes",
    "compatibleArchitectures",
    "licenseInfo",
    "retain",
    "package",
];

/// The properties that a published version holds: a change to any of them publishes a new one.
const VERSION_PROPERTIES: &[&str] = &[
    "sha256",
    "description",
    "compatible_runtimes",
    "compatible_architectures",
    "license_info",
];

pub struct Layers;

/// A layer's properties: its latest version's content and settings, and whether its versions
/// are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerProperties {
    /// The zip's sha256, in hex as the artifacts are named.
    pub sha256: String,
    pub description: Option<String>,
    /// Sorted, so that the order they are written in changes nothing.
    pub compatible_runtimes: Vec<String>,
    /// Sorted.
    pub compatible_architectures: Vec<String>,
    pub license_info: Option<String>,
    /// Older versions, and all versions on remove, are kept (the Framework's `retain: true`).
    pub retain: bool,
}

impl Typed for LayerProperties {}

#[async_trait]
impl ResourceKind for Layers {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::LAYER]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        for (key, layer) in &context.service.layers {
            state.resources.push(desired_layer(context, key, layer)?);
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let names = live
            .only_names(kind::LAYER)
            .unwrap_or_else(|| live.state.layers.clone());
        let reads = names.into_iter().map(|name| {
            let aws = std::sync::Arc::clone(&live.aws);
            let retained = live.state.retained_layers.contains(&name);
            async move { read_layer(&aws, &name, retained).await }
        });
        let mut found = Vec::new();
        for read in crate::provider::aws::triggers::concurrently(reads).await {
            found.extend(read?);
        }
        Ok(found)
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        layer_apply::apply(aws, step, properties).await
    }
}

fn desired_layer(context: &Context<'_>, key: &str, layer: &Json) -> Result<Desired, ProviderError> {
    let path = format!("layers.{key}");
    let invalid = |message: String, help: String| ProviderError::Invalid {
        message,
        span: None,
        help,
    };
    let Some(settings) = layer.as_object() else {
        return Err(invalid(
            format!("layer `{key}` is not a map of settings"),
            format!("give `{path}` a `path` (the folder with the layer's content) and its other settings"),
        ));
    };
    let known = crate::manifest::validate::aws::layer_keys();
    if let Some(other) = settings
        .keys()
        .find(|k| !SUPPORTED_SETTINGS.contains(&k.as_str()) && known.contains(&k.as_str()))
    {
        return Err(ProviderError::Unsupported {
            what: format!("the layer setting `{other}` (at `{path}.{other}`)"),
            span: None,
            help: if other == "allowedAccounts" {
                "updraft does not grant other accounts the use of a layer yet: remove `allowedAccounts`, and grant it after deploying (`aws lambda add-layer-version-permission`), or deploy the layer with the Serverless Framework".into()
            } else {
                format!("remove `{path}.{other}`, or deploy this service with the Serverless Framework until updraft supports it")
            },
        });
    }
    let name = layer_name(key, layer);
    check_name(key, &name)?;
    let text = |field: &str| -> Result<Option<String>, ProviderError> {
        match settings.get(field) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(text)) if text.is_empty() => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(invalid(
                format!("`{path}.{field}` is {other}, not a text"),
                format!("write `{path}.{field}` as a string"),
            )),
        }
    };
    let list = |field: &str| -> Result<Vec<String>, ProviderError> {
        let items = match settings.get(field) {
            None | Some(Json::Null) => return Ok(Vec::new()),
            Some(Json::Array(items)) => items,
            Some(other) => {
                return Err(invalid(
                    format!("`{path}.{field}` is {other}, not a list"),
                    format!("write `{path}.{field}` as a list of names"),
                ))
            }
        };
        let mut names = BTreeSet::new();
        for item in items {
            let Some(name) = item.as_str() else {
                return Err(invalid(
                    format!("`{path}.{field}` holds {item}, not a name"),
                    format!("write `{path}.{field}` as a list of names"),
                ));
            };
            names.insert(name.to_string());
        }
        Ok(names.into_iter().collect())
    };
    let compatible_runtimes = list("compatibleRuntimes")?;
    if compatible_runtimes.len() > COMPATIBLE_RUNTIMES_LIMIT {
        return Err(invalid(
            format!(
                "layer `{key}` lists {} compatible runtimes, more than Lambda's limit of {COMPATIBLE_RUNTIMES_LIMIT}",
                compatible_runtimes.len()
            ),
            format!("list at most {COMPATIBLE_RUNTIMES_LIMIT} runtimes in `{path}.compatibleRuntimes`: the ones the functions using the layer run on"),
        ));
    }
    let compatible_architectures = list("compatibleArchitectures")?;
    let retain = match settings.get("retain") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(flag)) => *flag,
        Some(other) => {
            return Err(invalid(
                format!("`{path}.retain` is {other}, not true or false"),
                format!("set `{path}.retain` to true to keep the layer's versions, or false"),
            ))
        }
    };
    let artifact = context.layer_artifact(key).ok_or_else(|| {
        invalid(
            format!("layer `{key}` has no packaged artifact"),
            "package the service first (`updraft package`); deploy packages it for you".into(),
        )
    })?;
    let artifact_key = naming::artifact_key(&context.name, &context.stage, &artifact.sha256);
    let properties = LayerProperties {
        sha256: artifact.sha256.clone(),
        description: text("description")?,
        compatible_runtimes,
        compatible_architectures,
        license_info: text("licenseInfo")?,
        retain,
    };
    Ok(Desired {
        id: naming::id(kind::LAYER, name),
        properties: properties.to_properties(),
        inputs: Properties::from([
            ("s3_bucket".into(), json!(context.bucket)),
            ("s3_key".into(), json!(artifact_key)),
        ]),
        depends_on: BTreeSet::from([naming::id(kind::ARTIFACT, artifact_key)]),
        replace_when: VERSION_PROPERTIES.iter().map(|p| p.to_string()).collect(),
    })
}

/// Lambda's rule for a layer's name: letters, digits, `-` and `_`, at most 64 characters.
fn check_name(key: &str, name: &str) -> Result<(), ProviderError> {
    let fits = !name.is_empty()
        && name.len() <= NAME_LIMIT
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        return Ok(());
    }
    Err(ProviderError::Invalid {
        message: format!("layer `{key}` would be named `{name}`, which Lambda refuses"),
        span: None,
        help: format!("a layer's name has 1 to {NAME_LIMIT} letters, digits, `-` or `_`: set `layers.{key}.name` to one"),
    })
}

/// The layer of this name as it is live: its latest version; none when it has no version.
async fn read_layer(aws: &Aws, name: &str, retained: bool) -> Result<Option<Live>, ProviderError> {
    let versions = layer_apply::versions(aws, name).await?;
    let Some(latest) = versions.iter().copied().max() else {
        return Ok(None);
    };
    let answer = aws
        .lambda
        .get_layer_version()
        .layer_name(name)
        .version_number(latest)
        .send()
        .await;
    let version = match answer {
        Ok(version) => version,
        // Deleted between the two calls: as good as gone.
        Err(error) if call::is(&error, &["ResourceNotFoundException"]) => return Ok(None),
        Err(error) => {
            return Err(call::failed(
                "lambda:GetLayerVersion",
                format!("layer {name} version {latest}"),
                &error,
            ))
        }
    };
    let sorted = |items: Vec<String>| -> Vec<String> {
        items
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let present = |text: Option<&str>| text.filter(|t| !t.is_empty()).map(str::to_string);
    let properties = LayerProperties {
        sha256: version
            .content()
            .and_then(|content| content.code_sha256())
            .and_then(base64_to_hex)
            .unwrap_or_default(),
        description: present(version.description()),
        compatible_runtimes: sorted(
            version
                .compatible_runtimes()
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        ),
        compatible_architectures: sorted(
            version
                .compatible_architectures()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
        ),
        license_info: present(version.license_info()),
        retain: retained,
    };
    let mut attributes = layer_apply::attributes(
        version.layer_version_arn().unwrap_or_default(),
        name,
        latest,
    );
    if retained {
        attributes.insert(RETAINED.into(), json!(true));
    }
    Ok(Some(Live {
        id: naming::id(kind::LAYER, name),
        properties: properties.to_properties(),
        attributes,
        ..Live::default()
    }))
}

/// The attributes a step leaves behind: the live ones, for a step that publishes nothing.
pub fn live_attributes(step: &Step) -> Properties {
    step.live
        .as_ref()
        .map(|live| live.attributes.clone())
        .unwrap_or_else(|| props::attributes([("name", json!(step.id.name))]))
}
