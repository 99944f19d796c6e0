//! The connections to Google's APIs: where each one is, and which credentials sign the calls.
//!
//! Every endpoint can be moved by an environment variable, so tests, an emulator and the local
//! fake (`cargo run --example gcp_fake`) stand in for Google. An endpoint on the loopback
//! interface is called without credentials: a token is never sent to a local process, and trying
//! a deploy against the fake needs no account.

use std::path::Path;

use google_cloud_auth::credentials::{self, Credentials};
use google_cloud_functions_v2::client::FunctionService;
use google_cloud_run_v2::client::Services;
use google_cloud_scheduler_v1::client::CloudScheduler;
use google_cloud_storage::client::Storage;

use crate::provider::ProviderError;

/// Moves every control-plane API (Cloud Functions, Cloud Scheduler, Cloud Run, Cloud Logging)
/// at once.
pub const ENDPOINT_VARIABLE: &str = "UPDRAFT_GCP_ENDPOINT";
pub const FUNCTIONS_ENDPOINT_VARIABLE: &str = "UPDRAFT_GCP_FUNCTIONS_ENDPOINT";
pub const SCHEDULER_ENDPOINT_VARIABLE: &str = "UPDRAFT_GCP_SCHEDULER_ENDPOINT";
pub const RUN_ENDPOINT_VARIABLE: &str = "UPDRAFT_GCP_RUN_ENDPOINT";
/// Cloud Storage (the deploy lock); `STORAGE_EMULATOR_HOST`, which Google's other libraries
/// read, is honoured too.
pub const STORAGE_ENDPOINT_VARIABLE: &str = "UPDRAFT_GCP_STORAGE_ENDPOINT";
pub const LOGGING_ENDPOINT_VARIABLE: &str = "UPDRAFT_GCP_LOGGING_ENDPOINT";

/// Where each API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub functions: String,
    pub scheduler: String,
    pub run: String,
    pub storage: String,
    pub logging: String,
}

impl Endpoints {
    /// Google's, unless the environment moves them.
    pub fn from_environment() -> Endpoints {
        Endpoints::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Endpoints {
        let all = lookup(ENDPOINT_VARIABLE);
        let pick = |variable: &str, default: &str| {
            lookup(variable)
                .or_else(|| all.clone())
                .unwrap_or_else(|| default.to_string())
                .trim_end_matches('/')
                .to_string()
        };
        let storage = lookup(STORAGE_ENDPOINT_VARIABLE)
            .or_else(|| {
                lookup("STORAGE_EMULATOR_HOST").map(|host| {
                    if host.contains("://") {
                        host
                    } else {
                        format!("http://{host}")
                    }
                })
            })
            .unwrap_or_else(|| "https://storage.googleapis.com".into())
            .trim_end_matches('/')
            .to_string();
        Endpoints {
            functions: pick(
                FUNCTIONS_ENDPOINT_VARIABLE,
                "https://cloudfunctions.googleapis.com",
            ),
            scheduler: pick(
                SCHEDULER_ENDPOINT_VARIABLE,
                "https://cloudscheduler.googleapis.com",
            ),
            run: pick(RUN_ENDPOINT_VARIABLE, "https://run.googleapis.com"),
            logging: pick(LOGGING_ENDPOINT_VARIABLE, "https://logging.googleapis.com"),
            storage,
        }
    }

    /// Every endpoint is on this machine's loopback interface.
    pub fn all_local(&self) -> bool {
        [
            &self.functions,
            &self.scheduler,
            &self.run,
            &self.storage,
            &self.logging,
        ]
        .iter()
        .all(|endpoint| is_loopback(endpoint))
    }
}

/// `http://127.0.0.1:8080`, `http://localhost`, `http://[::1]:9000`.
pub fn is_loopback(endpoint: &str) -> bool {
    let rest = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .unwrap_or(endpoint);
    let host = rest.split('/').next().unwrap_or_default();
    let host = if let Some(bracketed) = host.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(host, _)| host)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The clients of one deploy.
#[derive(Clone, Debug)]
pub struct Clients {
    pub functions: FunctionService,
    pub scheduler: CloudScheduler,
    pub run: Services,
    pub storage: Storage,
    pub logging: google_cloud_logging_v2::client::LoggingServiceV2,
    /// For the few Cloud Storage calls the Storage library makes over gRPC only (deleting an
    /// object, creating a bucket), and the PUT of a function's zip to its upload URL.
    pub http: reqwest::Client,
    pub credentials: Credentials,
    pub endpoints: Endpoints,
}

/// The credentials to sign calls with: none for a local endpoint; else the key file of
/// `provider.credentials` (relative to the service directory); else Application Default
/// Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, `gcloud auth application-default login`, the
/// metadata server).
pub fn credentials(
    endpoints: &Endpoints,
    key_file: Option<&Path>,
) -> Result<Credentials, ProviderError> {
    if endpoints.all_local() {
        return Ok(credentials::anonymous::Builder::new().build());
    }
    let sign_in_failed = |message: String| ProviderError::Credentials {
        cloud: "Google Cloud".into(),
        message,
        help: "set `provider.credentials` to a service account key file, or \
               GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`"
            .into(),
    };
    match key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                sign_in_failed(format!(
                    "the key file {} cannot be read: {error}",
                    path.display()
                ))
            })?;
            let key: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
                sign_in_failed(format!(
                    "the key file {} is not JSON: {error}",
                    path.display()
                ))
            })?;
            credentials::service_account::Builder::new(key)
                .build()
                .map_err(|error| {
                    sign_in_failed(format!(
                        "the key file {} is not a service account key: {error}",
                        path.display()
                    ))
                })
        }
        None if !application_default_exists() => Err(sign_in_failed(
            "no credentials were found: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no \
             application default credentials file, and this is not a Google Cloud machine"
                .into(),
        )),
        None => credentials::Builder::default()
            .build()
            .map_err(|error| sign_in_failed(error.to_string())),
    }
}

