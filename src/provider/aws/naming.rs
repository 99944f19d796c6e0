//! The names, resource types and ownership tags of what updraft deploys to AWS. One place, so
//! the desired state, the live reader and `remove` agree on them.
//!
//! Resources are named `{service}-{stage}-...` as the Serverless Framework names them, and every
//! resource that takes tags carries [`SERVICE_TAG`] and [`STAGE_TAG`]: the live reader and
//! `remove` only ever see (and so only ever change) resources with both.

use crate::plan::ResourceId;

/// Ownership tags.
pub const SERVICE_TAG: &str = "updraft:service";
pub const STAGE_TAG: &str = "updraft:stage";

/// Resource types, as plans show them.
pub mod kind {
    pub const DEPLOYMENT_BUCKET: &str = "aws.s3.bucket";
    pub const ARTIFACT: &str = "aws.s3.artifact";
    pub const ROLE: &str = "aws.iam.role";
    pub const LOG_GROUP: &str = "aws.logs.log-group";
    pub const SUBSCRIPTION_FILTER: &str = "aws.logs.subscription-filter";
    pub const FUNCTION: &str = "aws.lambda.function";
    pub const FUNCTION_URL: &str = "aws.lambda.url";
    pub const LAYER: &str = "aws.lambda.layer";
    pub const EVENT_INVOKE_CONFIG: &str = "aws.lambda.event-invoke-config";
    pub const PERMISSION: &str = "aws.lambda.permission";
    pub const EVENT_SOURCE_MAPPING: &str = "aws.lambda.event-source-mapping";
    pub const QUEUE: &str = "aws.sqs.queue";
    pub const TOPIC: &str = "aws.sns.topic";
    pub const SUBSCRIPTION: &str = "aws.sns.subscription";
    pub const RULE: &str = "aws.events.rule";
    pub const EVENT_BUS: &str = "aws.events.event-bus";
    pub const TOPIC_RULE: &str = "aws.iot.topic-rule";
    pub const USER_POOL: &str = "aws.cognito-idp.user-pool";
    pub const USER_POOL_TRIGGERS: &str = "aws.cognito-idp.user-pool-triggers";
    pub const BUCKET_NOTIFICATION: &str = "aws.s3.notification";
    pub const HTTP_API: &str = "aws.apigatewayv2.api";
    pub const HTTP_API_ROUTE: &str = "aws.apigatewayv2.route";
    pub const HTTP_API_INTEGRATION: &str = "aws.apigatewayv2.integration";
    pub const HTTP_API_AUTHORIZER: &str = "aws.apigatewayv2.authorizer";
    pub const HTTP_API_STAGE: &str = "aws.apigatewayv2.stage";
    pub const WEBSOCKET_API: &str = "aws.apigatewayv2.websocket-api";
    pub const WEBSOCKET_ROUTE: &str = "aws.apigatewayv2.websocket-route";
    pub const WEBSOCKET_ROUTE_RESPONSE: &str = "aws.apigatewayv2.websocket-route-response";
    pub const WEBSOCKET_INTEGRATION: &str = "aws.apigatewayv2.websocket-integration";
    pub const WEBSOCKET_AUTHORIZER: &str = "aws.apigatewayv2.websocket-authorizer";
    pub const WEBSOCKET_DEPLOYMENT: &str = "aws.apigatewayv2.websocket-deployment";
    pub const WEBSOCKET_STAGE: &str = "aws.apigatewayv2.websocket-stage";
    pub const REST_API: &str = "aws.apigateway.rest-api";
    /// A REST API the service deploys routes into but does not own
    /// (`provider.apiGateway.restApiId`): read and checked, never changed or deleted.
    pub const SHARED_REST_API: &str = "aws.apigateway.shared-rest-api";
    pub const REST_API_RESOURCE: &str = "aws.apigateway.resource";
    pub const REST_API_METHOD: &str = "aws.apigateway.method";
    pub const REST_API_DEPLOYMENT: &str = "aws.apigateway.deployment";
    pub const REST_API_AUTHORIZER: &str = "aws.apigateway.authorizer";
    pub const REST_API_MODEL: &str = "aws.apigateway.model";
    pub const REST_API_KEY: &str = "aws.apigateway.api-key";
    pub const REST_API_USAGE_PLAN: &str = "aws.apigateway.usage-plan";
    pub const REST_API_USAGE_PLAN_KEY: &str = "aws.apigateway.usage-plan-key";
    pub const REST_API_VALIDATOR: &str = "aws.apigateway.request-validator";
    /// A target group of type `lambda` for `alb` events.
    pub const TARGET_GROUP: &str = "aws.elasticloadbalancing.target-group";
    /// A function registered as a target group's target.
    pub const TARGET: &str = "aws.elasticloadbalancing.target";
    /// A rule on the user's listener that forwards to a target group.
    pub const LISTENER_RULE: &str = "aws.elasticloadbalancing.listener-rule";
}

