//! The AWS variable sources (`${ssm:...}`, `${cf:...}`, `${s3:...}`, `${aws:accountId}`) against a
//! local moto emulator: what each answers, when it answers "does not exist" (so a fallback
//! applies), and what it does when AWS cannot be asked.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! Without it they skip with a message; with it set but moto not answering they fail.
//! moto's state is shared, so the tests here take one lock and reset moto before each case.

mod common;
#[path = "aws_variables/moto.rs"]
mod moto;
#[path = "aws_variables/recording.rs"]
mod recording;

use std::net::TcpListener;

use moto::{create_stack, moto, put_object, put_parameter, put_parameter_in, runtime, Moto};
use recording::RecordingEndpoint;
use serde_json::{json, Value as Json};
use updraft::manifest::variables::{CloudReference, CloudVariables};
use updraft::provider::aws::variables::AwsVariables;

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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn ssm_string_parameter_reads_as_its_text() {
    let moto = moto("ssm_string_parameter_reads_as_its_text");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn ssm_secure_string_is_decrypted_and_a_json_object_in_it_is_parsed() {
    let moto = moto("ssm_secure_string_is_decrypted_and_a_json_object_in_it_is_parsed");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn ssm_string_list_reads_as_a_list_of_strings() {
    let moto = moto("ssm_string_list_reads_as_a_list_of_strings");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn ssm_with_a_region_reads_the_parameter_in_that_region() {
    let moto = moto("ssm_with_a_region_reads_the_parameter_in_that_region");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn ssm_missing_parameter_is_none_so_a_fallback_applies() {
    let _moto = moto("ssm_missing_parameter_is_none_so_a_fallback_applies");
    let runtime = runtime();
    assert_eq!(fetch(&runtime, &ssm("/app/nothing-here")), None);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn answers_are_kept_for_the_process() {
    let moto = moto("answers_are_kept_for_the_process");
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

fn cf(stack: &str, output: &str, region: Option<&str>) -> CloudReference {
    CloudReference::CloudFormationOutput {
        stack: stack.to_string(),
        output: output.to_string(),
        region: region.map(str::to_string),
    }
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn cf_stack_output_reads_as_its_value() {
    let moto = moto("cf_stack_output_reads_as_its_value");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn cf_missing_stack_or_output_is_none_so_a_fallback_applies() {
    let moto = moto("cf_missing_stack_or_output_is_none_so_a_fallback_applies");
    let runtime = runtime();
    create_stack(&runtime, &moto, "us-east-1", "shared-infra");
    assert_eq!(
        fetch(&runtime, &cf("shared-infra", "NoSuchOutput", None)),
        None
    );
    assert_eq!(fetch(&runtime, &cf("no-such-stack", "ApiUrl", None)), None);
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn cf_with_a_region_reads_the_stack_in_that_region() {
    let moto = moto("cf_with_a_region_reads_the_stack_in_that_region");
    let runtime = runtime();
    create_stack(&runtime, &moto, "eu-west-1", "regional");
    assert_eq!(
        fetch(&runtime, &cf("regional", "ApiUrl", Some("eu-west-1"))),
        Some(json!("https://api.example.com/v1"))
    );
    // The default region (us-east-1 here) has no such stack.
    assert_eq!(fetch(&runtime, &cf("regional", "ApiUrl", None)), None);
}

fn s3(bucket: &str, key: &str) -> CloudReference {
    CloudReference::S3Object {
        bucket: bucket.to_string(),
        key: key.to_string(),
    }
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn s3_object_reads_as_its_text() {
    let moto = moto("s3_object_reads_as_its_text");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn s3_missing_key_is_none_but_a_missing_bucket_is_an_error() {
    let moto = moto("s3_missing_key_is_none_but_a_missing_bucket_is_an_error");
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
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn account_id_is_the_callers_account() {
    let _moto = moto("account_id_is_the_callers_account");
    let runtime = runtime();
    // moto's fixed account for any credentials.
    assert_eq!(
        fetch(&runtime, &CloudReference::AccountId),
        Some(json!("123456789012"))
    );
}

/// stderr as one line: the error report wraps long lines and draws a frame around them.
fn flat(stderr: &str) -> String {
    stderr
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

fn service_dir(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("serverless.yml"), manifest).expect("the manifest is written");
    dir
}

const NO_CLOUD_MANIFEST: &str = "service: plain
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  stage: ${opt:stage, 'dev'}
custom:
  greeting: hello-${self:provider.stage}
  region: ${aws:region}
";

#[test]
fn a_manifest_without_cloud_references_makes_no_aws_request() {
    let endpoint = RecordingEndpoint::start();
    let dir = service_dir(NO_CLOUD_MANIFEST);
    // No credentials at all: the command must not need them.
    let run = common::updraft(
        dir.path(),
        &["print", "--format", "json"],
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(run.status, Some(0), "print succeeds: {}", run.stderr);
    assert_eq!(endpoint.requests(), Vec::<String>::new(), "no AWS request");

    // The same endpoint does see the request when the manifest asks for a parameter, so the
    // empty list above means something.
    let dir = service_dir(&format!(
        "{NO_CLOUD_MANIFEST}  token: ${{ssm:/plain/token}}\n"
    ));
    let run = common::updraft(
        dir.path(),
        &["print", "--format", "json"],
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    assert_ne!(run.status, Some(0), "the endpoint hangs up, so print fails");
    // One GetParameter per attempt: three attempts, then the error.
    assert_eq!(
        endpoint.requests(),
        vec!["POST / HTTP/1.1 AmazonSSM.GetParameter"; 3],
        "the requests made"
    );
}

#[test]
fn unreachable_aws_fails_within_seconds_and_a_fallback_does_not_hide_it() {
    // A port that refuses connections: bound, then closed.
    let host = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port is free");
        format!("127.0.0.1:{}", listener.local_addr().expect("port").port())
    };
    let refused = format!("http://{host}");
    for (manifest_value, written, service) in [
        ("${ssm:/my/param}", "${ssm:/my/param}", "SSM"),
        ("${ssm:/my/param, 'fb'}", "${ssm:/my/param}", "SSM"),
        (
            "${cf:other-stack.OutputKey}",
            "${cf:other-stack.OutputKey}",
            "CloudFormation",
        ),
        ("${s3:my-bucket/my-key}", "${s3:my-bucket/my-key}", "S3"),
        ("${aws:accountId}", "${aws:accountId}", "STS"),
    ] {
        let dir = service_dir(&format!(
            "service: vec\nprovider:\n  name: aws\ncustom:\n  x: {manifest_value}\n"
        ));
        let run = common::updraft(
            dir.path(),
            &["print", "--format", "json"],
            &[
                ("AWS_ENDPOINT_URL", &refused),
                ("AWS_ACCESS_KEY_ID", "x"),
                ("AWS_SECRET_ACCESS_KEY", "y"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        );
        assert_eq!(
            run.status,
            Some(1),
            "{manifest_value} fails: {}",
            run.stderr
        );
        let stderr = flat(&run.stderr);
        assert!(
            stderr.contains("custom.x")
                && stderr.contains(written)
                && stderr.contains(&format!("cannot reach AWS {service} in us-east-1 ({host})")),
            "the error names the place, the variable and the reason: {}",
            run.stderr
        );
    }
}

#[test]
fn after_a_service_could_not_be_reached_it_is_not_asked_again() {
    let endpoint = RecordingEndpoint::start();
    let dir = service_dir(
        "service: vec\nprovider:\n  name: aws\ncustom:\n  a: ${ssm:/first}\n  b: ${ssm:/second}\n  \
         c: ${aws:accountId}\n",
    );
    let run = common::updraft(
        dir.path(),
        &["print", "--format", "json"],
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
        ],
    );
    assert_eq!(run.status, Some(1), "print fails: {}", run.stdout);
    // SSM: three attempts for the first parameter, none for the second; STS is another
    // service, so it is tried (three attempts) on its own.
    let requests = endpoint.requests();
    let count = |target: &str| requests.iter().filter(|r| r.contains(target)).count();
    assert_eq!(
        (
            count("AmazonSSM.GetParameter"),
            count("GetCallerIdentity"),
            requests.len()
        ),
        (3, 3, 6),
        "the requests made: {requests:?}"
    );
    let stderr = flat(&run.stderr);
    assert!(
        stderr.contains("${ssm:/second}: it could not be reached for ${ssm:/first} either"),
        "the second variable's error says why it was not asked: {}",
        run.stderr
    );
}

#[test]
fn missing_credentials_are_an_error_that_says_what_to_do() {
    let endpoint = RecordingEndpoint::start();
    let dir =
        service_dir("service: vec\nprovider:\n  name: aws\ncustom:\n  x: ${ssm:/my/param, 'fb'}\n");
    let empty = tempfile::tempdir().expect("a temporary directory");
    let run = common::updraft(
        dir.path(),
        &["print", "--format", "json"],
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("HOME", &empty.path().to_string_lossy()),
        ],
    );
    assert_eq!(run.status, Some(1), "print fails: {}", run.stdout);
    assert!(
        flat(&run.stderr).contains("no AWS credentials")
            && flat(&run.stderr).contains("AWS_ACCESS_KEY_ID"),
        "the error says credentials are missing and how to give them: {}",
        run.stderr
    );
    assert_eq!(
        endpoint.requests(),
        Vec::<String>::new(),
        "nothing was sent unsigned"
    );
}

const CLOUD_MANIFEST: &str = "service: cloud-values
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
custom:
  databasePassword: ${ssm:/cloud-values/db-password}
  connection: postgres://admin:${ssm:/cloud-values/db-password}@db.internal:5432/app
  apiKey: ${ssm:/cloud-values/api-key}
  subnets: ${ssm:/cloud-values/subnets}
  missingParameter: ${ssm:/cloud-values/missing, 'parameter-fallback'}
  certificate: ${s3:cloud-values-config/certificate.pem}
  missingObject: ${s3:cloud-values-config/absent.txt, 'object-fallback'}
  apiUrl: ${cf:cloud-values-infra.ApiUrl}
  queueName: ${cf:cloud-values-infra.QueueName}
  missingOutput: ${cf:cloud-values-infra.NoSuchOutput, 'output-fallback'}
  account: ${aws:accountId}
";

fn seed_cloud_values(runtime: &tokio::runtime::Runtime, moto: &Moto) {
    use aws_sdk_ssm::types::ParameterType;
    put_parameter(
        runtime,
        moto,
        "/cloud-values/db-password",
        ParameterType::SecureString,
        "correct-horse-battery",
    );
    put_parameter(
        runtime,
        moto,
        "/cloud-values/api-key",
        ParameterType::String,
        "key-0123456789",
    );
    put_parameter(
        runtime,
        moto,
        "/cloud-values/subnets",
        ParameterType::StringList,
        "subnet-0aaa1111,subnet-0bbb2222",
    );
    put_object(
        runtime,
        moto,
        "cloud-values-config",
        "certificate.pem",
        // One line: the printer redacts secrets in the printed text, where a multi-line value
        // appears escaped (JSON) or re-indented (YAML) and is not found.
        "certificate-body-0123456789",
    );
    create_stack(runtime, moto, "us-east-1", "cloud-values-infra");
}

fn print_custom(moto: &Moto, dir: &std::path::Path, extra: &[&str]) -> Json {
    let mut args = vec!["print", "--format", "json"];
    args.extend_from_slice(extra);
    let run = common::updraft(
        dir,
        &args,
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(run.status, Some(0), "print succeeds: {}", run.stderr);
    let printed: Json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("print --format json prints JSON ({e}): {}", run.stdout));
    printed["custom"].clone()
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn print_resolves_cloud_values_and_hides_secrets_unless_asked() {
    let moto = moto("print_resolves_cloud_values_and_hides_secrets_unless_asked");
    let runtime = runtime();
    seed_cloud_values(&runtime, &moto);
    let dir = service_dir(CLOUD_MANIFEST);

    let shown = print_custom(&moto, dir.path(), &["--show-secrets"]);
    let certificate = "certificate-body-0123456789";
    let expected = json!({
        "databasePassword": "correct-horse-battery",
        "connection": "postgres://admin:correct-horse-battery@db.internal:5432/app",
        "apiKey": "key-0123456789",
        "subnets": ["subnet-0aaa1111", "subnet-0bbb2222"],
        "missingParameter": "parameter-fallback",
        "certificate": certificate,
        "missingObject": "object-fallback",
        "apiUrl": "https://api.example.com/v1",
        "queueName": "updraft-test-queue",
        "missingOutput": "output-fallback",
        "account": "123456789012",
    });
    assert!(
        common::json_equal(&shown, &expected),
        "with --show-secrets: {:?}",
        common::json_difference(&shown, &expected, "custom")
    );

    // Without --show-secrets every value read from SSM or S3 is hidden, also inside longer
    // strings; CloudFormation outputs, the account id and fallbacks are not secrets.
    let hidden = print_custom(&moto, dir.path(), &[]);
    let expected = json!({
        "databasePassword": "<redacted>",
        "connection": "postgres://admin:<redacted>@db.internal:5432/app",
        "apiKey": "<redacted>",
        "subnets": ["<redacted>", "<redacted>"],
        "missingParameter": "parameter-fallback",
        "certificate": "<redacted>",
        "missingObject": "object-fallback",
        "apiUrl": "https://api.example.com/v1",
        "queueName": "updraft-test-queue",
        "missingOutput": "output-fallback",
        "account": "123456789012",
    });
    assert!(
        common::json_equal(&hidden, &expected),
        "without --show-secrets: {:?}",
        common::json_difference(&hidden, &expected, "custom")
    );
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn print_uses_the_aws_profile_and_region_given_on_the_command_line() {
    let moto = moto("print_uses_the_aws_profile_and_region_given_on_the_command_line");
    let runtime = runtime();
    use aws_sdk_ssm::types::ParameterType;
    put_parameter_in(
        &runtime,
        &moto,
        "ap-southeast-2",
        "/profiled/value",
        ParameterType::String,
        "from-sydney",
    );
    let dir = service_dir(
        "service: profiled\nprovider:\n  name: aws\ncustom:\n  value: ${ssm:/profiled/value}\n",
    );
    let aws = tempfile::tempdir().expect("a temporary directory");
    let credentials = aws.path().join("credentials");
    std::fs::write(
        &credentials,
        "[moto-profile]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .expect("the credentials file is written");
    let config = aws.path().join("config");
    std::fs::write(&config, "").expect("the config file is written");
    let run = common::updraft(
        dir.path(),
        &[
            "print",
            "--format",
            "json",
            "--show-secrets",
            "--aws-profile",
            "moto-profile",
            "--region",
            "ap-southeast-2",
        ],
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                &credentials.to_string_lossy(),
            ),
            ("AWS_CONFIG_FILE", &config.to_string_lossy()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(run.status, Some(0), "print succeeds: {}", run.stderr);
    let printed: Json = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(printed["custom"]["value"], json!("from-sydney"));
}

#[test]
fn aws_profile_wins_over_credentials_in_the_environment() {
    let endpoint = RecordingEndpoint::start();
    let dir = service_dir("service: vec\nprovider:\n  name: aws\ncustom:\n  x: ${ssm:/my/param}\n");
    let aws = tempfile::tempdir().expect("a temporary directory");
    let credentials = aws.path().join("credentials");
    std::fs::write(
        &credentials,
        "[other]\naws_access_key_id = a\naws_secret_access_key = b\n",
    )
    .expect("the credentials file is written");
    let run = common::updraft(
        dir.path(),
        &["print", "--format", "json", "--aws-profile", "absent"],
        &[
            ("AWS_ENDPOINT_URL", &endpoint.url),
            ("AWS_ACCESS_KEY_ID", "from-environment"),
            ("AWS_SECRET_ACCESS_KEY", "from-environment"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                &credentials.to_string_lossy(),
            ),
            (
                "AWS_CONFIG_FILE",
                &aws.path().join("config").to_string_lossy(),
            ),
        ],
    );
    assert_eq!(run.status, Some(1), "print fails: {}", run.stdout);
    assert!(
        flat(&run.stderr).contains("profile `absent`"),
        "the error names the profile: {}",
        run.stderr
    );
    // The environment's credentials were not used instead.
    assert_eq!(
        endpoint.requests(),
        Vec::<String>::new(),
        "the requests made"
    );
}
