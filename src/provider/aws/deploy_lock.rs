//! The deploy lock: a JSON [`LockHolder`] at [`naming::lock_key`] in the deployment bucket,
//! written with `If-None-Match: *` so that of two writers exactly one succeeds (S3 answers the
//! other 412 Precondition Failed, or 409 while the first write is still in flight). The
//! bucket is created on the first lock, since the lock has to live somewhere before anything
//! else is planned.

use aws_sdk_s3::primitives::ByteStream;

use super::bucket;
use super::call;
use super::clients::Aws;
use super::naming;
use crate::provider::{LockAttempt, LockHolder, ProviderError};

fn key(aws: &Aws) -> String {
    naming::lock_key(&aws.scope.service, &aws.scope.stage)
}

fn place(aws: &Aws) -> String {
    format!("s3://{}/{}", aws.bucket, key(aws))
}

/// Tries once to take the lock.
pub async fn lock(aws: &Aws, holder: &LockHolder) -> Result<LockAttempt, ProviderError> {
    let body = serde_json::to_vec_pretty(holder).map_err(|e| ProviderError::Call {
        operation: "s3:PutObject".into(),
        resource: place(aws),
        message: format!("the lock holder cannot be written as JSON: {e}"),
        help: "this is a bug in updraft: please report it".into(),
    })?;
    let mut created_bucket = false;
    let mut attempts = 0;
    loop {
        let written = aws
            .s3
            .put_object()
            .bucket(&aws.bucket)
            .key(key(aws))
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body.clone()))
            .send()
            .await;
        match written {
            Ok(_) => return Ok(LockAttempt::Acquired),
            Err(error) if bucket::is_missing(&error) && !created_bucket => {
                bucket::ensure(aws).await?;
                created_bucket = true;
            }
            Err(error)
                if matches!(call::status(&error), Some(412) | Some(409))
                    || call::is(
                        &error,
                        &["PreconditionFailed", "ConditionalRequestConflict"],
                    ) =>
            {
                match holder_of(aws).await? {
                    Some(other) => return Ok(LockAttempt::Held(other)),
                    // Released between our write and our read: try the write again.
                    None if attempts < 3 => attempts += 1,
                    None => {
                        return Err(ProviderError::Call {
                            operation: "s3:PutObject".into(),
                            resource: place(aws),
                            message: "the lock was refused as held, but no holder could be read"
                                .into(),
                            help: "run the command again".into(),
                        })
                    }
                }
            }
            Err(error) => return Err(call::failed("s3:PutObject", place(aws), &error)),
        }
    }
}

/// Who holds the lock, if anyone.
pub async fn holder_of(aws: &Aws) -> Result<Option<LockHolder>, ProviderError> {
    let Some(bytes) = bucket::read_object(aws, &key(aws)).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ProviderError::Call {
            operation: "s3:GetObject".into(),
            resource: place(aws),
            message: format!("the lock object is not a lock updraft wrote: {e}"),
            help: format!(
                "look at {} and delete it if no deploy is running",
                place(aws)
            ),
        })
}

/// Removes the lock if `id` is its holder's.
pub async fn unlock(aws: &Aws, id: &str) -> Result<(), ProviderError> {
    match holder_of(aws).await? {
        Some(holder) if holder.id == id => {
            aws.s3
                .delete_object()
                .bucket(&aws.bucket)
                .key(key(aws))
                .send()
                .await
                .map_err(|e| call::failed("s3:DeleteObject", place(aws), &e))?;
            Ok(())
        }
        Some(holder) => Err(ProviderError::NoSuchLock {
            id: id.to_string(),
            current: format!("the lock is held by {}", holder.describe()),
        }),
        None => Err(ProviderError::NoSuchLock {
            id: id.to_string(),
            current: "no lock is held".into(),
        }),
    }
}
