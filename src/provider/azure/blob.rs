//! Azure Blob Storage for the Azure backend: the deploy lock (a blob written with
//! `If-None-Match: *`, so that two deploys cannot both take it) and the code package, in the
//! service's storage account.
//!
//! updraft reads the account key through Resource Manager (`listKeys`), while the
//! `azure_storage_blob` 1.x clients take only an Entra ID token or a URL that carries a shared
//! access signature. So this module signs a short-lived **account SAS** with the key itself (the
//! string-to-sign of Microsoft's "Create an account SAS", version 2020-12-06 and later) and hands
//! the clients SAS URLs with no credential. The same code serves Azure and the Azurite emulator
//! (`http://127.0.0.1:10000/devstoreaccount1/`).
//!
//! Neither the key nor the signature ever appears in a message: [`StorageAccount`]'s `Debug`
//! hides the key, and every error text has `sig=` values, the signature and the key blanked.

use std::fmt;

use azure_core::http::{NoFormat, RequestContent, Url};
use azure_storage_blob::models::{
    BlobClientDeleteOptions, BlockBlobClientUploadOptions, StorageErrorCode,
};
use azure_storage_blob::{BlobClient, BlobContainerClient, StorageError};
use base64::Engine as _;
use bytes::Bytes;
use hmac::{KeyInit as _, Mac as _};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::provider::ProviderError;

/// A storage account and the key that signs requests to it.
#[derive(Clone)]
pub struct StorageAccount {
    /// The Blob service endpoint, e.g. `https://acct.blob.core.windows.net/` or, for Azurite,
    /// `http://127.0.0.1:10000/devstoreaccount1/`.
    pub blob_endpoint: String,
    /// The account's name, as Resource Manager shows it (used in messages).
    pub name: String,
    /// One of the account's keys, base64 as `listKeys` returns it.
    pub key: String,
}

impl fmt::Debug for StorageAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageAccount")
            .field("blob_endpoint", &self.blob_endpoint)
            .field("name", &self.name)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// What [`put_if_absent`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The blob did not exist; it now holds the bytes given.
    Created,
    /// The blob already existed and was left as it was.
    Exists,
}

/// What [`delete_if_match`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The blob had the etag given and is deleted.
    Deleted,
    /// There was no such blob (or container).
    Gone,
    /// The blob has been written since the etag was read; it was left as it is.
    Changed,
}

