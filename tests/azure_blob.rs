//! Blob Storage for the Azure deploy lock (`updraft::provider::azure::blob`) against the Azurite
//! emulator: the conditional writes and deletes the lock depends on, reads of what is not there,
//! and what a refused signature says.
//!
//! These tests need `UPDRAFT_TEST_AZURITE_URL` (set by `bash scripts/test.sh`, which starts
//! Azurite's blob service), e.g. `http://127.0.0.1:10000/devstoreaccount1`. Each test uses its own
//! containers, so they run in parallel.

use std::sync::atomic::{AtomicU32, Ordering};

use updraft::provider::azure::blob::{self, DeleteOutcome, PutOutcome, StorageAccount};

/// Azurite's well-known account key for `devstoreaccount1`, as Microsoft publishes it.
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const LOCK: &str = "updraft/svc/dev/lock.json";

fn azurite() -> StorageAccount {
    let url = std::env::var("UPDRAFT_TEST_AZURITE_URL").unwrap_or_default();
    assert!(
        !url.is_empty(),
        "UPDRAFT_TEST_AZURITE_URL is not set: run these tests through `bash scripts/test.sh`, \
         which starts Azurite, or start `azurite-blob` yourself and set it to \
         http://127.0.0.1:PORT/devstoreaccount1"
    );
    StorageAccount {
        blob_endpoint: url,
        name: "devstoreaccount1".into(),
        key: AZURITE_KEY.into(),
    }
}

/// A container name no other test (or earlier run against the same Azurite) uses.
fn unique_container(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "{test}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    assert!(name.len() <= 63, "container name {name} is too long");
    name
}