/// Whether Application Default Credentials can find anything, checked as Google's libraries
/// do, without a call: asking the metadata server of a machine that is not on Google Cloud
/// would retry for minutes before failing.
fn application_default_exists() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("GOOGLE_APPLICATION_CREDENTIALS") || set("GCE_METADATA_HOST") {
        return true;
    }
    let file = match std::env::var_os("CLOUDSDK_CONFIG") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".config/gcloud"),
    }
    .join("application_default_credentials.json");
    file.is_file()
        || std::fs::read_to_string("/sys/class/dmi/id/product_name")
            .is_ok_and(|name| name.contains("Google"))
}

/// Builds every client against `endpoints`.
pub async fn connect(
    endpoints: Endpoints,
    credentials: Credentials,
) -> Result<Clients, ProviderError> {
    let failed = |api: &str, error: &dyn std::fmt::Display| ProviderError::Credentials {
        cloud: "Google Cloud".into(),
        message: format!("the {api} client cannot be set up: {error}"),
        help: "check the credentials and the UPDRAFT_GCP_*_ENDPOINT variables".into(),
    };
    let functions = FunctionService::builder()
        .with_endpoint(&endpoints.functions)
        .with_credentials(credentials.clone())
        .with_retry_policy(retries())
        .build()
        .await
        .map_err(|e| failed("Cloud Functions", &e))?;
    let scheduler = CloudScheduler::builder()
        .with_endpoint(&endpoints.scheduler)
        .with_credentials(credentials.clone())
        .with_retry_policy(retries())
        .build()
        .await
        .map_err(|e| failed("Cloud Scheduler", &e))?;
    let run = Services::builder()
        .with_endpoint(&endpoints.run)
        .with_credentials(credentials.clone())
        .with_retry_policy(retries())
        .build()
        .await
        .map_err(|e| failed("Cloud Run", &e))?;
    let storage = Storage::builder()
        .with_endpoint(&endpoints.storage)
        .with_credentials(credentials.clone())
        .with_retry_policy(retries())
        .build()
        .await
        .map_err(|e| failed("Cloud Storage", &e))?;
    let logging = google_cloud_logging_v2::client::LoggingServiceV2::builder()
        .with_endpoint(&endpoints.logging)
        .with_credentials(credentials.clone())
        .with_retry_policy(retries())
        .build()
        .await
        .map_err(|e| failed("Cloud Logging", &e))?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(|e| failed("HTTP", &e))?;
    Ok(Clients {
        functions,
        scheduler,
        run,
        storage,
        logging,
        http,
        credentials,
        endpoints,
    })
}

/// How long a call is retried on a transient failure (an unreachable endpoint, a 503): a few
/// attempts within 30 s, then the failure is reported. The libraries' default keeps trying for
/// minutes, which looks like a hang at a terminal.
fn retries() -> impl google_cloud_gax::retry_policy::RetryPolicy {
    use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt};
    Aip194Strict
        .with_attempt_limit(4)
        .with_time_limit(std::time::Duration::from_secs(30))
}

/// The headers that sign a call made outside the client libraries (an `Authorization` header,
/// or nothing for anonymous credentials).
pub async fn auth_headers(clients: &Clients) -> Result<http::HeaderMap, ProviderError> {
    use google_cloud_auth::credentials::CacheableResource;
    match clients.credentials.headers(http::Extensions::new()).await {
        Ok(CacheableResource::New { data, .. }) => Ok(data),
        Ok(CacheableResource::NotModified) => Ok(http::HeaderMap::new()),
        Err(error) => Err(ProviderError::Credentials {
            cloud: "Google Cloud".into(),
            message: error.to_string(),
            help: "check the credentials (`gcloud auth application-default login`)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(variables: &[(&str, &str)]) -> Endpoints {
        Endpoints::from_lookup(|name| {
            variables
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn endpoints_are_googles_unless_moved() {
        let google = endpoints(&[]);
        assert_eq!(google.functions, "https://cloudfunctions.googleapis.com");
        assert_eq!(google.storage, "https://storage.googleapis.com");
        assert!(!google.all_local());
    }

    #[test]
    fn one_variable_moves_the_control_plane_and_another_the_storage() {
        let moved = endpoints(&[
            (ENDPOINT_VARIABLE, "http://127.0.0.1:9100/"),
            (RUN_ENDPOINT_VARIABLE, "http://localhost:9200"),
            ("STORAGE_EMULATOR_HOST", "127.0.0.1:9023"),
        ]);
        assert_eq!(moved.functions, "http://127.0.0.1:9100");
        assert_eq!(moved.scheduler, "http://127.0.0.1:9100");
        assert_eq!(moved.run, "http://localhost:9200");
        assert_eq!(moved.storage, "http://127.0.0.1:9023");
        assert!(moved.all_local());
    }

    #[test]
    fn a_token_goes_to_any_endpoint_that_is_not_loopback() {
        let half = endpoints(&[(ENDPOINT_VARIABLE, "http://127.0.0.1:9100")]);
        assert!(!half.all_local(), "storage is still Google's");
        assert!(is_loopback("http://[::1]:80/x"));
        assert!(!is_loopback("http://127.0.0.1.example.com"));
        assert!(!is_loopback("https://example.com"));
    }
}
