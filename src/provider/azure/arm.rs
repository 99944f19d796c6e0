//! Typed calls to Azure Resource Manager on `azure_core`'s [`Pipeline`]: no maintained Rust
//! crate covers the `Microsoft.Web` management API, so updraft writes its own requests and
//! reads the answers as JSON into the typed structs of [`super::resources`].
//!
//! The pipeline brings the bearer token (a [`TokenCredential`] for
//! `https://management.azure.com/.default`), retries of 408, 429 and 5xx answers that honour
//! `Retry-After`, and the client request id. What it does not bring is written here:
//! - every call names its pinned `api-version`, so a change on Azure's side cannot change what a
//!   body means;
//! - a long-running operation (201 or 202 from PUT, PATCH, DELETE or POST) is followed through
//!   its `Azure-AsyncOperation` header (a status document: `InProgress`, then `Succeeded`,
//!   `Failed` or `Canceled`) or else its `Location` header (202 until done), at the interval its
//!   `Retry-After` asks, until the step's deadline;
//! - a refused call is one [`ArmError`] carrying ARM's own `error.code` and `error.message`, so
//!   the backend can tell a conflict from a missing permission.

use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::{auth::BearerTokenAuthorizationPolicy, Policy};
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions,
    RawResponse, Request, RetryOptions, Url,
};
use serde_json::Value as Json;

/// The scope of a Resource Manager token.
pub const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

/// The token scope of Application Insights' query API.
pub const INSIGHTS_SCOPE: &str = "https://api.applicationinsights.io/.default";

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");

/// How often an operation is polled when its answer does not say.
const DEFAULT_POLL: Duration = Duration::from_secs(5);

/// A refused or failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    /// The HTTP status; 0 when no answer came (a connection error, a deadline).
    pub status: u16,
    /// ARM's `error.code` (`Conflict`, `AuthorizationFailed`, `ResourceGroupNotFound`, ...).
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, self.code.is_empty()) {
            (0, _) => write!(f, "{}", self.message),
            (status, true) => write!(f, "HTTP {status}: {}", self.message),
            (status, false) => write!(f, "HTTP {status} {}: {}", self.code, self.message),
        }
    }
}

impl ArmError {
    fn transport(error: impl std::fmt::Display) -> Self {
        ArmError {
            status: 0,
            code: String::new(),
            message: error.to_string(),
        }
    }

    /// A failure to reach Azure, with its causes: azure_core's own message ("retry policy
    /// expired") says nothing of why.
    fn unreachable(error: azure_core::Error) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        ArmError::transport(message)
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// Another operation on the resource is running (a deployment in progress, a plan being
    /// updated): waiting and trying again is the fix.
    pub fn is_conflict(&self) -> bool {
        self.status == 409
    }
}

/// What a call answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
    async_operation: Option<String>,
    location: Option<String>,
    retry_after: Option<Duration>,
}

/// Resource Manager for one subscription.
#[derive(Debug, Clone)]
pub struct Arm {
    pipeline: Pipeline,
    /// `https://management.azure.com`, or a fake's loopback address.
    endpoint: String,
    pub subscription: String,
}

/// A pipeline with updraft's retry policy, signing with `credential` when there is one (a
/// loopback endpoint gets no token: nothing is sent to a local process that could leak).
pub fn pipeline(credential: Option<Arc<dyn TokenCredential>>, scope: &str) -> Pipeline {
    let options = ClientOptions {
        // A few tries within half a minute: the library's default keeps trying for a minute
        // per call, which a deploy of a dozen calls against a dead endpoint multiplies.
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: 4,
            initial_delay: azure_core::time::Duration::milliseconds(500),
            max_total_elapsed: azure_core::time::Duration::seconds(30),
            max_delay: azure_core::time::Duration::seconds(10),
        }),
        ..ClientOptions::default()
    };
    let per_try: Vec<Arc<dyn Policy>> = match credential {
        Some(credential) => vec![Arc::new(BearerTokenAuthorizationPolicy::new(
            credential,
            [scope.to_string()],
        ))],
        None => Vec::new(),
    };
    Pipeline::new(
        Some("updraft"),
        Some(env!("CARGO_PKG_VERSION")),
        options,
        Vec::new(),
        per_try,
        None,
    )
}

