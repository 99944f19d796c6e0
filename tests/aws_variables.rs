//! The AWS variable sources (`${ssm:...}`, `${cf:...}`, `${s3:...}`, `${aws:accountId}`) against a
//! local moto emulator: what each answers, when it answers "does not exist" (so a fallback
//! applies), and what it does when AWS cannot be asked.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! Without it they skip with a message; with it set but moto not answering they fail.
//! moto's state is shared, so the tests here take one lock and reset moto before each case.

mod common;

use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde_json::{json, Value as Json};
use updraft::manifest::variables::{CloudReference, CloudVariables};
use updraft::provider::aws::variables::AwsVariables;

static MOTO_LOCK: Mutex<()> = Mutex::new(());
static PROCESS_ENVIRONMENT: Once = Once::new();

/// A reset moto, held for one test.
struct Moto {
    url: String,
    _serial: MutexGuard<'static, ()>,
}

fn moto(test: &str) -> Option<Moto> {
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// SDK configuration for seeding moto, independent of the code under test.
fn seed_config(runtime: &tokio::runtime::Runtime, moto: &Moto, region: &str) -> SdkConfig {
    let credentials = aws_sdk_ssm::config::Credentials::new("test", "test", None, None, "test");
    runtime.block_on(
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&moto.url)
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials)
            .load(),
    )
}

fn put_parameter(
    runtime: &tokio::runtime::Runtime,
    moto: &Moto,
    name: &str,
    kind: aws_sdk_ssm::types::ParameterType,
    value: &str,
) {
    put_parameter_in(runtime, moto, "us-east-1", name, kind, value);
}