/// A Blob Storage call that failed. Messages name the account, container and blob, never the
/// key or the signature.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BlobError {
    /// The account's endpoint or key cannot be used to sign a request.
    #[error("storage account {account}: {message}")]
    #[diagnostic(help("{help}"))]
    Account {
        account: String,
        message: String,
        help: String,
    },

    /// Blob Storage answered with an error status.
    #[error("Blob Storage {operation} of {place} answered HTTP {status}{}: {message}", code_suffix(.code))]
    #[diagnostic(help("{help}"))]
    Status {
        /// The REST operation, e.g. `Put Blob`.
        operation: &'static str,
        /// `blob NAME in container NAME of storage account NAME`, or the container's.
        place: String,
        status: u16,
        /// Azure's error code (`x-ms-error-code`), e.g. `AuthenticationFailed`.
        code: Option<String>,
        message: String,
        help: String,
    },

    /// The request got no answer (connection, TLS, timeout) or its answer could not be read.
    #[error("Blob Storage {operation} of {place} failed: {message}")]
    #[diagnostic(help("check the network path to the storage account's blob endpoint"))]
    Transport {
        operation: &'static str,
        place: String,
        message: String,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

impl BlobError {
    /// The HTTP status Blob Storage answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            BlobError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Azure's error code (`x-ms-error-code`), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            BlobError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

impl From<BlobError> for ProviderError {
    fn from(error: BlobError) -> Self {
        let help = match &error {
            BlobError::Account { help, .. } | BlobError::Status { help, .. } => help.clone(),
            BlobError::Transport { .. } => {
                "check the network path to the storage account's blob endpoint".into()
            }
        };
        match error {
            BlobError::Account {
                account, message, ..
            } => ProviderError::Credentials {
                cloud: "Azure Blob Storage".into(),
                message: format!("storage account {account}: {message}"),
                help,
            },
            BlobError::Status {
                operation,
                place,
                status,
                code,
                message,
                ..
            } => ProviderError::Call {
                operation: format!("storage:{operation}"),
                resource: place,
                message: format!("answered HTTP {status}{}: {message}", code_suffix(&code)),
                help,
            },
            BlobError::Transport {
                operation,
                place,
                message,
            } => ProviderError::Call {
                operation: format!("storage:{operation}"),
                resource: place,
                message,
                help,
            },
        }
    }
}

// --- Signing ---------------------------------------------------------------------------------

/// The service version the SAS is signed for (`sv`): recent, and accepted by Azurite.
const SAS_VERSION: &str = "2022-11-02";
/// Blob service only.
const SAS_SERVICES: &str = "b";
/// Service, container and object.
const SAS_RESOURCE_TYPES: &str = "sco";
/// Read, write, delete, list, add, create: what the calls here need, in the order Azure's SDKs
/// write them.
const SAS_PERMISSIONS: &str = "rwdlac";
/// How long a signature stays valid: each call signs anew, so this only has to outlast one
/// (possibly large) upload.
const SAS_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// The fields of an account SAS, as they are signed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AccountSas<'a> {
    /// `sp`
    permissions: &'a str,
    /// `ss`
    services: &'a str,
    /// `srt`
    resource_types: &'a str,
    /// `st`, empty when the SAS is valid at once.
    start: &'a str,
    /// `se`, e.g. `2024-01-01T01:00:00Z`.
    expiry: &'a str,
    /// `sip`, empty for any address.
    ip: &'a str,
    /// `spr`: `https` or `https,http`.
    protocol: &'a str,
    /// `sv`
    version: &'a str,
    /// `ses`, empty for none.
    encryption_scope: &'a str,
}

/// The account SAS string-to-sign for version 2020-12-06 and later ("Create an account SAS"):
/// the account name and the nine fields in this order, each followed by a newline.
fn account_sas_string_to_sign(account: &str, sas: &AccountSas<'_>) -> String {
    [
        account,
        sas.permissions,
        sas.services,
        sas.resource_types,
        sas.start,
        sas.expiry,
        sas.ip,
        sas.protocol,
        sas.version,
        sas.encryption_scope,
    ]
    .iter()
    .fold(String::new(), |mut out, field| {
        out.push_str(field);
        out.push('\n');
        out
    })
}

/// Base64 of HMAC-SHA256 of `string_to_sign` under the decoded account key.
fn sign(key: &[u8], string_to_sign: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Everything but RFC 3986's unreserved characters is percent-encoded in query values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Blob names keep their `/` as path separators; the rest is encoded as in query values.
const BLOB_PATH: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// The account name the service checks a signature against: for an IP address, `localhost`,
/// `host.docker.internal` or any other host without a dot (Azurite's path-style URLs,
/// `http://127.0.0.1:10000/devstoreaccount1/`) the first path segment; otherwise (Azure's
/// `https://acct.blob.core.windows.net/`) the first label of the host.
fn signing_account_name(endpoint: &Url) -> Option<String> {
    let host = endpoint.host_str()?;
    let path_style = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok()
        || host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case("host.docker.internal")
        || !host.contains('.');
    let name = if path_style {
        endpoint.path_segments()?.next()?
    } else {
        host.split('.').next()?
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// A signed request target, and what must be blanked from any message about it.
struct Signed {
    url: Url,
    secrets: Vec<String>,
}

/// The endpoint with a trailing `/` and no query, the account name to sign with, and the decoded
/// key.
fn prepare(account: &StorageAccount) -> Result<(Url, String, Vec<u8>), BlobError> {
    let config_error = |message: String, help: &str| BlobError::Account {
        account: account.name.clone(),
        message: redact(&message, &[&account.key]),
        help: help.to_string(),
    };
    let mut endpoint = Url::parse(account.blob_endpoint.trim()).map_err(|e| {
        config_error(
            format!(
                "the blob endpoint `{}` is not a URL: {e}",
                account.blob_endpoint
            ),
            "the endpoint looks like https://ACCOUNT.blob.core.windows.net/",
        )
    })?;
    if !matches!(endpoint.scheme(), "https" | "http") || endpoint.cannot_be_a_base() {
        return Err(config_error(
            format!(
                "the blob endpoint `{}` is not an http(s) URL",
                account.blob_endpoint
            ),
            "the endpoint looks like https://ACCOUNT.blob.core.windows.net/",
        ));
    }
    endpoint.set_query(None);
    endpoint.set_fragment(None);
    if !endpoint.path().ends_with('/') {
        let path = format!("{}/", endpoint.path());
        endpoint.set_path(&path);
    }
    let signing_name = signing_account_name(&endpoint).unwrap_or_else(|| account.name.clone());
    let key = base64::engine::general_purpose::STANDARD
        .decode(account.key.trim())
        .map_err(|_| {
            config_error(
                "the account key is not base64".into(),
                "use a key exactly as `az storage account keys list` (Resource Manager's \
                 listKeys) shows it",
            )
        })?;
    Ok((endpoint, signing_name, key))
}

/// `container` (and `blob`, when given) under the account's endpoint, with a fresh account SAS.
fn signed_url(
    account: &StorageAccount,
    container: &str,
    blob: Option<&str>,
) -> Result<Signed, BlobError> {
    let (endpoint, signing_name, key) = prepare(account)?;
    let mut path = utf8_percent_encode(container, QUERY_VALUE).to_string();
    if let Some(blob) = blob {
        path.push('/');
        path.extend(utf8_percent_encode(blob, BLOB_PATH));
    }
    let mut url = endpoint.join(&path).map_err(|e| BlobError::Account {
        account: account.name.clone(),
        message: format!("`{container}` cannot be put in a URL: {e}"),
        help: "use a container name of lowercase letters, digits and hyphens".into(),
    })?;

    let expiry = (chrono::Utc::now() + SAS_LIFETIME)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let protocol = if endpoint.scheme() == "https" {
        "https"
    } else {
        // Azurite on the loopback interface speaks plain HTTP.
        "https,http"
    };
    let sas = AccountSas {
        permissions: SAS_PERMISSIONS,
        services: SAS_SERVICES,
        resource_types: SAS_RESOURCE_TYPES,
        start: "",
        expiry: &expiry,
        ip: "",
        protocol,
        version: SAS_VERSION,
        encryption_scope: "",
    };
    let signature = sign(&key, &account_sas_string_to_sign(&signing_name, &sas));
    let encoded_signature = utf8_percent_encode(&signature, QUERY_VALUE).to_string();
    let query = [
        ("sv", sas.version),
        ("ss", sas.services),
        ("srt", sas.resource_types),
        ("sp", sas.permissions),
        ("se", sas.expiry),
        ("spr", sas.protocol),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, QUERY_VALUE)))
    .chain(std::iter::once(format!("sig={encoded_signature}")))
    .collect::<Vec<_>>()
    .join("&");
    url.set_query(Some(&query));
    Ok(Signed {
        url,
        secrets: vec![signature, encoded_signature, account.key.clone()],
    })
}

fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// `text` with every `sig=` value and every secret blanked.
fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "<redacted>");
    }
    let mut redacted = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("sig=") {
        redacted.push_str(&rest[..at + 4]);
        rest = &rest[at + 4..];
        let end = rest
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c == ')' || c.is_whitespace())
            .unwrap_or(rest.len());
        if end > 0 && !rest.starts_with("<redacted>") {
            redacted.push_str("<redacted>");
            rest = &rest[end..];
        }
    }
    redacted.push_str(rest);
    redacted
}