/// Sends one request and reads the whole answer, whatever its status.
pub async fn send(
    pipeline: &Pipeline,
    method: Method,
    url: &str,
    body: Option<(&[u8], &str)>,
) -> Result<(u16, azure_core::http::headers::Headers, Vec<u8>), ArmError> {
    let url = Url::parse(url).map_err(|error| ArmError::transport(format!("{url}: {error}")))?;
    let mut request = Request::new(url, method);
    request.insert_header("accept", "application/json");
    if let Some((bytes, content_type)) = body {
        request.insert_header("content-type", content_type.to_string());
        request.set_body(bytes.to_vec());
    }
    send_with_headers(pipeline, request).await
}

async fn send_with_headers(
    pipeline: &Pipeline,
    mut request: Request,
) -> Result<(u16, azure_core::http::headers::Headers, Vec<u8>), ArmError> {
    let options = PipelineSendOptions {
        skip_checks: true,
        ..PipelineSendOptions::default()
    };
    let response: RawResponse = pipeline
        .send(&Context::new(), &mut request, Some(options))
        .await
        .map_err(ArmError::unreachable)?;
    let (status, headers, body) = response.deconstruct();
    Ok((u16::from(status), headers, body.to_vec()))
}

/// Sends a request built by the caller (its own headers); the status and body.
pub async fn send_request(
    pipeline: &Pipeline,
    request: Request,
) -> Result<(u16, Vec<u8>), ArmError> {
    let (status, _, body) = send_with_headers(pipeline, request).await?;
    Ok((status, body))
}

impl Arm {
    pub fn new(pipeline: Pipeline, endpoint: &str, subscription: &str) -> Self {
        Arm {
            pipeline,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            subscription: subscription.to_string(),
        }
    }

