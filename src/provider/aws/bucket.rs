//! The deployment bucket: where artifacts and the deploy lock live. It is a precondition of a
//! deploy rather than a planned resource: the lock is taken in it before anything is planned,
//! and it is shared (updraft's default bucket serves every service of the account and region;
//! a bucket named in `provider.deploymentBucket` is the user's), so no plan ever deletes it.
//! Each service keeps its objects under [`super::naming::object_prefix`]; `remove` deletes those.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
};

use super::call;
use super::clients::Aws;
use crate::provider::ProviderError;

/// Creates the bucket when it does not exist. Safe to call when it does (ours, or another
/// deploy's that raced us).
pub async fn ensure(aws: &Aws) -> Result<(), ProviderError> {
    let mut create = aws.s3.create_bucket().bucket(&aws.bucket);
    if aws.region() != "us-east-1" {
        // us-east-1 is the only region that refuses an explicit location constraint.
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(aws.region()))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(error) if call::is(&error, &["BucketAlreadyOwnedByYou"]) => return Ok(()),
        Err(error) if call::is(&error, &["BucketAlreadyExists"]) => {
            return Err(ProviderError::Call {
                operation: "s3:CreateBucket".into(),
                resource: format!("bucket {}", aws.bucket),
                message: "the name is taken by another AWS account".into(),
                help: "name a bucket of yours in `provider.deploymentBucket.name`".into(),
            })
        }
        Err(error) => {
            return Err(call::failed(
                "s3:CreateBucket",
                format!("bucket {}", aws.bucket),
                &error,
            ))
        }
    }
    // Deployment artifacts are never public.
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .block_public_policy(true)
        .ignore_public_acls(true)
        .restrict_public_buckets(true)
        .build();
    aws.s3
        .put_public_access_block()
        .bucket(&aws.bucket)
        .public_access_block_configuration(block)
        .send()
        .await
        .map_err(|e| {
            call::failed(
                "s3:PutPublicAccessBlock",
                format!("bucket {}", aws.bucket),
                &e,
            )
        })?;
    Ok(())
}

/// The bytes of one of the service's objects in the deployment bucket (the lock, the deploy
/// state); `None` when it, or the bucket, does not exist.
pub async fn read_object(aws: &Aws, key: &str) -> Result<Option<Vec<u8>>, ProviderError> {
    let place = format!("s3://{}/{key}", aws.bucket);
    let answer = match aws
        .s3
        .get_object()
        .bucket(&aws.bucket)
        .key(key)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(error)
            if call::is(&error, &["NoSuchKey", "NoSuchBucket"])
                || call::status(&error) == Some(404) =>
        {
            return Ok(None)
        }
        Err(error) => return Err(call::failed("s3:GetObject", place, &error)),
    };
    let bytes = answer
        .body
        .collect()
        .await
        .map_err(|e| ProviderError::Call {
            operation: "s3:GetObject".into(),
            resource: place,
            message: format!("the object could not be read: {e}"),
            help: "run the command again".into(),
        })?;
    Ok(Some(bytes.into_bytes().to_vec()))
}

/// Whether an S3 error says the bucket does not exist.
pub fn is_missing<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    error: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    call::is(error, &["NoSuchBucket"])
}
