//! Answers `${ssm:...}`, `${cf:...}`, `${s3:...}` and `${aws:accountId}` with the AWS SDK, as
//! the Serverless Framework v3 does: a value the service says does not exist is `None` (so a
//! fallback applies); a call that could not be made is an error that no fallback hides.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::{Region, SdkConfig};
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::ParameterType;
use serde_json::Value as Json;
use tokio::sync::OnceCell;

use super::sdk::{self, Request};
use crate::manifest::variables::{CloudError, CloudReference, CloudVariables};

/// The AWS implementation of [`CloudVariables`]. The SDK is configured on first use only, so a
/// manifest without cloud references never touches credentials or the network. Answers are
/// kept for the life of the process: each reference is asked at most once, and a service that
/// could not be reached is not asked again for the next reference.
pub struct AwsVariables {
    runtime: tokio::runtime::Handle,
    profile: Option<String>,
    region: Option<String>,
    config: OnceCell<SdkConfig>,
    answers: Mutex<HashMap<CloudReference, Result<Option<Json>, String>>>,
    /// Services (by region) that could not be reached, with the variable that found out: the
    /// next variable for the same service fails at once instead of waiting out the timeouts
    /// again.
    unreachable: Mutex<HashMap<(&'static str, String), String>>,
}

impl AwsVariables {
    /// `profile` is `--aws-profile`, `region` is `--region`; when unset, the SDK's usual
    /// environment and shared-config settings apply, then `us-east-1`.
    pub fn new(
        runtime: tokio::runtime::Handle,
        profile: Option<String>,
        region: Option<String>,
    ) -> Self {
        AwsVariables {
            runtime,
            profile,
            region,
            config: OnceCell::new(),
            answers: Mutex::new(HashMap::new()),
            unreachable: Mutex::new(HashMap::new()),
        }
    }

    async fn config(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| sdk::load(self.profile.as_deref(), self.region.as_deref()))
            .await
    }