async fn fresh_container(account: &StorageAccount, test: &str) -> String {
    let container = unique_container(test);
    blob::ensure_container(account, &container).await.unwrap();
    container
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn a_second_put_if_absent_is_exists_and_keeps_the_first_content() {
    let account = azurite();
    let container = fresh_container(&account, "put-twice").await;

    let first = blob::put_if_absent(
        &account,
        &container,
        LOCK,
        b"first".to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(first, PutOutcome::Created);
    let second = blob::put_if_absent(
        &account,
        &container,
        LOCK,
        b"second".to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(second, PutOutcome::Exists);

    let (content, _etag) = blob::read(&account, &container, LOCK)
        .await
        .unwrap()
        .expect("the lock blob exists");
    assert_eq!(content, b"first");

    blob::delete_container(&account, &container).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn only_one_of_concurrent_put_if_absent_creates_the_blob() {
    let account = azurite();
    let container = fresh_container(&account, "put-race").await;

    let writers = (0..8).map(|i| {
        let account = account.clone();
        let container = container.clone();
        tokio::spawn(async move {
            let body = format!("writer {i}").into_bytes();
            let outcome = blob::put_if_absent(&account, &container, LOCK, body, "text/plain")
                .await
                .unwrap();
            (i, outcome)
        })
    });
    let mut created = Vec::new();
    for writer in writers.collect::<Vec<_>>() {
        let (i, outcome) = writer.await.unwrap();
        if outcome == PutOutcome::Created {
            created.push(i);
        }
    }
    assert_eq!(
        created.len(),
        1,
        "writers that created the blob: {created:?}"
    );
    let (content, _) = blob::read(&account, &container, LOCK)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(content, format!("writer {}", created[0]).into_bytes());

    blob::delete_container(&account, &container).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn delete_if_match_with_a_stale_etag_is_changed_and_keeps_the_blob() {
    let account = azurite();
    let container = fresh_container(&account, "stale-etag").await;

    blob::upload(
        &account,
        &container,
        LOCK,
        b"old".to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    let (_, stale) = blob::read(&account, &container, LOCK)
        .await
        .unwrap()
        .unwrap();
    blob::upload(
        &account,
        &container,
        LOCK,
        b"new".to_vec(),
        "application/json",
    )
    .await
    .unwrap();

    let outcome = blob::delete_if_match(&account, &container, LOCK, &stale)
        .await
        .unwrap();
    assert_eq!(outcome, DeleteOutcome::Changed);
    let (content, current) = blob::read(&account, &container, LOCK)
        .await
        .unwrap()
        .expect("the blob is still there");
    assert_eq!(content, b"new");
    assert_ne!(current, stale);

    // The current etag deletes it; after that it is gone.
    let outcome = blob::delete_if_match(&account, &container, LOCK, &current)
        .await
        .unwrap();
    assert_eq!(outcome, DeleteOutcome::Deleted);
    assert_eq!(blob::read(&account, &container, LOCK).await.unwrap(), None);
    let outcome = blob::delete_if_match(&account, &container, LOCK, &current)
        .await
        .unwrap();
    assert_eq!(outcome, DeleteOutcome::Gone);

    blob::delete_container(&account, &container).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn reading_a_missing_blob_or_container_is_none() {
    let account = azurite();
    let container = fresh_container(&account, "missing").await;

    assert_eq!(blob::read(&account, &container, LOCK).await.unwrap(), None);
    let no_container = unique_container("never-made");
    assert_eq!(
        blob::read(&account, &no_container, LOCK).await.unwrap(),
        None
    );

    blob::delete_container(&account, &container).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn containers_can_be_ensured_twice_and_deleted_when_missing() {
    let account = azurite();
    let container = fresh_container(&account, "twice").await;
    blob::ensure_container(&account, &container).await.unwrap();
    blob::delete_container(&account, &container).await.unwrap();
    blob::delete_container(&account, &container).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn a_large_upload_reads_back_whole() {
    let account = azurite();
    let container = fresh_container(&account, "large").await;
    // Over the client library's 4 MiB single-request limit: sent as blocks and a block list.
    let package: Vec<u8> = (0..9 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();

    blob::upload(
        &account,
        &container,
        "code/package.zip",
        package.clone(),
        "application/zip",
    )
    .await
    .unwrap();
    let (content, _) = blob::read(&account, &container, "code/package.zip")
        .await
        .unwrap()
        .unwrap();
    assert!(content == package, "the package read back differs");

    blob::delete_container(&account, &container).await.unwrap();
}

#[tokio::test]
#[ignore = "needs Azurite: run through scripts/test.sh"]
async fn a_wrong_key_is_an_error_naming_the_blob_without_key_or_signature() {
    let mut account = azurite();
    let container = fresh_container(&account, "wrong-key").await;
    // A well-formed key that is not the account's.
    let wrong_key = "QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5";
    account.key = wrong_key.into();

    let error = blob::put_if_absent(&account, &container, LOCK, b"x".to_vec(), "text/plain")
        .await
        .expect_err("a wrong key is refused");
    assert_eq!(error.status(), Some(403), "{error}");
    let shown = format!("{error}\n{error:?}");
    let shown = format!("{shown}\n{}", updraft::provider::ProviderError::from(error));
    assert!(shown.contains(LOCK), "the message names the blob: {shown}");
    assert!(
        shown.contains(&container),
        "the message names the container: {shown}"
    );
    assert!(
        shown.contains("devstoreaccount1"),
        "the message names the account: {shown}"
    );
    assert!(shown.contains("403"), "the message has the status: {shown}");
    assert!(
        !shown.contains(wrong_key),
        "the message shows the key: {shown}"
    );
    assert!(
        !shown.contains(AZURITE_KEY),
        "the message shows a key: {shown}"
    );
    assert!(
        !shown.contains("sig="),
        "the message shows a signature: {shown}"
    );

    let error = blob::read(&account, &container, LOCK)
        .await
        .expect_err("a wrong key is refused");
    let shown = format!("{error}\n{error:?}");
    assert!(shown.contains(LOCK), "{shown}");
    assert!(
        !shown.contains(wrong_key) && !shown.contains("sig="),
        "{shown}"
    );

    account.key = AZURITE_KEY.into();
    blob::delete_container(&account, &container).await.unwrap();
}