// --- Errors from the client library ---------------------------------------------------------

/// Where a call went, for messages.
fn place(account: &StorageAccount, container: &str, blob: Option<&str>) -> String {
    match blob {
        Some(blob) => format!(
            "blob `{blob}` in container `{container}` of storage account `{}`",
            account.name
        ),
        None => format!(
            "container `{container}` of storage account `{}`",
            account.name
        ),
    }
}

/// An answer with an error status, as far as the callers here need it.
struct Refusal {
    status: u16,
    code: Option<String>,
    message: String,
}

/// How a call failed: with an error status, or without an answer.
enum Failure {
    Refused(Refusal),
    Unanswered(String),
}

fn classify(error: azure_core::Error) -> Failure {
    if error.http_status().is_none() {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !message.contains(&cause_text) {
                message.push_str(": ");
                message.push_str(&cause_text);
            }
            source = cause.source();
        }
        return Failure::Unanswered(message);
    }
    match StorageError::try_from(error) {
        Ok(storage) => {
            // Azure's messages end with `RequestId:...` and `Time:...` lines: keep the first.
            let mut message = storage
                .message
                .as_deref()
                .and_then(|m| m.lines().next())
                .unwrap_or("")
                .trim()
                .to_string();
            if let Some(detail) = &storage.authentication_error_detail {
                message.push_str(" (");
                message.push_str(detail.trim());
                message.push(')');
            }
            if message.is_empty() {
                message = storage.status_code.canonical_reason().to_string();
            }
            Failure::Refused(Refusal {
                status: u16::from(storage.status_code),
                code: storage.error_code.map(|c| c.to_string()),
                message,
            })
        }
        Err(error) => Failure::Unanswered(error.to_string()),
    }
}