fn put_parameter_in(
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

fn ssm(name: &str) -> CloudReference {
    CloudReference::Ssm {
        name: name.to_string(),
        region: None,
        raw: false,
    }
}

fn ssm_raw(name: &str) -> CloudReference {
    CloudReference::Ssm {
        name: name.to_string(),
        region: None,
        raw: true,
    }
}

fn fetch(runtime: &tokio::runtime::Runtime, reference: &CloudReference) -> Option<Json> {
    let variables = AwsVariables::new(runtime.handle().clone(), None, None);
    variables
        .fetch(reference)
        .unwrap_or_else(|e| panic!("{reference:?} is answered, but: {}", e.message))
}

#[test]
fn ssm_string_parameter_reads_as_its_text() {
    let Some(moto) = moto("ssm_string_parameter_reads_as_its_text") else {
        return;
    };
    let runtime = runtime();
    use aws_sdk_ssm::types::ParameterType;
    put_parameter(
        &runtime,
        &moto,
        "/app/plain",
        ParameterType::String,
        "hello, world",
    );
    // A String that looks like JSON stays a string, as in the Framework.
    put_parameter(
        &runtime,
        &moto,
        "/app/json-text",
        ParameterType::String,
        r#"{"a":1}"#,
    );
    assert_eq!(
        fetch(&runtime, &ssm("/app/plain")),
        Some(json!("hello, world"))
    );
    assert_eq!(
        fetch(&runtime, &ssm("/app/json-text")),
        Some(json!(r#"{"a":1}"#))
    );
}

#[test]
fn ssm_secure_string_is_decrypted_and_a_json_object_in_it_is_parsed() {
    let Some(moto) = moto("ssm_secure_string_is_decrypted_and_a_json_object_in_it_is_parsed")
    else {
        return;
    };
    let runtime = runtime();
    use aws_sdk_ssm::types::ParameterType;
    put_parameter(
        &runtime,
        &moto,
        "/app/password",
        ParameterType::SecureString,
        "s3cr3t",
    );
    put_parameter(
        &runtime,
        &moto,
        "/app/database",
        ParameterType::SecureString,
        r#"{"user":"admin","port":5432}"#,
    );
    put_parameter(
        &runtime,
        &moto,
        "/app/broken",
        ParameterType::SecureString,
        "{not json",
    );
    assert_eq!(
        fetch(&runtime, &ssm("/app/password")),
        Some(json!("s3cr3t"))
    );
    assert_eq!(
        fetch(&runtime, &ssm("/app/database")),
        Some(json!({"user": "admin", "port": 5432}))
    );
    assert_eq!(
        fetch(&runtime, &ssm("/app/broken")),
        Some(json!("{not json"))
    );
    // `${ssm(raw):...}` keeps the text.
    assert_eq!(
        fetch(&runtime, &ssm_raw("/app/database")),
        Some(json!(r#"{"user":"admin","port":5432}"#))
    );
}

#[test]
fn ssm_string_list_reads_as_a_list_of_strings() {
    let Some(moto) = moto("ssm_string_list_reads_as_a_list_of_strings") else {
        return;
    };
    let runtime = runtime();
    use aws_sdk_ssm::types::ParameterType;
    put_parameter(
        &runtime,
        &moto,
        "/app/subnets",
        ParameterType::StringList,
        "a,b,c",
    );
    assert_eq!(
        fetch(&runtime, &ssm("/app/subnets")),
        Some(json!(["a", "b", "c"]))
    );
    assert_eq!(
        fetch(&runtime, &ssm_raw("/app/subnets")),
        Some(json!("a,b,c"))
    );
}

#[test]
fn ssm_with_a_region_reads_the_parameter_in_that_region() {
    let Some(moto) = moto("ssm_with_a_region_reads_the_parameter_in_that_region") else {
        return;
    };
    let runtime = runtime();
    use aws_sdk_ssm::types::ParameterType;
    put_parameter_in(
        &runtime,
        &moto,
        "eu-central-1",
        "/app/where",
        ParameterType::String,
        "frankfurt",
    );
    let in_region = CloudReference::Ssm {
        name: "/app/where".to_string(),
        region: Some("eu-central-1".to_string()),
        raw: false,
    };
    assert_eq!(fetch(&runtime, &in_region), Some(json!("frankfurt")));
    // The default region (us-east-1 here) has no such parameter.
    assert_eq!(fetch(&runtime, &ssm("/app/where")), None);
}

#[test]
fn ssm_missing_parameter_is_none_so_a_fallback_applies() {
    let Some(_moto) = moto("ssm_missing_parameter_is_none_so_a_fallback_applies") else {
        return;
    };
    let runtime = runtime();
    assert_eq!(fetch(&runtime, &ssm("/app/nothing-here")), None);
}

#[test]
fn answers_are_kept_for_the_process() {
    let Some(moto) = moto("answers_are_kept_for_the_process") else {
        return;
    };
    let runtime = runtime();
    use aws_sdk_ssm::types::ParameterType;
    put_parameter(
        &runtime,
        &moto,
        "/app/version",
        ParameterType::String,
        "one",
    );
    let variables = AwsVariables::new(runtime.handle().clone(), None, None);
    let first = variables.fetch(&ssm("/app/version")).map_err(|e| e.message);
    put_parameter(
        &runtime,
        &moto,
        "/app/version",
        ParameterType::String,
        "two",
    );
    // The same reference is not asked again: the first answer stands...
    let second = variables.fetch(&ssm("/app/version")).map_err(|e| e.message);
    assert_eq!(first, Ok(Some(json!("one"))));
    assert_eq!(second, Ok(Some(json!("one"))));
    // ...while a new process (a new resolver) sees the new value.
    assert_eq!(fetch(&runtime, &ssm("/app/version")), Some(json!("two")));
}

const STACK_TEMPLATE: &str = r#"{
  "Resources": { "Queue": { "Type": "AWS::SQS::Queue", "Properties": { "QueueName": "updraft-test-queue" } } },
  "Outputs": {
    "ApiUrl": { "Value": "https://api.example.com/v1" },
    "QueueName": { "Value": { "Fn::GetAtt": ["Queue", "QueueName"] } }
  }
}"#;

fn create_stack(runtime: &tokio::runtime::Runtime, moto: &Moto, region: &str, name: &str) {
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

fn cf(stack: &str, output: &str, region: Option<&str>) -> CloudReference {
    CloudReference::CloudFormationOutput {
        stack: stack.to_string(),
        output: output.to_string(),
        region: region.map(str::to_string),
    }
}

#[test]
fn cf_stack_output_reads_as_its_value() {
    let Some(moto) = moto("cf_stack_output_reads_as_its_value") else {
        return;
    };
    let runtime = runtime();
    create_stack(&runtime, &moto, "us-east-1", "shared-infra");
    assert_eq!(
        fetch(&runtime, &cf("shared-infra", "ApiUrl", None)),
        Some(json!("https://api.example.com/v1"))
    );
    assert_eq!(
        fetch(&runtime, &cf("shared-infra", "QueueName", None)),
        Some(json!("updraft-test-queue"))
    );
}

#[test]
fn cf_missing_stack_or_output_is_none_so_a_fallback_applies() {
    let Some(moto) = moto("cf_missing_stack_or_output_is_none_so_a_fallback_applies") else {
        return;
    };
    let runtime = runtime();
    create_stack(&runtime, &moto, "us-east-1", "shared-infra");
    assert_eq!(
        fetch(&runtime, &cf("shared-infra", "NoSuchOutput", None)),
        None
    );
    assert_eq!(fetch(&runtime, &cf("no-such-stack", "ApiUrl", None)), None);
}

#[test]
fn cf_with_a_region_reads_the_stack_in_that_region() {
    let Some(moto) = moto("cf_with_a_region_reads_the_stack_in_that_region") else {
        return;
    };
    let runtime = runtime();
    create_stack(&runtime, &moto, "eu-west-1", "regional");
    assert_eq!(
        fetch(&runtime, &cf("regional", "ApiUrl", Some("eu-west-1"))),
        Some(json!("https://api.example.com/v1"))
    );
    // The default region (us-east-1 here) has no such stack.
    assert_eq!(fetch(&runtime, &cf("regional", "ApiUrl", None)), None);
}

fn put_object(runtime: &tokio::runtime::Runtime, moto: &Moto, bucket: &str, key: &str, body: &str) {
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

fn s3(bucket: &str, key: &str) -> CloudReference {
    CloudReference::S3Object {
        bucket: bucket.to_string(),
        key: key.to_string(),
    }
}

#[test]
fn s3_object_reads_as_its_text() {
    let Some(moto) = moto("s3_object_reads_as_its_text") else {
        return;
    };
    let runtime = runtime();
    put_object(
        &runtime,
        &moto,
        "config-bucket",
        "prod/settings.txt",
        "line one\nüñï\n",
    );
    assert_eq!(
        fetch(&runtime, &s3("config-bucket", "prod/settings.txt")),
        Some(json!("line one\nüñï\n"))
    );
}

#[test]
fn s3_missing_key_is_none_but_a_missing_bucket_is_an_error() {
    let Some(moto) = moto("s3_missing_key_is_none_but_a_missing_bucket_is_an_error") else {
        return;
    };
    let runtime = runtime();
    put_object(&runtime, &moto, "config-bucket", "present", "x");
    assert_eq!(fetch(&runtime, &s3("config-bucket", "absent")), None);
    // As in the Framework, only NoSuchKey lets a fallback apply.
    let variables = AwsVariables::new(runtime.handle().clone(), None, None);
    let error = variables
        .fetch(&s3("no-such-bucket", "key"))
        .expect_err("a missing bucket is an error");
    assert!(
        error.message.contains("${s3:no-such-bucket/key}")
            && error.message.contains("NoSuchBucket"),
        "the message names the variable and the reason: {}",
        error.message
    );
}

#[test]
fn account_id_is_the_callers_account() {
    let Some(_moto) = moto("account_id_is_the_callers_account") else {
        return;
    };
    let runtime = runtime();
    // moto's fixed account for any credentials.
    assert_eq!(
        fetch(&runtime, &CloudReference::AccountId),
        Some(json!("123456789012"))
    );
}
