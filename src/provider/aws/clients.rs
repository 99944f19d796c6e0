//! The account a deploy goes to and a client for every service it calls, made once per command.

use std::collections::BTreeMap;

use aws_config::SdkConfig;

use super::naming::{SERVICE_TAG, STAGE_TAG};
use super::sdk;
use crate::provider::Scope;

/// Everything a kind needs to read or change resources: the scope, the account, the
/// deployment bucket and the clients.
pub struct Aws {
    pub scope: Scope,
    pub account: String,
    /// `aws`, `aws-cn` or `aws-us-gov`: part of every ARN.
    pub partition: String,
    /// The deployment bucket: `provider.deploymentBucket.name`, else updraft's default.
    pub bucket: String,
    /// The bucket was named by the user (it is theirs: updraft creates it when absent but never
    /// deletes it).
    pub bucket_given: bool,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub iot: aws_sdk_iot::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub apigatewayv2: aws_sdk_apigatewayv2::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub sts: aws_sdk_sts::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
}

impl Aws {
    pub fn new(
        config: &SdkConfig,
        scope: Scope,
        account: String,
        partition: String,
        bucket: Option<&str>,
    ) -> Aws {
        let mut s3 = aws_sdk_s3::config::Builder::from(config).timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .operation_attempt_timeout(sdk::UPLOAD_TIMEOUT)
                .operation_timeout(sdk::UPLOAD_TIMEOUT)
                .build(),
        );
        if config.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty())
        {
            // Emulators and S3-compatible stores live at one host: bucket names in the host
            // name would not resolve.
            s3 = s3.force_path_style(true);
        }
        let bucket_given = bucket.is_some();
        let bucket = bucket
            .map(str::to_string)
            .unwrap_or_else(|| super::naming::default_bucket_name(&account, &scope.region));
        Aws {
            scope,
            account,
            partition,
            bucket,
            bucket_given,
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            iam: aws_sdk_iam::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
            iot: aws_sdk_iot::Client::new(config),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
            apigateway: aws_sdk_apigateway::Client::new(config),
            apigatewayv2: aws_sdk_apigatewayv2::Client::new(config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            cloudformation: aws_sdk_cloudformation::Client::new(config),
        }
    }

    pub fn region(&self) -> &str {
        &self.scope.region
    }

    /// The two tags that make a resource this service's and stage's.
    pub fn ownership_tags(&self) -> BTreeMap<String, String> {
        ownership_tags(&self.scope.service, &self.scope.stage)
    }

    /// Whether a resource's tags say it is ours.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(SERVICE_TAG) == Some(&self.scope.service)
            && tags.get(STAGE_TAG) == Some(&self.scope.stage)
    }

    /// `arn:{partition}:{service}:{region}:{account}:{rest}`.
    pub fn arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{rest}",
            self.partition, self.scope.region, self.account
        )
    }
}

pub fn ownership_tags(service: &str, stage: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (SERVICE_TAG.to_string(), service.to_string()),
        (STAGE_TAG.to_string(), stage.to_string()),
    ])
}

/// The partition of an ARN (`arn:aws:sts::...` gives `aws`).
pub fn partition_of(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .next()
        .filter(|p| !p.is_empty())
}

/// The partition a region belongs to, when the caller's ARN does not say.
pub fn partition_for_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}
