//! A service's `resources:` deployed as its CloudFormation stack against a local moto: a
//! DynamoDB table with a stream that a function's `stream` event reads, an S3 bucket with a
//! bucket policy, and values of both in the function's environment and role. It deploys as AWS
//! reports it, plans no change, plans one changed table property as exactly that change,
//! applies one changed bucket property, and is removed leaving nothing.
//!
//! These tests need `UPDRAFT_TEST_MOTO_URL` (set by `bash scripts/test.sh`, which starts moto).
//! They drive the library as `updraft deploy` does, with the deploy tests' driver and proxy.
//!
//! Where moto differs from AWS, the tests work around it and say so:
//! - moto creates stacks at once: no `..._IN_PROGRESS` state is ever seen;
//! - moto's CloudFormation skips types it does not implement (`AWS::S3::BucketPolicy` among
//!   them) with a warning instead of failing, so the policy is not checked in S3;
//! - moto cannot update a DynamoDB table through CloudFormation (it loses the table from the
//!   stack), and of a bucket's properties it updates only the encryption, so the table change
//!   is planned and a bucket encryption change is applied.

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

use clients::Clients;
use driver::{fixture, Driver, Fixture};
use serde_json::{json, Value as Json};
use updraft::plan::{Action, DesiredState};
use updraft::provider::aws::stack_template::STACK;

const HANDLER: &str = "exports.handle = async (event) => event;\n";

fn service(billing: &str, bucket: &str) -> Fixture {
    let manifest = format!(
        r#"service: res
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  memorySize: 128
  environment:
    TABLE: {{Ref: UsersTable}}
    BUCKET_ARN: {{Fn::GetAtt: [UploadsBucket, Arn]}}
    OBJECTS: {{Fn::Join: ['', [{{Fn::GetAtt: [UploadsBucket, Arn]}}, '/*']]}}
  iam:
    role:
      statements:
        - Effect: Allow
          Action: [dynamodb:GetItem]
          Resource: {{Fn::GetAtt: [UsersTable, Arn]}}
functions:
  changes:
    handler: handler.handle
    events:
      - stream:
          type: dynamodb
          arn: {{Fn::GetAtt: [UsersTable, StreamArn]}}
          batchSize: 10
          startingPosition: LATEST
          maximumRetryAttempts: 2
          filterPatterns:
            - eventName: [INSERT]
resources:
  Resources:
    UsersTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: res-dev-users
{billing}
        AttributeDefinitions:
          - {{AttributeName: id, AttributeType: S}}
        KeySchema:
          - {{AttributeName: id, KeyType: HASH}}
        StreamSpecification:
          StreamViewType: NEW_AND_OLD_IMAGES
    UploadsBucket:
      Type: AWS::S3::Bucket
{bucket}
    UploadsPolicy:
      Type: AWS::S3::BucketPolicy
      Properties:
        Bucket: {{Ref: UploadsBucket}}
        PolicyDocument:
          Statement:
            - Effect: Allow
              Principal: '*'
              Action: s3:GetObject
              Resource: {{Fn::Join: ['', [{{Fn::GetAtt: [UploadsBucket, Arn]}}, '/*']]}}
  Outputs:
    UsersTableArn:
      Value: {{Fn::GetAtt: [UsersTable, Arn]}}
"#
    );
    fixture(&manifest, &[("handler.js", HANDLER)])
}

const ON_DEMAND: &str = "        BillingMode: PAY_PER_REQUEST";
const PLAIN: &str = "      Properties: {}";
const ENCRYPTED: &str = "      Properties:
        BucketEncryption:
          ServerSideEncryptionConfiguration:
            - ServerSideEncryptionByDefault:
                SSEAlgorithm: aws:kms";
const PROVISIONED: &str = "        BillingMode: PROVISIONED
        ProvisionedThroughput:
          ReadCapacityUnits: 2
          WriteCapacityUnits: 1";

/// DynamoDB's own description of a table (moto answers the JSON protocol unsigned).
fn describe_table(moto: &moto::Moto, table: &str) -> Option<Json> {
    let answer = ureq::post(&moto.url)
        .set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
        .set("Content-Type", "application/x-amz-json-1.0")
        .set(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request",
        )
        .send_string(&json!({ "TableName": table }).to_string());
    match answer {
        Ok(response) => Some(
            serde_json::from_str(&response.into_string().expect("DescribeTable answers"))
                .expect("DescribeTable answers JSON"),
        ),
        Err(ureq::Error::Status(400, _)) => None,
        Err(e) => panic!("moto answers DescribeTable: {e}"),
    }
}