    async fn ask(&self, reference: &CloudReference) -> Result<Option<Json>, String> {
        let config = self.config().await;
        let written = written(reference);
        let destination = sdk::Destination::default();
        let (service, region) = target(reference, config);
        let first = self
            .unreachable
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&(service, region.clone()))
            .cloned();
        if let Some(first) = first {
            return Err(format!(
                "cannot reach AWS {service} in {region} to read {written}: it could not be \
                 reached for {first} either, so it was not asked again; check the network \
                 connection and the region (AWS_ENDPOINT_URL points updraft at another endpoint)"
            ));
        }
        match reference {
            CloudReference::Ssm {
                name,
                region: explicit_region,
                raw,
            } => {
                let mut builder =
                    aws_sdk_ssm::config::Builder::from(config).interceptor(destination.clone());
                if let Some(explicit_region) = explicit_region {
                    builder = builder.region(Region::new(explicit_region.clone()));
                }
                let client = aws_sdk_ssm::Client::from_conf(builder.build());
                let request = Request {
                    reference: &written,
                    service,
                    action: "ssm:GetParameter",
                    region: &region,
                    profile: self.profile.as_deref(),
                    destination: &destination,
                };
                let answer = client
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await;
                match answer {
                    Ok(output) => ssm_value(output.parameter, *raw, &written),
                    Err(error) if error.code() == Some("ParameterNotFound") => Ok(None),
                    Err(error) => Err(self.failed(&error, &request)),
                }
            }
            CloudReference::CloudFormationOutput {
                stack,
                output,
                region: explicit_region,
            } => {
                let mut builder = aws_sdk_cloudformation::config::Builder::from(config)
                    .interceptor(destination.clone());
                if let Some(explicit_region) = explicit_region {
                    builder = builder.region(Region::new(explicit_region.clone()));
                }
                let client = aws_sdk_cloudformation::Client::from_conf(builder.build());
                let request = Request {
                    reference: &written,
                    service,
                    action: "cloudformation:DescribeStacks",
                    region: &region,
                    profile: self.profile.as_deref(),
                    destination: &destination,
                };
                match client.describe_stacks().stack_name(stack).send().await {
                    Ok(answer) => Ok(answer
                        .stacks()
                        .first()
                        .and_then(|found| {
                            found
                                .outputs()
                                .iter()
                                .find(|o| o.output_key() == Some(output.as_str()))
                        })
                        .and_then(|o| o.output_value())
                        .map(|value| Json::String(value.to_string()))),
                    // CloudFormation says "Stack with id X does not exist" as a validation error.
                    Err(error)
                        if error.code() == Some("ValidationError")
                            && error
                                .message()
                                .unwrap_or_default()
                                .contains("does not exist") =>
                    {
                        Ok(None)
                    }
                    Err(error) => Err(self.failed(&error, &request)),
                }
            }
            CloudReference::S3Object { bucket, key } => {
                let mut builder =
                    aws_sdk_s3::config::Builder::from(config).interceptor(destination.clone());
                if uses_custom_s3_endpoint(config) {
                    // Emulators and S3-compatible stores live at one host: bucket names in the
                    // host name would not resolve.
                    builder = builder.force_path_style(true);
                }
                let client = aws_sdk_s3::Client::from_conf(builder.build());
                let request = Request {
                    reference: &written,
                    service,
                    action: "s3:GetObject",
                    region: &region,
                    profile: self.profile.as_deref(),
                    destination: &destination,
                };
                match client.get_object().bucket(bucket).key(key).send().await {
                    Ok(answer) => match answer.body.collect().await {
                        // The Framework reads the body as UTF-8 text, replacing invalid bytes.
                        Ok(body) => Ok(Some(Json::String(
                            String::from_utf8_lossy(&body.into_bytes()).into_owned(),
                        ))),
                        Err(error) => Err(format!(
                            "AWS S3 in {region} broke off sending {written}: {error}; try again"
                        )),
                    },
                    Err(error) if error.code() == Some("NoSuchKey") => Ok(None),
                    Err(error) => Err(self.failed(&error, &request)),
                }
            }
            CloudReference::AccountId => {
                let client = aws_sdk_sts::Client::from_conf(
                    aws_sdk_sts::config::Builder::from(config)
                        .interceptor(destination.clone())
                        .build(),
                );
                let request = Request {
                    reference: &written,
                    service,
                    action: "sts:GetCallerIdentity",
                    region: &region,
                    profile: self.profile.as_deref(),
                    destination: &destination,
                };
                match client.get_caller_identity().send().await {
                    Ok(answer) => Ok(answer.account().map(|a| Json::String(a.to_string()))),
                    Err(error) => Err(self.failed(&error, &request)),
                }
            }
        }
    }
}

impl AwsVariables {
    /// The message for a failed request; remembers a service that could not be reached.
    fn failed<E, R>(&self, error: &SdkError<E, R>, request: &Request) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        if sdk::is_unreachable(error) {
            self.unreachable
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry((request.service, request.region.to_string()))
                .or_insert_with(|| request.reference.to_string());
        }
        sdk::describe(error, request)
    }
}

impl CloudVariables for AwsVariables {
    fn fetch(&self, reference: &CloudReference) -> Result<Option<Json>, CloudError> {
        let known = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(reference)
            .cloned();
        let answer = match known {
            Some(answer) => answer,
            None => {
                // Called from inside `block_in_place` on the multi-thread runtime (see
                // `cli::print`), where blocking on the runtime's handle is allowed.
                let answer = self.runtime.block_on(self.ask(reference));
                self.answers
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(reference.clone(), answer.clone());
                answer
            }
        };
        answer.map_err(|message| CloudError { message })
    }
}

