//! Azurite, Microsoft's Azure Storage emulator, as the Azure tests reach it: `bash
//! scripts/test.sh` starts its blob service and exports its URL. Shared by tests with
//! `#[path = "support/azurite.rs"] mod azurite;`.

/// Azurite's blob endpoint (`http://127.0.0.1:PORT/devstoreaccount1`); a test without it fails
/// saying how to get it.
pub fn url() -> String {
    match std::env::var("UPDRAFT_TEST_AZURITE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "UPDRAFT_TEST_AZURITE_URL is not set: these tests need Azurite's blob service; run \
             them with `bash scripts/test.sh`, which starts it"
        ),
    }
}
