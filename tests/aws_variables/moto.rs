//! The moto emulator for the AWS tests: finding it (`UPDRAFT_TEST_MOTO_URL`), taking it for one
//! test at a time (its state is shared) with a reset, and seeding it with the SDK.

use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

static MOTO_LOCK: Mutex<()> = Mutex::new(());
static PROCESS_ENVIRONMENT: Once = Once::new();

/// A reset moto, held for one test.
pub struct Moto {
    pub url: String,
    _serial: MutexGuard<'static, ()>,
}

/// moto for one test, reset; `None` (after saying so on stderr) when `UPDRAFT_TEST_MOTO_URL` is
/// unset. Panics when it is set and moto does not answer: a configured emulator that is down
/// is a failure, not a skip.
pub fn moto(test: &str) -> Option<Moto> {
    let Some(url) = std::env::var("UPDRAFT_TEST_MOTO_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "{test}: SKIPPED: UPDRAFT_TEST_MOTO_URL is not set; run `bash scripts/test.sh` to \
             run the AWS tests against a local moto"
        );
        return None;
    };
    let url = url.trim_end_matches('/').to_string();
    let serial = MOTO_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Err(error) = ureq::post(&format!("{url}/moto-api/reset"))
        .timeout(Duration::from_secs(10))
        .call()
    {
        panic!("UPDRAFT_TEST_MOTO_URL is {url}, but moto does not answer POST /moto-api/reset: {error}");
    }
    // The code under test reads its endpoint and credentials from the environment, as it does
    // for users. Every in-process test here wants the same values, so they are set once, under
    // the lock, before any of these tests touches the SDK.
    PROCESS_ENVIRONMENT.call_once(|| {
        std::env::set_var("AWS_ENDPOINT_URL", &url);
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
    });
    Some(Moto {
        url,
        _serial: serial,
    })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// SDK configuration for seeding moto, independent of the code under test.
pub fn seed_config(runtime: &tokio::runtime::Runtime, moto: &Moto, region: &str) -> SdkConfig {
    let credentials = aws_sdk_ssm::config::Credentials::new("test", "test", None, None, "test");
    runtime.block_on(
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&moto.url)
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials)
            .load(),
    )
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