fn help_for(status: u16, code: Option<&str>) -> String {
    match (status, code) {
        (403, _) => "check the storage account key (updraft reads it with listKeys), that the \
                     account allows shared key access, that its firewall lets this machine in, \
                     and that this machine's clock is right"
            .into(),
        (404, Some("ContainerNotFound")) => {
            "the container does not exist (yet): `updraft deploy` creates it".into()
        }
        (409, Some("ContainerBeingDeleted")) => {
            "the container is being deleted; wait a minute and run the command again".into()
        }
        (429 | 500..=599, _) => "Blob Storage is busy or failing; run the command again".into(),
        _ => "see the message; running the command again continues from where it stopped".into(),
    }
}

/// The error for a failure that is not one of the outcomes a caller expects.
fn failed(operation: &'static str, place: String, failure: Failure, signed: &Signed) -> BlobError {
    let secrets: Vec<&str> = signed.secrets.iter().map(String::as_str).collect();
    match failure {
        Failure::Refused(refusal) => BlobError::Status {
            operation,
            place,
            status: refusal.status,
            help: help_for(refusal.status, refusal.code.as_deref()),
            code: refusal.code.map(|c| redact(&c, &secrets)),
            message: redact(&refusal.message, &secrets),
        },
        Failure::Unanswered(message) => BlobError::Transport {
            operation,
            place,
            // The transport names the URL it could not reach: without the SAS, which says
            // nothing to the reader.
            message: redact(
                &message.replace(signed.url.as_str(), &without_query(&signed.url)),
                &secrets,
            ),
        },
    }
}

fn is(refusal: &Refusal, code: StorageErrorCode) -> bool {
    refusal.code.as_deref() == Some(code.as_ref())
}

fn container_client(
    account: &StorageAccount,
    container: &str,
    operation: &'static str,
) -> Result<(BlobContainerClient, Signed), BlobError> {
    let signed = signed_url(account, container, None)?;
    let client = BlobContainerClient::new(signed.url.clone(), None, None).map_err(|e| {
        failed(
            operation,
            place(account, container, None),
            classify(e),
            &signed,
        )
    })?;
    Ok((client, signed))
}

fn blob_client(
    account: &StorageAccount,
    container: &str,
    blob: &str,
    operation: &'static str,
) -> Result<(BlobClient, Signed), BlobError> {
    // Built from the blob's own URL: `BlobContainerClient::blob_client` would encode the `/`
    // in a blob name as `%2F`.
    let signed = signed_url(account, container, Some(blob))?;
    let client = BlobClient::new(signed.url.clone(), None, None).map_err(|e| {
        failed(
            operation,
            place(account, container, Some(blob)),
            classify(e),
            &signed,
        )
    })?;
    Ok((client, signed))
}

// --- The calls -------------------------------------------------------------------------------

/// The upload body (`RequestContent::from` itself takes a `Vec<u8>`, which would copy it).
fn content(bytes: Bytes) -> RequestContent<Bytes, NoFormat> {
    bytes.into()
}

/// Creates the container (private); one that exists already is fine.
pub async fn ensure_container(account: &StorageAccount, container: &str) -> Result<(), BlobError> {
    const OPERATION: &str = "Create Container";
    let (client, signed) = container_client(account, container, OPERATION)?;
    match client.create(None).await {
        Ok(_) => Ok(()),
        Err(error) => match classify(error) {
            Failure::Refused(r)
                if r.status == 409 && is(&r, StorageErrorCode::ContainerAlreadyExists) =>
            {
                Ok(())
            }
            failure => Err(failed(
                OPERATION,
                place(account, container, None),
                failure,
                &signed,
            )),
        },
    }
}