    /// One call to `path` (a resource id and what follows it) at `api_version`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: Option<&Json>,
    ) -> Result<Answer, ArmError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = format!(
            "{}{path}{separator}api-version={api_version}",
            self.endpoint
        );
        self.call_url(method, &url, body).await
    }

    async fn call_url(
        &self,
        method: Method,
        url: &str,
        body: Option<&Json>,
    ) -> Result<Answer, ArmError> {
        let bytes = body.map(|body| body.to_string().into_bytes());
        let (status, headers, bytes) = send(
            &self.pipeline,
            method,
            url,
            bytes.as_deref().map(|b| (b, "application/json")),
        )
        .await?;
        let body: Json = if bytes.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Json::String(String::from_utf8_lossy(&bytes).chars().take(500).collect())
            })
        };
        if status >= 400 {
            return Err(error_of(status, &body));
        }
        Ok(Answer {
            status,
            body,
            async_operation: headers
                .get_optional_str(&AZURE_ASYNC_OPERATION)
                .map(str::to_string),
            location: headers.get_optional_str(&LOCATION).map(str::to_string),
            retry_after: headers
                .get_optional_str(&RETRY_AFTER)
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        })
    }

    /// The resource at `path`, or `None` when it does not exist.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Option<Json>, ArmError> {
        match self.call(Method::Get, path, api_version, None).await {
            Ok(answer) => Ok(Some(answer.body)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A PUT, PATCH, POST or DELETE followed to its end: the final body of the operation (for a
    /// PUT or PATCH, the resource as it is afterwards).
    pub async fn change(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: Option<&Json>,
        until: &Wait<'_>,
    ) -> Result<Json, ArmError> {
        let answer = self.call(method, path, api_version, body).await?;
        let finished = self.follow(answer, until).await?;
        if matches!(method, Method::Put | Method::Patch) && finished.is_null() {
            // An operation's status document is not the resource: read it once done.
            return Ok(self.get(path, api_version).await?.unwrap_or(Json::Null));
        }
        Ok(finished)
    }

    /// A DELETE followed to its end; a resource already gone is not an error.
    pub async fn delete(
        &self,
        path: &str,
        api_version: &str,
        until: &Wait<'_>,
    ) -> Result<(), ArmError> {
        match self
            .change(Method::Delete, path, api_version, None, until)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Follows a long-running operation until it ends; the answer's own body when it was not one.
    async fn follow(&self, answer: Answer, until: &Wait<'_>) -> Result<Json, ArmError> {
        if !matches!(answer.status, 201 | 202) {
            return Ok(answer.body);
        }
        let mut interval = answer.retry_after.unwrap_or(DEFAULT_POLL);
        if let Some(status_url) = answer.async_operation {
            loop {
                until.pause(interval, "the operation to finish").await?;
                let poll = self.call_url(Method::Get, &status_url, None).await?;
                let status = poll.body.get("status").and_then(Json::as_str).unwrap_or("");
                match status {
                    "Succeeded" => {
                        // A 201 PUT answered the resource; the status document has no body.
                        return Ok(if answer.status == 201 {
                            answer.body
                        } else {
                            Json::Null
                        });
                    }
                    "Failed" | "Canceled" => {
                        let error = poll.body.get("error").cloned().unwrap_or(Json::Null);
                        return Err(ArmError {
                            status: 200,
                            code: text(&error, "code").unwrap_or_else(|| status.to_string()),
                            message: text(&error, "message")
                                .unwrap_or_else(|| format!("the operation ended {status}")),
                        });
                    }
                    _ => {
                        until.report(&format!("operation {}", words(status)));
                        interval = poll.retry_after.unwrap_or(interval);
                    }
                }
            }
        }
        if let Some(location) = answer.location {
            loop {
                until.pause(interval, "the operation to finish").await?;
                let poll = self.call_url(Method::Get, &location, None).await?;
                if poll.status != 202 {
                    return Ok(poll.body);
                }
                interval = poll.retry_after.unwrap_or(interval);
            }
        }
        // 201 with neither header: the answer is the created resource.
        Ok(answer.body)
    }
}

/// How long a change may wait, and where its waits are reported.
pub struct Wait<'a> {
    pub deadline: Instant,
    pub report: &'a (dyn Fn(&str) + Send + Sync),
    /// The longest single pause: tests poll a fake fast.
    pub longest_pause: Duration,
}

impl Wait<'_> {
    fn report(&self, message: &str) {
        (self.report)(message);
    }

    /// Sleeps `interval` (at most `longest_pause`), or fails when the deadline comes first.
    async fn pause(&self, interval: Duration, what: &str) -> Result<(), ArmError> {
        let interval = interval.min(self.longest_pause);
        if Instant::now() + interval > self.deadline {
            return Err(ArmError {
                status: 0,
                code: "Timeout".into(),
                message: format!("gave up waiting for {what}: the deadline passed"),
            });
        }
        tokio::time::sleep(interval).await;
        Ok(())
    }
}

/// ARM's error body: `{"error": {"code", "message"}}` (some services leave out the wrapper).
fn error_of(status: u16, body: &Json) -> ArmError {
    let error = body.get("error").unwrap_or(body);
    ArmError {
        status,
        code: text(error, "code").unwrap_or_default(),
        message: text(error, "message")
            .or_else(|| body.as_str().map(str::to_string))
            .unwrap_or_else(|| "no message".into()),
    }
}

/// `InProgress` as `in progress`: ARM's status names, as a progress message says them.
fn words(status: &str) -> String {
    let mut spoken = String::new();
    for (index, character) in status.chars().enumerate() {
        if character.is_uppercase() && index > 0 {
            spoken.push(' ');
        }
        spoken.extend(character.to_lowercase());
    }
    spoken
}

fn text(value: &Json, key: &str) -> Option<String> {
    value.get(key).and_then(Json::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arm_errors_keep_the_code_and_message_azure_gave() {
        let error = error_of(
            409,
            &json!({"error": {"code": "Conflict", "message": "deployment in progress"}}),
        );
        assert!(error.is_conflict());
        assert_eq!(
            error.to_string(),
            "HTTP 409 Conflict: deployment in progress"
        );
        let bare = error_of(
            403,
            &json!({"code": "AuthorizationFailed", "message": "no"}),
        );
        assert_eq!(bare.code, "AuthorizationFailed");
    }
}
