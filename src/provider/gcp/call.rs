//! What a failed Google call means to the user: the API to enable, the role to grant, the quota
//! to raise, or a conflict to wait out.
//!
//! Google answers a refused call with an HTTP status and a `google.rpc.Status` whose message
//! says more. The classification reads both, once, so every call site reports alike.

use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::error::Error as GoogleError;

use crate::provider::ProviderError;

/// One of Google's APIs, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Functions,
    Scheduler,
    Run,
    Storage,
    Logging,
}

impl Api {
    /// The service name `gcloud services enable` takes.
    pub fn service(self) -> &'static str {
        match self {
            Api::Functions => "cloudfunctions.googleapis.com",
            Api::Scheduler => "cloudscheduler.googleapis.com",
            Api::Run => "run.googleapis.com",
            Api::Storage => "storage.googleapis.com",
            Api::Logging => "logging.googleapis.com",
        }
    }

    /// The predefined role that allows what updraft does with the API.
    pub fn role(self) -> &'static str {
        match self {
            Api::Functions => "roles/cloudfunctions.developer",
            Api::Scheduler => "roles/cloudscheduler.admin",
            Api::Run => "roles/run.admin",
            Api::Storage => "roles/storage.admin",
            Api::Logging => "roles/logging.viewer",
        }
    }
}

/// What kind of failure a call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NotFound,
    /// Another operation on the resource is running, or it already exists.
    Conflict,
    /// A precondition (`ifGenerationMatch`) did not hold.
    Precondition,
    ApiDisabled,
    PermissionDenied,
    Quota,
    Other,
}

/// Classifies `error`.
pub fn failure(error: &GoogleError) -> Failure {
    let status = error.status();
    let code = status.map(|s| s.code);
    let message = status.map(|s| s.message.as_str()).unwrap_or_default();
    let http = error.http_status_code();
    if message.contains("SERVICE_DISABLED")
        || message.contains("has not been used in project")
        || message.contains("it is disabled")
    {
        return Failure::ApiDisabled;
    }
    match (code, http) {
        (Some(Code::NotFound), _) | (_, Some(404)) => Failure::NotFound,
        (Some(Code::FailedPrecondition), Some(412)) | (_, Some(412)) => Failure::Precondition,
        (Some(Code::AlreadyExists | Code::Aborted), _) | (_, Some(409)) => Failure::Conflict,
        (Some(Code::PermissionDenied), _) | (_, Some(403)) => Failure::PermissionDenied,
        (Some(Code::ResourceExhausted), _) | (_, Some(429)) => Failure::Quota,
        _ => Failure::Other,
    }
}

/// A failed call as an error that says what to do.
pub fn failed(
    api: Api,
    operation: &str,
    resource: impl Into<String>,
    error: &GoogleError,
) -> ProviderError {
    let message = error
        .status()
        .map(|status| status.message.clone())
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| error.to_string());
    let help = match failure(error) {
        Failure::ApiDisabled => format!(
            "enable the API: `gcloud services enable {}` (it takes a minute to apply)",
            api.service()
        ),
        Failure::PermissionDenied => format!(
            "grant the deploying account `{}` on the project (`gcloud projects add-iam-policy-binding PROJECT --member=... --role={}`)",
            api.role(),
            api.role()
        ),
        Failure::Quota => {
            "a quota is exhausted: wait and run the command again, or ask for more in the console's Quotas page".into()
        }
        Failure::Conflict => {
            "another change to it is in progress: run the command again when it has finished".into()
        }
        Failure::NotFound => "it is gone: run `updraft plan` to see the current state".into(),
        Failure::Precondition | Failure::Other => {
            "run the command again; if it fails the same way, check the resource in the console".into()
        }
    };
    ProviderError::Call {
        operation: format!(
            "{}:{operation}",
            api.service().trim_end_matches(".googleapis.com")
        ),
        resource: resource.into(),
        message,
        help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::Status;

    fn refused(code: Code, _http: u16, message: &str) -> GoogleError {
        GoogleError::service(Status::default().set_code(code).set_message(message))
    }

    #[test]
    fn a_disabled_api_is_named_with_the_command_that_enables_it() {
        let error = refused(
            Code::PermissionDenied,
            403,
            "Cloud Functions API has not been used in project 123 before or it is disabled.",
        );
        assert_eq!(failure(&error), Failure::ApiDisabled);
        let ProviderError::Call { help, .. } = failed(Api::Functions, "create", "f", &error) else {
            panic!("a call error");
        };
        assert!(help.contains("gcloud services enable cloudfunctions.googleapis.com"));
    }

    #[test]
    fn a_refused_permission_names_the_role_to_grant() {
        let error = refused(
            Code::PermissionDenied,
            403,
            "Permission denied on 'jobs.create'",
        );
        let ProviderError::Call { help, message, .. } =
            failed(Api::Scheduler, "create", "j", &error)
        else {
            panic!("a call error");
        };
        assert!(help.contains("roles/cloudscheduler.admin"), "{help}");
        assert!(message.contains("jobs.create"));
    }

    #[test]
    fn conflicts_and_missing_resources_are_told_apart() {
        assert_eq!(
            failure(&refused(Code::Aborted, 409, "operation in progress")),
            Failure::Conflict
        );
        assert_eq!(
            failure(&refused(Code::NotFound, 404, "not found")),
            Failure::NotFound
        );
        assert_eq!(
            failure(&refused(Code::ResourceExhausted, 429, "quota")),
            Failure::Quota
        );
    }
}