/// Writes the blob only if there is none of that name (`If-None-Match: *`): of two writers, one
/// gets [`PutOutcome::Created`] and the other [`PutOutcome::Exists`], and the first one's content
/// stays. The container must exist.
pub async fn put_if_absent(
    account: &StorageAccount,
    container: &str,
    blob: &str,
    bytes: impl Into<Bytes>,
    content_type: &str,
) -> Result<PutOutcome, BlobError> {
    const OPERATION: &str = "Put Blob";
    let (client, signed) = blob_client(account, container, blob, OPERATION)?;
    let options = BlockBlobClientUploadOptions {
        blob_content_type: Some(content_type.to_string()),
        ..Default::default()
    }
    .if_not_exists();
    match client.upload(content(bytes.into()), Some(options)).await {
        Ok(_) => Ok(PutOutcome::Created),
        Err(error) => match classify(error) {
            Failure::Refused(r)
                if r.status == 412
                    || (r.status == 409 && is(&r, StorageErrorCode::BlobAlreadyExists)) =>
            {
                Ok(PutOutcome::Exists)
            }
            failure => Err(failed(
                OPERATION,
                place(account, container, Some(blob)),
                failure,
                &signed,
            )),
        },
    }
}

/// The blob's content and etag (quoted, as the service sends it, to give back to
/// [`delete_if_match`]); `None` when there is no such blob or container.
pub async fn read(
    account: &StorageAccount,
    container: &str,
    blob: &str,
) -> Result<Option<(Vec<u8>, String)>, BlobError> {
    const OPERATION: &str = "Get Blob";
    let (client, signed) = blob_client(account, container, blob, OPERATION)?;
    let here = || place(account, container, Some(blob));
    let downloaded = match client.download(None).await {
        Ok(downloaded) => downloaded,
        Err(error) => {
            return match classify(error) {
                Failure::Refused(r) if r.status == 404 => Ok(None),
                failure => Err(failed(OPERATION, here(), failure, &signed)),
            }
        }
    };
    let etag = downloaded
        .properties
        .etag
        .as_ref()
        .map(|etag| etag.to_string());
    let content = downloaded
        .body
        .collect()
        .await
        .map_err(|e| failed(OPERATION, here(), classify(e), &signed))?;
    let etag = etag.ok_or_else(|| BlobError::Transport {
        operation: OPERATION,
        place: here(),
        message: "the answer has no ETag header".into(),
    })?;
    Ok(Some((content.to_vec(), etag)))
}

/// Deletes the blob only while it still has `etag` (`If-Match`), so that a blob rewritten since
/// it was read is left alone.
///
/// Blob Storage answers a conditional delete of a blob that is not there with 412, as for one
/// that changed (404 only when the container is missing too), so a 412 is told apart by asking
/// whether the blob still exists.
pub async fn delete_if_match(
    account: &StorageAccount,
    container: &str,
    blob: &str,
    etag: &str,
) -> Result<DeleteOutcome, BlobError> {
    const OPERATION: &str = "Delete Blob";
    let (client, signed) = blob_client(account, container, blob, OPERATION)?;
    let here = || place(account, container, Some(blob));
    let options = BlobClientDeleteOptions {
        if_match: Some(etag.to_string().into()),
        ..Default::default()
    };
    match client.delete(Some(options)).await {
        Ok(_) => Ok(DeleteOutcome::Deleted),
        Err(error) => match classify(error) {
            Failure::Refused(r) if r.status == 404 => Ok(DeleteOutcome::Gone),
            Failure::Refused(r) if r.status == 412 => match client.exists().await {
                Ok(true) => Ok(DeleteOutcome::Changed),
                Ok(false) => Ok(DeleteOutcome::Gone),
                Err(error) => Err(failed(
                    "Get Blob Properties",
                    here(),
                    classify(error),
                    &signed,
                )),
            },
            failure => Err(failed(OPERATION, here(), failure, &signed)),
        },
    }
}

/// Writes the blob whatever is there (the code package). The client library sends up to 4 MiB
/// as one Put Blob and anything larger as 4 MiB blocks (Put Block, up to 8 at a time) committed
/// with one Put Block List, so any package size a Function App takes goes through; the whole
/// content is held in memory.
pub async fn upload(
    account: &StorageAccount,
    container: &str,
    blob: &str,
    bytes: impl Into<Bytes>,
    content_type: &str,
) -> Result<(), BlobError> {
    const OPERATION: &str = "Put Blob";
    let (client, signed) = blob_client(account, container, blob, OPERATION)?;
    let options = BlockBlobClientUploadOptions {
        blob_content_type: Some(content_type.to_string()),
        ..Default::default()
    };
    client
        .upload(content(bytes.into()), Some(options))
        .await
        .map(|_| ())
        .map_err(|e| {
            failed(
                OPERATION,
                place(account, container, Some(blob)),
                classify(e),
                &signed,
            )
        })
}

