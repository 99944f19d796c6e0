//! Publishing and deleting the versions of a Lambda layer (see [`super::layer`]).
//!
//! - Create publishes the first version the service makes. Versions of that name that were
//!   there before were not recorded as the service's (the deploy state records a layer's name
//!   before its first version is published), so they are left alone.
//! - Replace publishes a new version from the artifact in the deployment bucket and then,
//!   unless `retain`, deletes every older version, as CloudFormation deletes the version it
//!   replaced. A function still on an older version keeps running (Lambda keeps a deleted
//!   version's content for the functions that use it), and its own step moves it to the new
//!   version in the same plan.
//! - Update changes `retain` alone: nothing in Lambda.
//! - Delete deletes every version; a retained layer is never planned for deletion.

use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};
use serde_json::json;

use super::layer::{live_attributes, LayerProperties};
use super::{props, Typed};
use crate::plan::{Action, Properties, Step};
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::ProviderError;

pub async fn apply(
    aws: &Aws,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let name = step.id.name.as_str();
    match step.action {
        Action::Delete => {
            if step.live.as_ref().is_some_and(|live| live.is_retained()) {
                return Ok(Properties::new());
            }
            delete_versions(aws, name, |_| true).await?;
            Ok(Properties::new())
        }
        Action::NoOp | Action::Update => Ok(live_attributes(step)),
        Action::Create | Action::Replace => {
            let wanted = LayerProperties::from_properties(properties, &step.id)?;
            let (arn, published) = publish(aws, step, &wanted).await?;
            if step.action == Action::Replace && !wanted.retain {
                delete_versions(aws, name, |version| version < published).await?;
            }
            Ok(attributes(&arn, name, published))
        }
    }
}

/// What other resources read of a layer: `arn` is its latest version's ARN (what `Ref` gives).
pub fn attributes(version_arn: &str, name: &str, version: i64) -> Properties {
    props::attributes([
        ("arn", json!(version_arn)),
        ("name", json!(name)),
        ("version", json!(version)),
    ])
}

/// Publishes a version from the artifact; returns its ARN and number.
async fn publish(
    aws: &Aws,
    step: &Step,
    wanted: &LayerProperties,
) -> Result<(String, i64), ProviderError> {
    let bucket = props::input(step, "s3_bucket")?;
    let key = props::input(step, "s3_key")?;
    let content = LayerVersionContentInput::builder()
        .s3_bucket(bucket)
        .s3_key(key)
        .build();
    let answer = aws
        .lambda
        .publish_layer_version()
        .layer_name(&step.id.name)
        .content(content)
        .set_description(wanted.description.clone())
        .set_license_info(wanted.license_info.clone())
        .set_compatible_runtimes((!wanted.compatible_runtimes.is_empty()).then(|| {
            wanted
                .compatible_runtimes
                .iter()
                .map(|r| Runtime::from(r.as_str()))
                .collect()
        }))
        .set_compatible_architectures((!wanted.compatible_architectures.is_empty()).then(|| {
            wanted
                .compatible_architectures
                .iter()
                .map(|a| Architecture::from(a.as_str()))
                .collect()
        }))
        .send()
        .await
        .map_err(|error| call::failed("lambda:PublishLayerVersion", &step.id, &error))?;
    let version = answer.version();
    let arn = answer.layer_version_arn().map_or_else(
        || aws.arn("lambda", &format!("layer:{}:{version}", step.id.name)),
        str::to_string,
    );
    Ok((arn, version))
}

/// Every version number of the layer of this name (none when there is no such layer).
pub async fn versions(aws: &Aws, name: &str) -> Result<Vec<i64>, ProviderError> {
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let answer = aws
            .lambda
            .list_layer_versions()
            .layer_name(name)
            .set_marker(marker.take())
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) if call::is(&error, &["ResourceNotFoundException"]) => return Ok(found),
            Err(error) => {
                return Err(call::failed(
                    "lambda:ListLayerVersions",
                    format!("layer {name}"),
                    &error,
                ))
            }
        };
        found.extend(answer.layer_versions().iter().map(|v| v.version()));
        match answer.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(found)
}

/// Deletes the layer's versions that `which` picks; a version already gone counts as deleted.
async fn delete_versions(
    aws: &Aws,
    name: &str,
    which: impl Fn(i64) -> bool,
) -> Result<(), ProviderError> {
    for version in versions(aws, name).await? {
        if !which(version) {
            continue;
        }
        let result = aws
            .lambda
            .delete_layer_version()
            .layer_name(name)
            .version_number(version)
            .send()
            .await;
        call::deleted(
            result,
            "ResourceNotFoundException",
            "lambda:DeleteLayerVersion",
            format!("layer {name} version {version}"),
        )?;
    }
    Ok(())
}
