//! The deploy lock on Azure: the blob `{service}/{stage}/lock.json` in the `updraft-lock`
//! container of the service's storage account, written with `If-None-Match: *` so that of two
//! deploys exactly one creates it. It holds the holder's details; `unlock` deletes it only while
//! its ETag is the one read, so a lock taken meanwhile by someone else is never removed.
//!
//! The account is part of the service, so the first deploy creates it (and the resource group,
//! when updraft owns it) before taking the lock; a `remove` of a service that has no account has
//! nothing to lock, and a lock whose account was just removed is released with it.

use std::time::{Duration, Instant};

use super::apply::{create_group, create_storage};
use super::arm::Wait;
use super::backend::AzureBackend;
use super::blob::{self, DeleteOutcome, PutOutcome};
use super::resources::{
    storage_properties, ResourceGroupProperties, LOCK_CONTAINER, STORAGE_ACCOUNT,
};
use crate::plan::ResourceId;
use crate::provider::{LockAttempt, LockHolder, Operation, ProviderError};

/// How long creating the account for the first lock may take.
const CREATE_DEADLINE: Duration = Duration::from_secs(300);

fn blob_name(backend: &AzureBackend) -> String {
    format!(
        "{}/{}/lock.json",
        backend.scope.service, backend.scope.stage
    )
}

fn resource(backend: &AzureBackend) -> ResourceId {
    ResourceId::new(STORAGE_ACCOUNT, &backend.names.storage_account)
}

pub async fn lock(
    backend: &AzureBackend,
    holder: &LockHolder,
) -> Result<LockAttempt, ProviderError> {
    let account = match backend.find_storage_account().await? {
        Some(account) => account,
        // Nothing deployed, nothing to remove: there is nothing a lock would protect.
        None if holder.operation == Operation::Remove => return Ok(LockAttempt::Acquired),
        None => {
            create_store(backend).await?;
            backend.storage_account().await?
        }
    };
    blob::ensure_container(&account.blob, LOCK_CONTAINER)
        .await
        .map_err(|e| backend.blob_failed(&resource(backend), e))?;
    let body = serde_json::to_vec_pretty(holder).map_err(|e| ProviderError::Internal {
        resource: resource(backend),
        message: format!("the lock holder cannot be written as JSON: {e}"),
    })?;
    for _ in 0..3 {
        let written = blob::put_if_absent(
            &account.blob,
            LOCK_CONTAINER,
            &blob_name(backend),
            body.clone(),
            "application/json",
        )
        .await
        .map_err(|e| backend.blob_failed(&resource(backend), e))?;
        match written {
            PutOutcome::Created => return Ok(LockAttempt::Acquired),
            PutOutcome::Exists => {
                // Released between the write and the read: try again.
                if let Some(other) = holder_of(backend).await? {
                    return Ok(LockAttempt::Held(other));
                }
            }
        }
    }
    Err(ProviderError::Call {
        operation: "take the deploy lock".into(),
        resource: place(backend),
        message: "the lock was refused as held, but no holder could be read".into(),
        help: "run the command again".into(),
    })
}

fn place(backend: &AzureBackend) -> String {
    format!(
        "blob {}/{} of storage account {}",
        LOCK_CONTAINER,
        blob_name(backend),
        backend.names.storage_account
    )
}

/// The resource group (when owned) and the storage account, as the desired state has them.
async fn create_store(backend: &AzureBackend) -> Result<(), ProviderError> {
    let app = &backend.reading.app;
    let report = |_: &str| {};
    let wait = Wait {
        deadline: Instant::now() + CREATE_DEADLINE,
        report: &report,
        longest_pause: backend.longest_pause,
    };
    if app.owns_resource_group {
        let group = ResourceGroupProperties {
            location: app.region.clone(),
            tags: app.tags.clone(),
        };
        create_group(backend, &group, &wait).await.map_err(|e| {
            backend.failed(
                "create the resource group",
                &ResourceId::new(
                    super::resources::RESOURCE_GROUP,
                    &backend.names.resource_group,
                ),
                e,
            )
        })?;
    }
    create_storage(backend, &storage_properties(app), &wait)
        .await
        .map_err(|e| backend.failed("create the storage account", &resource(backend), e))?;
    Ok(())
}

/// The lock's holder and ETag, with the account it was read from (to release it without asking
/// for the keys again).
async fn read(
    backend: &AzureBackend,
) -> Result<Option<(LockHolder, String, blob::StorageAccount)>, ProviderError> {
    let Some(account) = backend.find_storage_account().await? else {
        return Ok(None);
    };
    let Some((content, etag)) = blob::read(&account.blob, LOCK_CONTAINER, &blob_name(backend))
        .await
        .map_err(|e| backend.blob_failed(&resource(backend), e))?
    else {
        return Ok(None);
    };
    let holder = serde_json::from_slice(&content).map_err(|e| ProviderError::Call {
        operation: "read the deploy lock".into(),
        resource: place(backend),
        message: format!("it is not a lock updraft wrote: {e}"),
        help: format!(
            "look at the {} and delete it if no deploy is running",
            place(backend)
        ),
    })?;
    Ok(Some((holder, etag, account.blob)))
}

pub async fn holder_of(backend: &AzureBackend) -> Result<Option<LockHolder>, ProviderError> {
    Ok(read(backend).await?.map(|(holder, _, _)| holder))
}

pub async fn unlock(backend: &AzureBackend, id: &str) -> Result<(), ProviderError> {
    match read(backend).await? {
        None => Ok(()),
        Some((holder, etag, account)) if holder.id == id => {
            match blob::delete_if_match(&account, LOCK_CONTAINER, &blob_name(backend), &etag)
                .await
                .map_err(|e| backend.blob_failed(&resource(backend), e))?
            {
                DeleteOutcome::Deleted | DeleteOutcome::Gone => Ok(()),
                DeleteOutcome::Changed => Err(ProviderError::NoSuchLock {
                    id: id.to_string(),
                    current: "the lock changed while it was being released".into(),
                }),
            }
        }
        Some((holder, _, _)) => Err(ProviderError::NoSuchLock {
            id: id.to_string(),
            current: format!("the lock is {}", holder.describe()),
        }),
    }
}

/// Deletes the lock blob before its storage account is deleted (by `remove`, which holds it).
/// Azure drops the account's blobs with it anyway; releasing first means no one reads a lock
/// from an account that is going away, and an emulator that keeps blobs (Azurite) does not keep
/// a stale lock.
pub async fn release_before_account_delete(backend: &AzureBackend) -> Result<(), ProviderError> {
    let Some((_, etag, account)) = read(backend).await? else {
        return Ok(());
    };
    blob::delete_if_match(&account, LOCK_CONTAINER, &blob_name(backend), &etag)
        .await
        .map_err(|e| backend.blob_failed(&resource(backend), e))?;
    Ok(())
}
