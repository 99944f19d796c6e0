//! Artifacts in the deployment bucket, one object per content hash
//! ([`naming::artifact_key`]): an unchanged artifact has the same key, so it is never uploaded
//! again, and a changed one is a new object (the old one is deleted once no function or layer
//! uses it). A layer's versions are published from its artifact's object.
//!
//! Live: one ListObjectsV2 under the service's prefix (objects under it are the service's by
//! construction).

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::props;
use super::{ResourceKind, Typed};
use crate::plan::{Action, Desired, DesiredState, Live, Properties, Step};
use crate::provider::aws::bucket;
use crate::provider::aws::call;
use crate::provider::aws::clients::Aws;
use crate::provider::aws::context::Context;
use crate::provider::aws::live::LiveContext;
use crate::provider::aws::naming::{self, kind};
use crate::provider::{ProviderError, StepContext};

pub struct Artifacts;

/// An artifact's properties: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactProperties {
    pub bucket: String,
    pub sha256: String,
}

impl Typed for ArtifactProperties {}

#[async_trait]
impl ResourceKind for Artifacts {
    fn kinds(&self) -> &'static [&'static str] {
        &[kind::ARTIFACT]
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        let mut seen = BTreeSet::new();
        for artifact in context.artifacts {
            let used = artifact
                .functions
                .iter()
                .any(|key| context.functions.contains_key(key))
                || artifact
                    .layer
                    .as_ref()
                    .is_some_and(|key| context.service.layers.contains_key(key));
            let key = naming::artifact_key(&context.name, &context.stage, &artifact.sha256);
            if !used || !seen.insert(key.clone()) {
                continue;
            }
            state.resources.push(Desired {
                id: naming::id(kind::ARTIFACT, key),
                properties: ArtifactProperties {
                    bucket: context.bucket.to_string(),
                    sha256: artifact.sha256.clone(),
                }
                .to_properties(),
                inputs: Properties::from([("path".into(), json!(artifact.path.to_string_lossy()))]),
                ..Desired::default()
            });
        }
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        let aws = &live.aws;
        let prefix = format!(
            "{}artifacts/",
            naming::object_prefix(&aws.scope.service, &aws.scope.stage)
        );
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let answer = aws
                .s3
                .list_objects_v2()
                .bucket(&aws.bucket)
                .prefix(&prefix)
                .set_continuation_token(token.take())
                .send()
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                // No bucket yet: nothing deployed.
                Err(error) if bucket::is_missing(&error) => return Ok(found),
                Err(error) => {
                    return Err(call::failed(
                        "s3:ListBucket",
                        format!("bucket {}", aws.bucket),
                        &error,
                    ))
                }
            };
            for object in answer.contents() {
                let Some(key) = object.key() else { continue };
                let Some(sha256) = key
                    .strip_prefix(&prefix)
                    .and_then(|name| name.strip_suffix(".zip"))
                else {
                    continue;
                };
                found.push(Live {
                    id: naming::id(kind::ARTIFACT, key),
                    properties: ArtifactProperties {
                        bucket: aws.bucket.clone(),
                        sha256: sha256.to_string(),
                    }
                    .to_properties(),
                    attributes: props::attributes([
                        ("bucket", json!(aws.bucket)),
                        ("key", json!(key)),
                    ]),
                    ..Live::default()
                });
            }
            match answer.next_continuation_token() {
                Some(next) if answer.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(found)
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let key = step.id.name.clone();
        let bucket_name = match step.action {
            Action::Delete => aws.bucket.clone(),
            _ => ArtifactProperties::from_properties(properties, &step.id)?.bucket,
        };
        let attributes = props::attributes([("bucket", json!(bucket_name)), ("key", json!(key))]);
        match step.action {
            Action::Delete => {
                let bucket_name =
                    props::live_attribute(step, "bucket").unwrap_or_else(|| aws.bucket.clone());
                match aws
                    .s3
                    .delete_object()
                    .bucket(&bucket_name)
                    .key(&key)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Properties::new()),
                    Err(error) if bucket::is_missing(&error) => Ok(Properties::new()),
                    Err(error) => Err(call::failed("s3:DeleteObject", &step.id, &error)),
                }
            }
            Action::NoOp => Ok(attributes),
            Action::Create | Action::Update | Action::Replace => {
                if !context.force && exists(aws, &bucket_name, &key).await? {
                    return Ok(attributes);
                }
                let path = props::input(step, "path")?;
                let mut missing_bucket_created = false;
                loop {
                    let body =
                        ByteStream::from_path(&path)
                            .await
                            .map_err(|e| ProviderError::Call {
                                operation: "read".into(),
                                resource: step.id.to_string(),
                                message: format!("cannot read the artifact {path}: {e}"),
                                help: "run `updraft package` again, or deploy without `--package`"
                                    .into(),
                            })?;
                    let sent = aws
                        .s3
                        .put_object()
                        .bucket(&bucket_name)
                        .key(&key)
                        .content_type("application/zip")
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(_) => return Ok(attributes),
                        Err(error) if bucket::is_missing(&error) && !missing_bucket_created => {
                            bucket::ensure(aws).await?;
                            missing_bucket_created = true;
                        }
                        Err(error) => return Err(call::failed("s3:PutObject", &step.id, &error)),
                    }
                }
            }
        }
    }
}

async fn exists(aws: &Aws, bucket_name: &str, key: &str) -> Result<bool, ProviderError> {
    match aws
        .s3
        .head_object()
        .bucket(bucket_name)
        .key(key)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(error) if call::status(&error) == Some(404) => Ok(false),
        Err(error) => Err(call::failed(
            "s3:GetObject",
            format!("{bucket_name}/{key}"),
            &error,
        )),
    }
}