/// Deletes the container and everything in it; one that does not exist is fine.
pub async fn delete_container(account: &StorageAccount, container: &str) -> Result<(), BlobError> {
    const OPERATION: &str = "Delete Container";
    let (client, signed) = container_client(account, container, OPERATION)?;
    match client.delete(None).await {
        Ok(_) => Ok(()),
        Err(error) => match classify(error) {
            Failure::Refused(r) if r.status == 404 => Ok(()),
            failure => Err(failed(
                OPERATION,
                place(account, container, None),
                failure,
                &signed,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Azurite's published well-known key for `devstoreaccount1`.
    const AZURITE_KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    fn account(endpoint: &str) -> StorageAccount {
        StorageAccount {
            blob_endpoint: endpoint.into(),
            name: "devstoreaccount1".into(),
            key: AZURITE_KEY.into(),
        }
    }

    fn name_of(endpoint: &str) -> Option<String> {
        signing_account_name(&Url::parse(endpoint).unwrap())
    }

    #[test]
    fn the_signing_account_name_follows_the_endpoint_style() {
        assert_eq!(
            name_of("https://acct.blob.core.windows.net/").as_deref(),
            Some("acct")
        );
        assert_eq!(
            name_of("https://acct.blob.core.chinacloudapi.cn").as_deref(),
            Some("acct")
        );
        assert_eq!(
            name_of("http://127.0.0.1:10000/devstoreaccount1").as_deref(),
            Some("devstoreaccount1")
        );
        assert_eq!(
            name_of("http://127.0.0.1:10000/devstoreaccount1/").as_deref(),
            Some("devstoreaccount1")
        );
        assert_eq!(
            name_of("http://[::1]:10000/devstoreaccount1/").as_deref(),
            Some("devstoreaccount1")
        );
        assert_eq!(
            name_of("http://localhost:10000/devstoreaccount1").as_deref(),
            Some("devstoreaccount1")
        );
        assert_eq!(
            name_of("http://azurite:10000/devstoreaccount1").as_deref(),
            Some("devstoreaccount1")
        );
        // Azurite's production-style URLs name the account in the host.
        assert_eq!(
            name_of("http://devstoreaccount1.blob.localhost:10000/").as_deref(),
            Some("devstoreaccount1")
        );
        assert_eq!(name_of("http://127.0.0.1:10000/"), None);
    }

    /// The string-to-sign of "Create an account SAS" (version 2020-12-06 and later), written out
    /// by hand: account name, sp, ss, srt, st, se, sip, spr, sv, ses, each ending in a newline.
    #[test]
    fn the_account_sas_string_to_sign_has_the_documented_field_order() {
        let sas = AccountSas {
            permissions: "rwdlac",
            services: "b",
            resource_types: "sco",
            start: "",
            expiry: "2024-05-01T13:00:00Z",
            ip: "",
            protocol: "https,http",
            version: "2022-11-02",
            encryption_scope: "",
        };
        let string_to_sign = account_sas_string_to_sign("devstoreaccount1", &sas);
        assert_eq!(
            string_to_sign,
            "devstoreaccount1\nrwdlac\nb\nsco\n\n2024-05-01T13:00:00Z\n\nhttps,http\n2022-11-02\n\n"
        );
        // HMAC-SHA256 under Azurite's well-known key, computed independently with
        // `openssl dgst -sha256 -mac HMAC -macopt hexkey:<key as hex> -binary | base64`; Azurite
        // 3.35.0's own `generateAccountSASSignature` gives the same.
        let key = base64::engine::general_purpose::STANDARD
            .decode(AZURITE_KEY)
            .unwrap();
        assert_eq!(
            sign(&key, &string_to_sign),
            "8dxIXNLtcQc3FkqZRzLUEl42wIy8K0CdUYGeQ7pYCSg="
        );
    }

    #[test]
    fn a_signed_url_carries_the_account_sas_fields() {
        let signed = signed_url(
            &account("http://127.0.0.1:10000/devstoreaccount1"),
            "deploys",
            Some("updraft/svc/dev/lock file.json"),
        )
        .unwrap();
        assert_eq!(
            signed.url.path(),
            "/devstoreaccount1/deploys/updraft/svc/dev/lock%20file.json"
        );
        let query: Vec<(String, String)> = signed
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let names: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["sv", "ss", "srt", "sp", "se", "spr", "sig"]);
        assert_eq!(query[0].1, SAS_VERSION);
        assert_eq!(query[5].1, "https,http");
        assert_eq!(query[6].1, signed.secrets[0]);

        let https = signed_url(
            &account("https://acct.blob.core.windows.net"),
            "deploys",
            None,
        )
        .unwrap();
        assert_eq!(https.url.path(), "/deploys");
        assert!(https.url.query().unwrap().contains("spr=https&"));
    }

    #[test]
    fn debug_of_an_account_hides_the_key() {
        let shown = format!("{:?}", account("http://127.0.0.1:10000/devstoreaccount1"));
        assert!(!shown.contains(AZURITE_KEY), "{shown}");
        assert!(shown.contains("devstoreaccount1"), "{shown}");
    }

    #[test]
    fn a_key_that_is_not_base64_is_an_error_that_does_not_show_it() {
        let mut bad = account("http://127.0.0.1:10000/devstoreaccount1");
        bad.key = "not base64 at all!".into();
        let error = signed_url(&bad, "deploys", None).err().unwrap();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("not base64 at all!"), "{shown}");
        assert!(shown.contains("devstoreaccount1"), "{shown}");
    }

    #[test]
    fn errors_never_show_the_signature_or_the_key() {
        let signed = signed_url(
            &account("http://127.0.0.1:10000/devstoreaccount1"),
            "deploys",
            Some("lock.json"),
        )
        .unwrap();
        let signature = signed.secrets[0].clone();
        let leaky = format!(
            "error sending request for url ({}): the MAC signature found in the request '{signature}' \
             is not the one computed with {AZURITE_KEY}",
            signed.url
        );
        let place = place(
            &account("http://127.0.0.1:10000/devstoreaccount1"),
            "deploys",
            Some("lock.json"),
        );
        for failure in [
            Failure::Unanswered(leaky.clone()),
            Failure::Refused(Refusal {
                status: 403,
                code: Some("AuthenticationFailed".into()),
                message: leaky.clone(),
            }),
        ] {
            let error = failed("Put Blob", place.clone(), failure, &signed);
            for shown in [
                error.to_string(),
                format!("{error:?}"),
                ProviderError::from(error).to_string(),
            ] {
                assert!(!shown.contains(&signature), "{shown}");
                assert!(!shown.contains(&signed.secrets[1]), "{shown}");
                assert!(!shown.contains(AZURITE_KEY), "{shown}");
                assert!(
                    !shown.contains("sig=") || shown.contains("sig=<redacted>"),
                    "{shown}"
                );
                assert!(shown.contains("lock.json"), "{shown}");
            }
        }
        let unreachable = failed("Get Blob", place, Failure::Unanswered(leaky), &signed);
        assert!(
            unreachable
                .to_string()
                .contains("(http://127.0.0.1:10000/devstoreaccount1/deploys/lock.json)"),
            "the URL is shown without its SAS: {unreachable}"
        );
    }

    #[test]
    fn redaction_blanks_every_sig_value() {
        assert_eq!(
            redact("a?sv=1&sig=abc%2Bdef&se=2 and sig=xyz", &[]),
            "a?sv=1&sig=<redacted>&se=2 and sig=<redacted>"
        );
        assert_eq!(redact("sig=", &[]), "sig=");
        assert_eq!(
            redact("the key K1 here", &["K1"]),
            "the key <redacted> here"
        );
    }

    #[test]
    fn status_errors_name_the_place_status_and_code() {
        let error = BlobError::Status {
            operation: "Get Blob",
            place: place(
                &account("http://127.0.0.1:10000/devstoreaccount1"),
                "deploys",
                Some("lock.json"),
            ),
            status: 403,
            code: Some("AuthenticationFailed".into()),
            message: "Server failed to authenticate the request.".into(),
            help: help_for(403, Some("AuthenticationFailed")),
        };
        assert_eq!(
            error.to_string(),
            "Blob Storage Get Blob of blob `lock.json` in container `deploys` of storage account \
             `devstoreaccount1` answered HTTP 403 (AuthenticationFailed): Server failed to \
             authenticate the request."
        );
        assert_eq!(error.status(), Some(403));
        assert_eq!(error.code(), Some("AuthenticationFailed"));
    }
}
