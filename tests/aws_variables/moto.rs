//! The moto emulator for the AWS tests: finding it (`UPDRAFT_TEST_MOTO_URL`), taking it for one
//! test at a time (its state is shared) with a reset, and seeding it with the SDK.

use std::sync::{MutexGuard, Once};

use aws_config::SdkConfig;

#[path = "../support/moto.rs"]
mod support;
// Not every test binary that includes this file starts a runtime of its own.
#[allow(unused_imports)]
pub use support::runtime;

static PROCESS_ENVIRONMENT: Once = Once::new();

/// A reset moto, held for one test.
pub struct Moto {
    pub url: String,
    _serial: MutexGuard<'static, ()>,
}

/// moto for one test, reset; panics when it is not configured or does not answer.
pub fn moto(test: &str) -> Moto {
    let taken = support::take(test);
    // The code under test reads its endpoint and credentials from the environment, as it does
    // for users. Every in-process test here wants the same values, so they are set once, under
    // the lock, before any of these tests touches the SDK.
    PROCESS_ENVIRONMENT.call_once(|| {
        std::env::set_var("AWS_ENDPOINT_URL", &taken.url);
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
    });
    Moto {
        url: taken.url,
        _serial: taken.serial,
    }
}

/// SDK configuration for seeding moto, independent of the code under test.
pub fn seed_config(runtime: &tokio::runtime::Runtime, moto: &Moto, region: &str) -> SdkConfig {
    support::sdk_config(runtime, &moto.url, region)
}

pub fn put_parameter(
    runtime: &tokio::runtime::Runtime,
    moto: &Moto,
    name: &str,
    kind: aws_sdk_ssm::types::ParameterType,
    value: &str,
) {
    put_parameter_in(runtime, moto, "us-east-1", name, kind, value);
}

pub fn put_parameter_in(
    runtime: &tokio::runtime::Runtime,
    moto: &Moto,
    region: &str,
    name: &str,
    kind: aws_sdk_ssm::types::ParameterType,
    value: &str,
) {
    let client = aws_sdk_ssm::Client::new(&seed_config(runtime, moto, region));
    runtime
        .block_on(
            client
                .put_parameter()
                .name(name)
                .r#type(kind)
                .value(value)
                .overwrite(true)
                .send(),
        )
        .expect("moto stores the parameter");
}

pub const STACK_TEMPLATE: &str = r#"{
  "Resources": { "Queue": { "Type": "AWS::SQS::Queue", "Properties": { "QueueName": "updraft-test-queue" } } },
  "Outputs": {
    "ApiUrl": { "Value": "https://api.example.com/v1" },
    "QueueName": { "Value": { "Fn::GetAtt": ["Queue", "QueueName"] } }
  }
}"#;

pub fn create_stack(runtime: &tokio::runtime::Runtime, moto: &Moto, region: &str, name: &str) {
    let client = aws_sdk_cloudformation::Client::new(&seed_config(runtime, moto, region));
    runtime
        .block_on(
            client
                .create_stack()
                .stack_name(name)
                .template_body(STACK_TEMPLATE)
                .send(),
        )
        .expect("moto creates the stack");
}

pub fn put_object(
    runtime: &tokio::runtime::Runtime,
    moto: &Moto,
    bucket: &str,
    key: &str,
    body: &str,
) {
    let config = aws_sdk_s3::config::Builder::from(&seed_config(runtime, moto, "us-east-1"))
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    runtime.block_on(async {
        client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("moto creates the bucket");
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("moto stores the object");
    });
}