pub use crate::manifest::naming::{fit, rule_name, RULE_NAME_LIMIT};

/// `{service}-{stage}`: the prefix of every name.
pub fn prefix(service: &str, stage: &str) -> String {
    format!("{service}-{stage}")
}

/// The execution role's name, as the Framework names it, shortened to IAM's 64 characters with
/// a hash when the service name is long (so two long names never collide).
pub fn role_name(service: &str, stage: &str, region: &str) -> String {
    fit(format!("{service}-{stage}-{region}-lambdaRole"), 64)
}

/// The function's log group.
pub fn log_group_name(function_name: &str) -> String {
    format!("/aws/lambda/{function_name}")
}

/// The bucket updraft creates when `provider.deploymentBucket` names none: one per account and
/// region, shared by services (as AWS SAM and CDK do), because bucket names are global and at
/// most 63 characters, too few for `{service}-{stage}-...`. Each service keeps its objects under
/// [`object_prefix`], and `remove` deletes only those.
pub fn default_bucket_name(account: &str, region: &str) -> String {
    format!("updraft-deployments-{account}-{region}")
}

/// Where a service's objects live in the deployment bucket.
pub fn object_prefix(service: &str, stage: &str) -> String {
    format!("updraft/{service}/{stage}/")
}

/// An artifact's key: named by its content hash, so an unchanged artifact is never uploaded
/// again.
pub fn artifact_key(service: &str, stage: &str, sha256: &str) -> String {
    format!("{}artifacts/{sha256}.zip", object_prefix(service, stage))
}

/// The lock object's key.
pub fn lock_key(service: &str, stage: &str) -> String {
    format!("{}deploy.lock", object_prefix(service, stage))
}

/// The deploy state's key: where the service's resources are that tags cannot find.
pub fn state_key(service: &str, stage: &str) -> String {
    format!("{}state.json", object_prefix(service, stage))
}

/// Why `name` cannot be an S3 bucket's name (S3's naming rules), if it cannot.
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!("it has {} characters, not 3 to 63", name.len()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(format!("`{bad}` is not allowed"));
    }
    let edges = [name.chars().next(), name.chars().last()];
    if edges
        .iter()
        .flatten()
        .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
    {
        return Err("it must start and end with a letter or a digit".into());
    }
    if name.contains("..") {
        return Err("it has two dots in a row".into());
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Err("it is formatted as an IP address".into());
    }
    Ok(())
}

pub fn id(kind: &str, name: impl Into<String>) -> ResourceId {
    ResourceId::new(kind, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_rules() {
        assert!(check_bucket_name("my-bucket.v2").is_ok());
        assert!(check_bucket_name("<your-bucket-name>").is_err());
        assert!(check_bucket_name("ab").is_err());
        assert!(check_bucket_name("Upper").is_err());
        assert!(check_bucket_name("-dash").is_err());
        assert!(check_bucket_name("a..b").is_err());
        assert!(check_bucket_name("192.168.1.1").is_err());
    }

    #[test]
    fn a_long_role_name_fits_iam_and_stays_unique() {
        let a = role_name(&"a".repeat(60), "dev", "us-east-1");
        let b = role_name(&format!("{}b", "a".repeat(59)), "dev", "us-east-1");
        assert!(a.len() <= 64 && b.len() <= 64);
        assert_ne!(a, b);
        assert_eq!(
            role_name("svc", "dev", "eu-west-1"),
            "svc-dev-eu-west-1-lambdaRole"
        );
    }

    #[test]
    fn the_lock_key_says_lock() {
        assert!(lock_key("svc", "dev").contains("lock"));
        assert!(lock_key("svc", "dev").starts_with(&object_prefix("svc", "dev")));
    }
}
