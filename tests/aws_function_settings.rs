//! Function settings beyond code and sizes, deployed to a local moto as `updraft deploy`
//! deploys them: ephemeral storage, tracing, the KMS key and the VPC, with their `provider:`
//! defaults; a container image function by its URI; destinations. They deploy as Lambda reports
//! them, the role gains what they need, a second plan
//! is a no-op, one changed setting plans as that field only and applies, and remove leaves
//! nothing.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//!
//! Where moto differs from AWS, the tests work around it and say so:
//! - moto's UpdateFunctionConfiguration changes only the handler, runtime, memory, timeout,
//!   role, description, environment, layers and VPC: a changed ephemeral storage, tracing mode
//!   or KMS key is planned as that field, not applied (the change applied is the VPC's);
//! - moto neither stores nor reports `FileSystemConfigs`, so a mounted file system would plan a
//!   change forever: the file system is covered by the desired-state tests only;
//! - moto knows AWS's managed policies (AWSLambdaVPCAccessExecutionRole) only when started with
//!   `MOTO_IAM_LOAD_MANAGED_POLICIES=true` (its config API cannot turn that on): `scripts/test.sh`
//!   starts it so, and the test fails saying so when the policy is missing;
//! - moto does not check that subnets, security groups, KMS keys or images exist;
//! - moto's PutFunctionEventInvokeConfig adds a configuration instead of replacing it, and Get
//!   answers the first, so a changed destination cannot be read back: destinations are checked
//!   as created and as deleted;
//! - moto does not keep a function's DeadLetterConfig (`onError`): it is covered by the
//!   desired-state tests only.

#[allow(dead_code)]
#[path = "aws_triggers/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "aws_deploy/driver.rs"]
mod driver;
#[allow(dead_code, clippy::result_large_err)]
#[path = "aws_deploy/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "aws_deploy/proxy.rs"]
mod proxy;

use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use clients::Clients;
use driver::{fixture, Driver, Fixture};
use updraft::plan::{Action, DesiredState, Plan};

const HANDLER: &str = "exports.handle = async (event) => event;\n";
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/boxed@sha256:4f1c";
const VPC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";
const PROVIDER_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/provider-key";

/// The service; `subnets` are `provider.vpc.subnetIds`, `storage` the `api` function's
/// `ephemeralStorageSize`.
fn service(subnets: &str, storage: u32) -> Fixture {
    with_destinations(subnets, storage, DESTINATIONS)
}

const DESTINATIONS: &str = "    maximumRetryAttempts: 1
    maximumEventAge: 300
    destinations:
      onSuccess: plain
      onFailure: {Fn::GetAtt: [Failures, Arn]}";

