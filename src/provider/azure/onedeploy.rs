//! Sending a Function App's package with OneDeploy, the deployment API of Flex Consumption:
//! `POST {scm}/api/publish` with the zip, then the deployment's status, polled until it is
//! `Success` (4) or `Failed` (3). The app's deployment endpoint (Kudu) takes the same Resource
//! Manager token as the management calls.
//!
//! Only one deployment runs at a time on an app: a second one is refused 409 "deployment in
//! progress", which is waited out until the step's deadline.

use std::time::{Duration, Instant};

use azure_core::http::headers::HeaderName;
use azure_core::http::Method;
use serde_json::Value as Json;

use super::arm::{self, Wait};
use super::backend::AzureBackend;
use crate::plan::ResourceId;
use crate::provider::ProviderError;

const LOCATION: HeaderName = HeaderName::from_static("location");
const POLL: Duration = Duration::from_secs(2);

/// Kudu's deployment states.
const FAILED: i64 = 3;
const SUCCESS: i64 = 4;

/// Publishes `zip` to the app and waits until Azure says it is deployed.
pub async fn publish(
    backend: &AzureBackend,
    resource: &ResourceId,
    zip: Vec<u8>,
    wait: &Wait<'_>,
) -> Result<(), ProviderError> {
    let scm = backend.endpoints.scm_of(&backend.names.app);
    let url = format!("{scm}/api/publish?RemoteBuild=false&Deployer=updraft");
    let failed = |message: String| ProviderError::Call {
        operation: "OneDeploy".into(),
        resource: resource.to_string(),
        message,
        help: "see the deployment log in the portal (Deployment Center) or run `updraft deploy` \
               again"
            .into(),
    };
    let status_url = loop {
        let (status, headers, body) = arm::send(
            &backend.scm,
            Method::Post,
            &url,
            Some((&zip, "application/zip")),
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
        match status {
            200..=299 => {
                break headers
                    .get_optional_str(&LOCATION)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{scm}/api/deployments/latest"))
            }
            409 if Instant::now() + POLL < wait.deadline => {
                (wait.report)("another deployment is in progress; waiting");
                tokio::time::sleep(POLL.min(wait.longest_pause)).await;
            }
            _ => {
                return Err(failed(format!(
                    "answered {status}: {}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(300)
                        .collect::<String>()
                )))
            }
        }
    };
    loop {
        let (status, _, body) = arm::send(&backend.scm, Method::Get, &status_url, None)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if status >= 400 && status != 404 {
            return Err(failed(format!("the deployment status answered {status}")));
        }
        let document: Json = serde_json::from_slice(&body).unwrap_or(Json::Null);
        match document.get("status").and_then(Json::as_i64) {
            Some(SUCCESS) => return Ok(()),
            Some(FAILED) => {
                let message = document
                    .get("status_text")
                    .or_else(|| document.get("message"))
                    .and_then(Json::as_str)
                    .filter(|m| !m.is_empty())
                    .unwrap_or("the deployment failed");
                return Err(failed(message.to_string()));
            }
            _ => {}
        }
        if Instant::now() + POLL > wait.deadline {
            return Err(failed(
                "the deployment did not finish before the deadline".into(),
            ));
        }
        (wait.report)("deploying the package");
        tokio::time::sleep(POLL.min(wait.longest_pause)).await;
    }
}
