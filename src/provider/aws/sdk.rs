//! How updraft configures the AWS SDK (credentials, region, endpoints, timeouts) and how it turns
//! SDK failures into messages a user can act on.
//!
//! The configuration follows the standard chains (environment, shared config and credentials
//! files, SSO, process credentials, container and instance roles) with three choices of our own:
//! `--aws-profile` wins over credentials in the environment, as in the Serverless Framework; the
//! region falls back to `us-east-1` as the Framework does, without asking the instance metadata
//! service; and every call is bounded (a 2 s connect timeout, 10 s per operation, 3 attempts) so
//! that a machine without network fails in seconds, not minutes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ssm::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ssm::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The region used when neither the command line, the environment nor the profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ATTEMPTS: u32 = 3;

/// Loads the SDK configuration. Reads environment and files only: credentials are resolved when
/// the first request is signed.
pub async fn load(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let retries = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(1));
    load_with(profile, region, timeouts, retries).await
}

/// A deploy's calls take longer than a variable's: a Lambda create or an IAM call may take
/// seconds, and throttling is answered with more patient retries. Uploads get their own, longer
/// bound (see [`UPLOAD_TIMEOUT`]).
pub async fn load_for_deploy(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(60))
        .operation_timeout(Duration::from_secs(180))
        .build();
    let retries = RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(250))
        .with_max_backoff(Duration::from_secs(10));
    load_with(profile, region, timeouts, retries).await
}

/// How long one artifact upload may take: a 250 MB zip on a slow uplink takes minutes.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

async fn load_with(
    profile: Option<&str>,
    region: Option<&str>,
    timeouts: TimeoutConfig,
    retries: RetryConfig,
) -> SdkConfig {
    let mut profile_region = ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        profile_region = profile_region.profile_name(profile);
    }
    let regions = RegionProviderChain::first_try(region.map(|r| Region::new(r.to_string())))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(profile_region.build())
        .or_else(Region::from_static(DEFAULT_REGION));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(regions)
        .timeout_config(timeouts)
        .retry_config(retries);
    if let Some(profile) = profile {
        // As in the Framework, `--aws-profile` wins over credentials in the environment (the
        // SDK's default chain would prefer the environment).
        let credentials = ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        loader = loader
            .profile_name(profile)
            .credentials_provider(credentials);
    }
    loader.load().await
}

/// The profile a cloud command signs with, chosen as the Serverless Framework chooses it:
/// `--aws-profile` first; then credentials in the environment (`AWS_ACCESS_KEY_ID` with
/// `AWS_SECRET_ACCESS_KEY`, or `AWS_PROFILE`), which the default chain reads; then the
/// manifest's `provider.profile`; else the default chain. `None` means the default chain.
/// `env` reads one environment variable (the process's, in the binary).
pub fn deploy_profile(
    command_line: Option<&str>,
    manifest: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    if let Some(profile) = command_line.filter(|p| !p.is_empty()) {
        return Some(profile.to_string());
    }
    let set = |name: &str| env(name).is_some_and(|value| !value.is_empty());
    let environment_credentials =
        (set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")) || set("AWS_PROFILE");
    if environment_credentials {
        return None;
    }
    manifest.filter(|p| !p.is_empty()).map(str::to_string)
}

/// Remembers the host the last request went to, so that "cannot reach" can name it (the
/// endpoint depends on the service, the region and `AWS_ENDPOINT_URL`).
#[derive(Debug, Clone, Default)]
pub struct Destination(Arc<Mutex<Option<String>>>);

impl Destination {
    pub fn host(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Intercept for Destination {
    fn name(&self) -> &'static str {
        "Destination"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
        let host = after_scheme.split('/').next().unwrap_or_default();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(host.to_string());
        Ok(())
    }
}

/// What was being asked, for the error message.
pub struct Request<'a> {
    /// The variable as written, e.g. `${ssm:/my/param}`.
    pub reference: &'a str,
    /// The service as users know it, e.g. `SSM`.
    pub service: &'static str,
    /// The IAM action the call needs, e.g. `ssm:GetParameter`.
    pub action: &'a str,
    pub region: &'a str,
    /// `--aws-profile`, when given.
    pub profile: Option<&'a str>,
    /// Where the request went, once it was sent.
    pub destination: &'a Destination,
}

/// Error codes meaning the credentials themselves were rejected.
pub(super) const BAD_CREDENTIALS: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
    "AuthFailure",
];

/// Error codes meaning the credentials are fine but lack a permission.
pub(super) const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "KMS.AccessDeniedException",
];