fn with_destinations(subnets: &str, storage: u32, destinations: &str) -> Fixture {
    let manifest = format!(
        r#"service: fset
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  tracing:
    lambda: true
  kmsKeyArn: {PROVIDER_KEY}
  vpc:
    securityGroupIds: [sg-0a]
    subnetIds: {subnets}
functions:
  api:
    handler: handler.handle
    ephemeralStorageSize: {storage}
  plain:
    handler: handler.handle
    tracing: PassThrough
    kmsKeyArn: arn:aws:kms:us-east-1:123456789012:key/own-key
    vpc: ~
  boxed:
    image:
      uri: {IMAGE}
      command: [app.handler]
      workingDirectory: /var/task
{destinations}
resources:
  Resources:
    Failures:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: fset-dev-failures
"#
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

fn configuration(driver: &Driver, aws: &Clients, name: &str) -> GetFunctionConfigurationOutput {
    driver
        .runtime
        .block_on(
            aws.lambda
                .get_function_configuration()
                .function_name(name)
                .send(),
        )
        .unwrap_or_else(|e| panic!("{name} exists: {e}"))
}

fn changed_fields(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| s.action.is_change())
        .flat_map(|s| {
            s.changes
                .iter()
                .map(move |c| format!("{} {}", s.id, c.field))
        })
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn function_settings_deploy_as_lambda_reports_them_plan_no_op_change_one_and_remove_clean() {
    let moto = moto::moto(
        "function_settings_deploy_as_lambda_reports_them_plan_no_op_change_one_and_remove_clean",
    );
    let first = service("[subnet-b, subnet-a]", 1024);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    assert!(
        driver
            .runtime
            .block_on(aws.iam.get_policy().policy_arn(VPC_POLICY).send())
            .is_ok(),
        "moto must know AWS's managed policies: start it with MOTO_IAM_LOAD_MANAGED_POLICIES=true, as scripts/test.sh does"
    );
    driver.deploy(&driver.desired(&first));

    // What Lambda reports: the function's own settings, and the provider's where it has none.
    let api = configuration(&driver, &aws, "fset-dev-api");
    assert_eq!(api.ephemeral_storage().map(|e| e.size()), Some(1024));
    assert_eq!(
        api.tracing_config()
            .and_then(|t| t.mode())
            .map(|m| m.as_str()),
        Some("Active")
    );
    assert_eq!(api.kms_key_arn(), Some(PROVIDER_KEY));
    let vpc = api.vpc_config().expect("api runs in the VPC");
    assert_eq!(vpc.security_group_ids(), ["sg-0a"]);
    assert_eq!(sorted(vpc.subnet_ids()), ["subnet-a", "subnet-b"]);

    let plain = configuration(&driver, &aws, "fset-dev-plain");
    assert_eq!(plain.ephemeral_storage().map(|e| e.size()), Some(512));
    assert_eq!(
        plain
            .tracing_config()
            .and_then(|t| t.mode())
            .map(|m| m.as_str()),
        Some("PassThrough")
    );
    assert_eq!(
        plain.kms_key_arn(),
        Some("arn:aws:kms:us-east-1:123456789012:key/own-key")
    );
    assert!(
        plain.vpc_config().is_none_or(|v| v.subnet_ids().is_empty()),
        "`vpc: ~` keeps plain out of the VPC: {:?}",
        plain.vpc_config()
    );

    // The image function: its URI and command, no handler or runtime; its destinations.
    let boxed = driver
        .runtime
        .block_on(
            aws.lambda
                .get_function()
                .function_name("fset-dev-boxed")
                .send(),
        )
        .expect("boxed exists");
    assert_eq!(boxed.code().and_then(|c| c.image_uri()), Some(IMAGE));
    let boxed = boxed.configuration().expect("boxed has a configuration");
    assert_eq!(boxed.package_type().map(|p| p.as_str()), Some("Image"));
    assert_eq!(boxed.handler(), None);
    let image = boxed
        .image_config_response()
        .and_then(|r| r.image_config())
        .expect("boxed has its image settings");
    assert_eq!(image.command(), ["app.handler"]);
    assert_eq!(image.working_directory(), Some("/var/task"));
    let invoke = driver
        .runtime
        .block_on(
            aws.lambda
                .get_function_event_invoke_config()
                .function_name("fset-dev-boxed")
                .send(),
        )
        .expect("boxed has destinations");
    assert_eq!(invoke.maximum_retry_attempts(), Some(1));
    assert_eq!(invoke.maximum_event_age_in_seconds(), Some(300));
    let destinations = invoke.destination_config().expect("destinations");
    assert_eq!(
        destinations.on_success().and_then(|d| d.destination()),
        Some("arn:aws:lambda:us-east-1:123456789012:function:fset-dev-plain")
    );
    assert_eq!(
        destinations.on_failure().and_then(|d| d.destination()),
        Some("arn:aws:sqs:us-east-1:123456789012:fset-dev-failures")
    );

    // The role may attach functions to the VPC, write traces and decrypt with both keys.
    let role = "fset-dev-us-east-1-lambdaRole";
    let attached = driver
        .runtime
        .block_on(aws.iam.list_attached_role_policies().role_name(role).send())
        .expect("the role exists");
    let attached: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(attached, [VPC_POLICY]);
    let policy = driver
        .runtime
        .block_on(
            aws.iam
                .get_role_policy()
                .role_name(role)
                .policy_name("fset-dev-lambda")
                .send(),
        )
        .expect("the role has its policy");
    let policy = percent_decode(policy.policy_document());
    for needed in [
        "lambda:InvokeFunction",
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:123456789012:fset-dev-failures",
        "xray:PutTraceSegments",
        "kms:Decrypt",
        PROVIDER_KEY,
        "key/own-key",
    ] {
        assert!(
            policy.contains(needed),
            "the policy allows {needed}: {policy}"
        );
    }

    // Nothing changed: nothing to do.
    let (again, _) = driver.plan_against(&driver.desired(&first));
    assert!(
        changed_fields(&again).is_empty(),
        "a second plan changes {:?}",
        changed_fields(&again)
    );

    // One changed ephemeral storage size plans as that field only. (moto does not update it:
    // planned, not applied.)
    let (plan, _) = driver.plan_against(&driver.desired(&service("[subnet-b, subnet-a]", 2048)));
    assert_eq!(
        changed_fields(&plan),
        ["aws.lambda.function fset-dev-api ephemeral_storage"]
    );

    // One changed subnet of the provider's VPC: that field of the two functions in it, and
    // nothing else, applied.
    let moved = service("[subnet-c, subnet-a]", 1024);
    let (plan, _) = driver.deploy(&driver.desired(&moved));
    assert_eq!(
        changed_fields(&plan),
        [
            "aws.lambda.function fset-dev-api vpc",
            "aws.lambda.function fset-dev-boxed vpc"
        ]
    );
    assert!(plan
        .steps
        .iter()
        .filter(|s| s.action.is_change())
        .all(|s| s.action == Action::Update));
    let api = configuration(&driver, &aws, "fset-dev-api");
    assert_eq!(
        sorted(api.vpc_config().expect("still in the VPC").subnet_ids()),
        ["subnet-a", "subnet-c"]
    );
    let (again, _) = driver.plan_against(&driver.desired(&moved));
    assert!(changed_fields(&again).is_empty(), "the update converged");

    // Destinations dropped: their configuration is deleted, and the role no longer sends there.
    let dropped = with_destinations("[subnet-c, subnet-a]", 1024, "");
    let (plan, _) = driver.deploy(&driver.desired(&dropped));
    let deleted: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(deleted, ["aws.lambda.event-invoke-config fset-dev-boxed"]);
    assert!(
        driver
            .runtime
            .block_on(
                aws.lambda
                    .get_function_event_invoke_config()
                    .function_name("fset-dev-boxed")
                    .send(),
            )
            .is_err(),
        "boxed has no destinations left"
    );
    let (again, _) = driver.plan_against(&driver.desired(&dropped));
    assert!(
        changed_fields(&again).is_empty() && !again.has_changes(),
        "converged"
    );

    // Remove: nothing of the service is left.
    let (plan, live) = driver.plan_against(&DesiredState::default());
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    let functions = driver
        .runtime
        .block_on(aws.lambda.list_functions().send())
        .expect("moto lists functions");
    assert!(functions.functions().is_empty(), "no function is left");
    assert!(
        driver
            .runtime
            .block_on(aws.iam.get_role().role_name(role).send())
            .is_err(),
        "the role is gone"
    );
    assert!(driver.live().resources.is_empty(), "nothing is left");
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[index + 1..index + 3], 16) {
                out.push(byte);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