/// A parameter's value as the Framework gives it: a `StringList` as a list of strings (unless
/// `raw`), a `SecureString` that holds a JSON object as that object (unless `raw`), anything
/// else as the string.
fn ssm_value(
    parameter: Option<aws_sdk_ssm::types::Parameter>,
    raw: bool,
    written: &str,
) -> Result<Option<Json>, String> {
    let Some(parameter) = parameter else {
        return Ok(None);
    };
    let value = parameter.value().unwrap_or_default().to_string();
    match parameter.r#type() {
        Some(ParameterType::StringList) if !raw => Ok(Some(Json::Array(
            value
                .split(',')
                .map(|s| Json::String(s.to_string()))
                .collect(),
        ))),
        Some(ParameterType::SecureString) if !raw && value.starts_with('{') => Ok(Some(
            serde_json::from_str(&value).unwrap_or(Json::String(value)),
        )),
        Some(ParameterType::String | ParameterType::StringList | ParameterType::SecureString) => {
            Ok(Some(Json::String(value)))
        }
        other => Err(format!(
            "AWS SSM answered {written} with a parameter of type {:?}, which updraft does not \
             know; expected String, StringList or SecureString",
            other.map(|t| t.as_str()).unwrap_or("(none)")
        )),
    }
}

/// The variable as a user writes it, for messages.
fn written(reference: &CloudReference) -> String {
    match reference {
        CloudReference::Ssm { name, region, raw } => {
            let params: Vec<&str> = region
                .as_deref()
                .into_iter()
                .chain(raw.then_some("raw"))
                .collect();
            if params.is_empty() {
                format!("${{ssm:{name}}}")
            } else {
                format!("${{ssm({}):{name}}}", params.join(", "))
            }
        }
        CloudReference::CloudFormationOutput {
            stack,
            output,
            region: Some(region),
        } => format!("${{cf({region}):{stack}.{output}}}"),
        CloudReference::CloudFormationOutput { stack, output, .. } => {
            format!("${{cf:{stack}.{output}}}")
        }
        CloudReference::S3Object { bucket, key } => format!("${{s3:{bucket}/{key}}}"),
        CloudReference::AccountId => "${aws:accountId}".to_string(),
    }
}

/// The service a reference asks, and in which region.
fn target(reference: &CloudReference, config: &SdkConfig) -> (&'static str, String) {
    match reference {
        CloudReference::Ssm { region, .. } => ("SSM", region_name(config, region.as_deref())),
        CloudReference::CloudFormationOutput { region, .. } => {
            ("CloudFormation", region_name(config, region.as_deref()))
        }
        CloudReference::S3Object { .. } => ("S3", region_name(config, None)),
        CloudReference::AccountId => ("STS", region_name(config, None)),
    }
}

fn region_name(config: &SdkConfig, explicit: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| config.region().map(|r| r.to_string()))
        .unwrap_or_else(|| sdk::DEFAULT_REGION.to_string())
}

/// Whether S3 requests go somewhere other than AWS (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`
/// or an `endpoint_url` in the profile).
fn uses_custom_s3_endpoint(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable_as_it_is_written() {
        let ssm = |region: Option<&str>, raw| CloudReference::Ssm {
            name: "/app/key".into(),
            region: region.map(str::to_string),
            raw,
        };
        assert_eq!(written(&ssm(None, false)), "${ssm:/app/key}");
        assert_eq!(
            written(&ssm(Some("eu-west-1"), false)),
            "${ssm(eu-west-1):/app/key}"
        );
        assert_eq!(written(&ssm(None, true)), "${ssm(raw):/app/key}");
        assert_eq!(
            written(&ssm(Some("eu-west-1"), true)),
            "${ssm(eu-west-1, raw):/app/key}"
        );
        let cf = CloudReference::CloudFormationOutput {
            stack: "infra".into(),
            output: "Url".into(),
            region: Some("us-west-2".into()),
        };
        assert_eq!(written(&cf), "${cf(us-west-2):infra.Url}");
    }

    #[test]
    fn a_string_list_splits_on_commas_unless_raw() {
        let list = aws_sdk_ssm::types::Parameter::builder()
            .r#type(ParameterType::StringList)
            .value("a,,b")
            .build();
        assert_eq!(
            ssm_value(Some(list.clone()), false, "x"),
            Ok(Some(serde_json::json!(["a", "", "b"])))
        );
        assert_eq!(
            ssm_value(Some(list), true, "x"),
            Ok(Some(serde_json::json!("a,,b")))
        );
    }
}