/// Describes why a request could not be answered, naming the variable and what to do.
pub fn describe<E, R>(error: &SdkError<E, R>, request: &Request) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let Request {
        reference,
        service,
        action,
        region,
        profile,
        destination,
    } = request;
    // "AWS SSM in us-east-1 (ssm.us-east-1.amazonaws.com)"
    let place = match destination.host() {
        Some(host) => format!("AWS {service} in {region} ({host})"),
        None => format!("AWS {service} in {region}"),
    };
    let detail = innermost_text(error);
    match error {
        SdkError::ServiceError(_) => {
            let code = error.code().unwrap_or("unknown error");
            let message = error.message().unwrap_or_default();
            let answer = if message.is_empty() {
                code.to_string()
            } else {
                format!("{code}: {message}")
            };
            if BAD_CREDENTIALS.contains(&code) {
                format!(
                    "AWS {service} rejected the credentials used for {reference} ({answer}); \
                     refresh or replace them (environment variables, --aws-profile, or the \
                     shared credentials file)"
                )
            } else if ACCESS_DENIED.contains(&code) {
                format!(
                    "AWS {service} denied access to {reference} ({answer}); the credentials in \
                     use need permission for {action} in {region}: grant it, or use other \
                     credentials with --aws-profile"
                )
            } else {
                format!("AWS {service} could not answer {reference} in {region}: {answer}")
            }
        }
        _ if is_missing_credentials(error) => {
            // The chain's report lists every provider it tried, one per line: the first line
            // says what matters.
            let detail = detail
                .lines()
                .next()
                .unwrap_or_default()
                .trim_end_matches(". Attempted:");
            match profile {
                Some(profile) => format!(
                    "no AWS credentials for profile `{profile}` to read {reference} ({detail}); \
                     check that the profile exists in ~/.aws/config or ~/.aws/credentials and \
                     holds credentials"
                ),
                None => format!(
                    "no AWS credentials to read {reference} ({detail}); set AWS_ACCESS_KEY_ID \
                     and AWS_SECRET_ACCESS_KEY, pass --aws-profile, or configure a default \
                     profile (aws configure)"
                ),
            }
        }
        SdkError::TimeoutError(_) => format!(
            "{place} did not answer {reference} within {} s; check the network connection and \
             the region (or AWS_ENDPOINT_URL)",
            OPERATION_TIMEOUT.as_secs()
        ),
        SdkError::DispatchFailure(_) => format!(
            "cannot reach {place} to read {reference}: {detail}; check the network connection \
             and the region (AWS_ENDPOINT_URL points updraft at another endpoint)"
        ),
        SdkError::ResponseError(_) => format!(
            "{place} sent an answer for {reference} that is not one AWS gives: {detail}; if \
             AWS_ENDPOINT_URL is set, check that it points at AWS or an emulator of it"
        ),
        _ => format!("cannot ask {place} for {reference}: {detail}"),
    }
}

/// Whether the request never got an answer (no network, no such host, refused, timed out), as
/// opposed to an answer that said no.
pub fn is_unreachable<E, R>(error: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    matches!(
        error,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) && !is_missing_credentials(error)
}

/// The SDK reports missing credentials as a failure to build or sign the request; its text
/// is the only stable mark.
pub(crate) fn is_missing_credentials<E, R>(error: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if matches!(error, SdkError::ServiceError(_)) {
        return false;
    }
    let text = DisplayErrorContext(error).to_string().to_lowercase();
    text.contains("credentials") || text.contains("failed to load profile")
}

/// The most specific error text in the chain (the SDK's outer layers say only "dispatch
/// failure" or "io error").
pub(crate) fn innermost_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut texts = vec![error.to_string()];
    let mut current = error.source();
    // Chains are a handful of links deep; the bound only guards against a cycle.
    for _ in 0..16 {
        let Some(next) = current else { break };
        texts.push(next.to_string());
        current = next.source();
    }
    texts
        .into_iter()
        .rev()
        .find(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "unknown error".to_string())
}

#[cfg(test)]
mod tests {
    use super::deploy_profile;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn the_command_line_profile_wins_over_everything() {
        let keys = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
        assert_eq!(
            deploy_profile(Some("ci"), Some("manifest"), env(&keys)),
            Some("ci".into())
        );
    }

    #[test]
    fn environment_credentials_win_over_the_manifest_profile() {
        let keys = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
        assert_eq!(deploy_profile(None, Some("manifest"), env(&keys)), None);
        let profile = [("AWS_PROFILE", "team")];
        assert_eq!(deploy_profile(None, Some("manifest"), env(&profile)), None);
    }

    #[test]
    fn the_manifest_profile_is_used_without_environment_credentials() {
        // A key id alone is not credentials.
        let half = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "")];
        assert_eq!(
            deploy_profile(None, Some("manifest"), env(&half)),
            Some("manifest".into())
        );
        assert_eq!(deploy_profile(None, None, env(&[])), None);
    }
}