fn environment(driver: &Driver, aws: &Clients) -> serde_json::Map<String, Json> {
    let configuration = driver
        .runtime
        .block_on(
            aws.lambda
                .get_function_configuration()
                .function_name("res-dev-changes")
                .send(),
        )
        .expect("the function exists");
    configuration
        .environment()
        .and_then(|e| e.variables())
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect()
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn resources_deploy_as_a_stack_plan_no_op_change_one_property_and_remove_clean() {
    let moto =
        moto::moto("resources_deploy_as_a_stack_plan_no_op_change_one_property_and_remove_clean");
    let first = service(ON_DEMAND, PLAIN);
    let driver = Driver::connect(&first.service);
    let aws = Clients::new(&driver.runtime, &moto);
    let (plan, _) = driver.deploy(&driver.desired(&first));
    let stack = plan
        .steps
        .iter()
        .find(|s| s.id.kind == STACK)
        .expect("the plan has the stack");
    assert_eq!(stack.id.name, "res-dev");
    assert_eq!(stack.action, Action::Create);

    // The table exists as written, with its stream; the function's environment holds the
    // stack's values; the stack carries the user's output and updraft's own.
    let table = describe_table(&moto, "res-dev-users").expect("the table exists");
    assert_eq!(
        table["Table"]["BillingModeSummary"]["BillingMode"],
        "PAY_PER_REQUEST"
    );
    let stream_arn = table["Table"]["LatestStreamArn"]
        .as_str()
        .expect("the table has a stream")
        .to_string();
    let described = driver
        .runtime
        .block_on(
            aws.cloudformation
                .describe_stacks()
                .stack_name("res-dev")
                .send(),
        )
        .expect("the stack exists");
    let outputs: Vec<(String, String)> = described.stacks()[0]
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap_or_default().to_string(),
                o.output_value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let output = |key: &str| {
        outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the stack has output {key}: {outputs:?}"))
    };
    let table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/res-dev-users";
    assert_eq!(output("UsersTableArn"), table_arn);
    let bucket_arn = output("UpdraftAttUploadsBucketArn");
    assert!(
        bucket_arn.starts_with("arn:aws:s3:::res-dev-"),
        "{bucket_arn}"
    );
    let variables = environment(&driver, &aws);
    assert_eq!(variables["TABLE"], "res-dev-users");
    assert_eq!(variables["BUCKET_ARN"], json!(bucket_arn));
    assert_eq!(variables["OBJECTS"], json!(format!("{bucket_arn}/*")));

    // The stream event: one mapping from the table's stream, with the event's settings.
    let mappings = driver
        .runtime
        .block_on(
            aws.lambda
                .list_event_source_mappings()
                .function_name("res-dev-changes")
                .send(),
        )
        .expect("moto lists mappings");
    let mappings = mappings.event_source_mappings();
    assert_eq!(mappings.len(), 1);
    assert_eq!(mappings[0].event_source_arn(), Some(stream_arn.as_str()));
    assert_eq!(mappings[0].batch_size(), Some(10));
    assert_eq!(
        mappings[0].starting_position().map(|p| p.as_str()),
        Some("LATEST")
    );
    assert_eq!(mappings[0].maximum_retry_attempts(), Some(2));
    let patterns: Vec<&str> = mappings[0]
        .filter_criteria()
        .map(|c| c.filters())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f.pattern())
        .collect();
    assert_eq!(patterns, [r#"{"eventName":["INSERT"]}"#]);

    // The role may read the table, by its ARN.
    let role_policy = driver
        .runtime
        .block_on(
            aws.iam
                .get_role_policy()
                .role_name("res-dev-us-east-1-lambdaRole")
                .policy_name("res-dev-lambda")
                .send(),
        )
        .ok()
        .map(|p| p.policy_document().to_string())
        .unwrap_or_default();
    let role_policy = urlencoding_decode(&role_policy);
    assert!(role_policy.contains(table_arn), "{role_policy}");

    // Nothing changed: nothing to do.
    let (again, _) = driver.plan_against(&driver.desired(&first));
    let changed: Vec<String> = again
        .steps
        .iter()
        .filter(|s| s.action.is_change())
        .map(|s| s.id.to_string())
        .collect();
    assert!(changed.is_empty(), "a second plan changes {changed:?}");

    // One table property: one stack update with exactly those fields. (moto cannot update a
    // DynamoDB table through CloudFormation, so this change is planned, not applied.)
    let (plan, _) = driver.plan_against(&driver.desired(&service(PROVISIONED, PLAIN)));
    let changed: Vec<_> = plan.steps.iter().filter(|s| s.action.is_change()).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].id.kind, STACK);
    assert_eq!(changed[0].action, Action::Update);
    let fields: Vec<&str> = changed[0]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "Resources.UsersTable.Properties.BillingMode",
            "Resources.UsersTable.Properties.ProvisionedThroughput",
        ]
    );

    // One bucket property, applied: the stack updates the bucket in place and converges.
    let encrypted = service(ON_DEMAND, ENCRYPTED);
    let (plan, _) = driver.deploy(&driver.desired(&encrypted));
    let changed: Vec<_> = plan.steps.iter().filter(|s| s.action.is_change()).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    let fields: Vec<&str> = changed[0]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["Resources.UploadsBucket.Properties.BucketEncryption"]
    );
    let bucket = bucket_arn.trim_start_matches("arn:aws:s3:::").to_string();
    let encryption = driver
        .runtime
        .block_on(aws.s3.get_bucket_encryption().bucket(&bucket).send())
        .expect("the bucket is still there, encrypted");
    let algorithm = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().as_str().to_string());
    assert_eq!(algorithm.as_deref(), Some("aws:kms"));
    let (again, _) = driver.plan_against(&driver.desired(&encrypted));
    assert!(!again.has_changes(), "the update converged");
    assert!(describe_table(&moto, "res-dev-users").is_some());

    // Remove: the stack goes, and with it the table and the bucket.
    let (plan, live) = driver.plan_against(&DesiredState::default());
    let outcome = driver.apply(&plan, &live);
    assert!(outcome.succeeded(), "remove: {:?}", outcome.failed);
    assert!(describe_table(&moto, "res-dev-users").is_none());
    let buckets = driver
        .runtime
        .block_on(aws.s3.list_buckets().send())
        .expect("moto lists buckets");
    assert!(
        !buckets
            .buckets()
            .iter()
            .any(|b| b.name() == Some(bucket.as_str())),
        "the stack's bucket is gone"
    );
    let stacks = driver.runtime.block_on(
        aws.cloudformation
            .describe_stacks()
            .stack_name("res-dev")
            .send(),
    );
    assert!(stacks.is_err(), "the stack is gone");
    assert!(driver.live().resources.is_empty(), "nothing is left");
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
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
