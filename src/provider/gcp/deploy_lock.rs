//! The deploy lock on Google Cloud: the object `updraft/{service}/{stage}/lock.json` in the
//! deployment bucket, written with `ifGenerationMatch=0` so that only one writer can create it;
//! the holder's details are its content, as on AWS.
//!
//! The Storage client library writes and reads objects over the JSON API but deletes objects and
//! creates buckets over gRPC only; those two calls go to the JSON API directly, signed with the
//! same credentials, so that one protocol serves Google and the local emulators alike.

use super::backend::GcpBackend;
use super::call::{self, Api, Failure};
use super::clients;
use crate::provider::{LockAttempt, LockHolder, ProviderError};

fn key(backend: &GcpBackend) -> String {
    format!(
        "updraft/{}/{}/lock.json",
        backend.scope.service, backend.scope.stage
    )
}

fn place(backend: &GcpBackend) -> String {
    format!("gs://{}/{}", backend.bucket, key(backend))
}

fn bucket_path(backend: &GcpBackend) -> String {
    format!("projects/_/buckets/{}", backend.bucket)
}

pub async fn lock(backend: &GcpBackend, holder: &LockHolder) -> Result<LockAttempt, ProviderError> {
    let body = serde_json::to_vec_pretty(holder).map_err(|e| ProviderError::Internal {
        resource: crate::plan::ResourceId::new("gcp.storage.object", key(backend)),
        message: format!("the lock holder cannot be written as JSON: {e}"),
    })?;
    let mut created_bucket = false;
    let mut attempts = 0;
    loop {
        let written = backend
            .clients
            .storage
            .write_object(
                bucket_path(backend),
                key(backend),
                bytes::Bytes::from(body.clone()),
            )
            .set_content_type("application/json")
            .set_if_generation_match(0)
            .send_unbuffered()
            .await;
        match written {
            Ok(_) => return Ok(LockAttempt::Acquired),
            Err(error) if call::failure(&error) == Failure::NotFound && !created_bucket => {
                create_bucket(backend).await?;
                created_bucket = true;
            }
            Err(error)
                if matches!(
                    call::failure(&error),
                    Failure::Precondition | Failure::Conflict
                ) =>
            {
                match holder_of(backend).await? {
                    Some(other) => return Ok(LockAttempt::Held(other)),
                    // Released between the write and the read: try again.
                    None if attempts < 3 => attempts += 1,
                    None => {
                        return Err(ProviderError::Call {
                            operation: "storage:objects.insert".into(),
                            resource: place(backend),
                            message: "the lock was refused as held, but no holder could be read"
                                .into(),
                            help: "run the command again".into(),
                        })
                    }
                }
            }
            Err(error) => {
                return Err(call::failed(
                    Api::Storage,
                    "objects.insert",
                    place(backend),
                    &error,
                ))
            }
        }
    }
}

/// The holder, and the generation of the lock object.
async fn read(backend: &GcpBackend) -> Result<Option<(LockHolder, i64)>, ProviderError> {
    let mut response = match backend
        .clients
        .storage
        .read_object(bucket_path(backend), key(backend))
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) if call::failure(&error) == Failure::NotFound => return Ok(None),
        Err(error) => {
            return Err(call::failed(
                Api::Storage,
                "objects.get",
                place(backend),
                &error,
            ))
        }
    };
    let generation = response.object().generation;
    let mut content = Vec::new();
    while let Some(chunk) = response.next().await {
        let chunk =
            chunk.map_err(|e| call::failed(Api::Storage, "objects.get", place(backend), &e))?;
        content.extend_from_slice(&chunk);
    }
    let holder = serde_json::from_slice(&content).map_err(|e| ProviderError::Call {
        operation: "storage:objects.get".into(),
        resource: place(backend),
        message: format!("the lock object is not a lock updraft wrote: {e}"),
        help: format!(
            "look at {} and delete it if no deploy is running",
            place(backend)
        ),
    })?;
    Ok(Some((holder, generation)))
}

pub async fn holder_of(backend: &GcpBackend) -> Result<Option<LockHolder>, ProviderError> {
    Ok(read(backend).await?.map(|(holder, _)| holder))
}

pub async fn unlock(backend: &GcpBackend, id: &str) -> Result<(), ProviderError> {
    match read(backend).await? {
        Some((holder, generation)) if holder.id == id => {
            // Only the generation that was read: a lock taken since is someone else's.
            let url = format!(
                "{}/storage/v1/b/{}/o/{}?ifGenerationMatch={generation}",
                backend.clients.endpoints.storage,
                backend.bucket,
                percent_encoding::utf8_percent_encode(
                    &key(backend),
                    percent_encoding::NON_ALPHANUMERIC
                )
            );
            let response = backend
                .clients
                .http
                .delete(&url)
                .headers(clients::auth_headers(&backend.clients).await?)
                .send()
                .await
                .map_err(|e| json_api_failed("objects.delete", place(backend), &e))?;
            match response.status().as_u16() {
                200..=299 | 404 => Ok(()),
                status => Err(ProviderError::Call {
                    operation: "storage:objects.delete".into(),
                    resource: place(backend),
                    message: format!(
                        "answered {status}: {}",
                        response.text().await.unwrap_or_default().trim()
                    ),
                    help: format!(
                        "grant the deploying account `{}`, or delete {} by hand",
                        Api::Storage.role(),
                        place(backend)
                    ),
                }),
            }
        }
        Some((holder, _)) => Err(ProviderError::NoSuchLock {
            id: id.to_string(),
            current: format!("the lock is held by {}", holder.describe()),
        }),
        None => Err(ProviderError::NoSuchLock {
            id: id.to_string(),
            current: "no lock is held".into(),
        }),
    }
}

/// Creates the deployment bucket in the service's region, labelled as updraft's.
async fn create_bucket(backend: &GcpBackend) -> Result<(), ProviderError> {
    let url = format!(
        "{}/storage/v1/b?project={}",
        backend.clients.endpoints.storage, backend.project
    );
    let body = serde_json::json!({
        "name": backend.bucket,
        "location": backend.scope.region,
        "labels": {"updraft-managed": "true"},
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": true}},
    });
    let response = backend
        .clients
        .http
        .post(&url)
        .headers(clients::auth_headers(&backend.clients).await?)
        .json(&body)
        .send()
        .await
        .map_err(|e| json_api_failed("buckets.insert", backend.bucket.clone(), &e))?;
    match response.status().as_u16() {
        // 409: made meanwhile by another deploy, or already ours.
        200..=299 | 409 => Ok(()),
        status => {
            let text = response.text().await.unwrap_or_default();
            Err(ProviderError::Call {
                operation: "storage:buckets.insert".into(),
                resource: backend.bucket.clone(),
                message: format!("answered {status}: {}", text.trim()),
                help: format!(
                    "grant the deploying account `{}`, or name an existing bucket in `provider.deploymentBucket.name`",
                    Api::Storage.role()
                ),
            })
        }
    }
}

fn json_api_failed(operation: &str, resource: String, error: &reqwest::Error) -> ProviderError {
    ProviderError::Call {
        operation: format!("storage:{operation}"),
        resource,
        message: error.to_string(),
        help: "check the network (and UPDRAFT_GCP_STORAGE_ENDPOINT), then run the command again"
            .into(),
    }
}
