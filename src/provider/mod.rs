//! The clouds. Each backend reads live state and applies a plan; the AWS backend also answers the
//! cloud variable sources (`${ssm:...}`, `${cf:...}`, `${s3:...}`, `${aws:accountId}`).

pub mod aws;
pub mod azure;
pub mod gcp;
