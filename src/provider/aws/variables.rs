//! Answers `${ssm:...}`, `${cf:...}`, `${s3:...}` and `${aws:accountId}` with the AWS SDK.
//!
//! (Being written.)

use crate::manifest::variables::{CloudError, CloudReference, CloudVariables};

/// The AWS implementation of [`CloudVariables`]. The SDK is configured on first use only, so a
/// manifest without cloud references never touches credentials or the network.
pub struct AwsVariables {
    _runtime: tokio::runtime::Handle,
    _profile: Option<String>,
    _region: Option<String>,
}

impl AwsVariables {
    pub fn new(
        runtime: tokio::runtime::Handle,
        profile: Option<String>,
        region: Option<String>,
    ) -> Self {
        AwsVariables {
            _runtime: runtime,
            _profile: profile,
            _region: region,
        }
    }
}

impl CloudVariables for AwsVariables {
    fn fetch(&self, reference: &CloudReference) -> Result<Option<serde_json::Value>, CloudError> {
        Err(CloudError {
            message: format!("AWS variable sources are not built yet ({reference:?})"),
        })
    }
}
