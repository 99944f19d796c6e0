//! The schema of a Serverless Framework v3 `serverless.yml` for the AWS provider: every key the
//! Framework's own schema knows (root, `provider`, `functions`, events, `layers`, `resources`),
//! with the value shapes it expects. Unknown keys anywhere a closed map is described here are
//! reported with the closest known key.
//!
//! The lists follow the Framework v3 schema, widened where AWS moved on since v3.40 (runtimes
//! such as `nodejs22.x` and `python3.13`, newer regions) so that working manifests get no false
//! warnings.

use std::sync::OnceLock;

mod events;

use super::schema::*;

pub use events::{EVENT_TYPES, HTTP_METHODS};

pub const RUNTIMES: &[&str] = &[
    "nodejs24.x",
    "nodejs22.x",
    "nodejs20.x",
    "nodejs18.x",
    "python3.14",
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "python3.9",
    "java25",
    "java21",
    "java17",
    "java11",
    "java8.al2",
    "dotnet10",
    "dotnet8",
    "ruby3.4",
    "ruby3.3",
    "ruby3.2",
    "provided.al2023",
    "provided.al2",
    "nodejs16.x",
    "nodejs14.x",
    "python3.8",
    "python3.7",
    "java8",
    "dotnet6",
    "ruby2.7",
    "go1.x",
    "provided",
];

pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
];

const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The whole AWS manifest schema, built once.
pub fn root() -> &'static Shape {
    static ROOT: OnceLock<Shape> = OnceLock::new();
    ROOT.get_or_init(build_root)
}

/// Root keys the Framework itself knows whatever the provider (used for Azure and Google, whose
/// provider and function keys belong to their Framework plugins and are not checked).
pub fn root_keys_for(provider: Shape, function: Shape) -> Shape {
    object(root_properties(provider, function))
}

fn build_root() -> Shape {
    object(root_properties(provider(), function()))
}

fn root_properties(provider: Shape, function: Shape) -> Vec<Property> {
    vec![
        prop(
            "service",
            string(),
            "The service name: letters, digits and `-`, starting with a letter",
        ),
        prop(
            "frameworkVersion",
            string(),
            "The Framework versions this service works with (a semver range such as '3')",
        ),
        prop(
            "configValidationMode",
            one_of(&["warn", "error", "off"], "validation mode"),
            "What schema problems do: `warn` (default), `error` or `off`",
        ),
        prop(
            "deprecationNotificationMode",
            one_of(&["error", "warn", "warn:summary"], "notification mode"),
            "",
        ),
        prop(
            "disabledDeprecations",
            any_of(vec![string(), strings()]),
            "",
        ),
        prop(
            "useDotenv",
            boolean(),
            "Load `.env` and `.env.{stage}` files into the environment",
        ),
        prop(
            "variablesResolutionMode",
            one_of(&["20210219", "20210326"], "variables resolution mode"),
            "",
        ),
        prop("projectDir", string(), ""),
        prop("console", Shape::Any, ""),
        prop("app", string(), "Serverless Dashboard application"),
        prop("org", string(), "Serverless Dashboard organisation"),
        prop(
            "tenant",
            string(),
            "Serverless Dashboard organisation (old name)",
        ),
        prop("outputs", any_map(), "Serverless Dashboard outputs"),
        prop("dashboard", any_map(), ""),
        prop(
            "provider",
            provider,
            "The cloud provider and the settings every function shares",
        ),
        prop(
            "functions",
            Shape::Map {
                keys: Keys::FunctionName,
                values: Box::new(function),
            },
            "The functions of the service, by name",
        ),
        prop(
            "custom",
            Shape::Any,
            "Free-form values for variables and plugins",
        ),
        prop(
            "params",
            map_of(any_map()),
            "Parameters by stage (`default` for all), read with `${param:name}`",
        ),
        prop("package", package(true), "How the service is packaged"),
        prop(
            "plugins",
            any_of(vec![
                strings(),
                object_required(
                    &["modules"],
                    vec![
                        prop("localPath", string(), ""),
                        prop("modules", strings(), ""),
                    ],
                ),
            ]),
            "Framework plugins (updraft does not run them)",
        ),
        prop(
            "layers",
            map_of(layer()),
            "Lambda layers built from this service",
        ),
        prop(
            "resources",
            any_of(vec![resources(), list(any_map())]),
            "CloudFormation resources, outputs and extensions added to the stack",
        ),
        // Keys of widely used plugins, accepted so that their manifests read without noise.
        prop(
            "stepFunctions",
            Shape::Any,
            "serverless-step-functions plugin",
        ),
    ]
}

fn provider() -> Shape {
    object_required(
        &["name"],
        vec![
            prop("name", string(), "The cloud provider: aws, azure or google"),
            prop(
                "runtime",
                runtime(),
                "Default Lambda runtime of the functions",
            ),
            prop(
                "region",
                one_of(REGIONS, "AWS region"),
                "AWS region (default us-east-1)",
            ),
            prop("stage", string(), "Stage (default dev)"),
            prop("profile", string(), "AWS profile of the credentials file"),
            prop(
                "memorySize",
                memory_size(),
                "Default Lambda memory in MB (default 1024)",
            ),
            prop(
                "timeout",
                timeout(),
                "Default Lambda timeout in seconds (default 6)",
            ),
            prop(
                "environment",
                environment(),
                "Environment variables of every function",
            ),
            prop("tags", tags(), "Tags of every function"),
            prop("stackTags", tags(), "Tags of the CloudFormation stack"),
            prop(
                "stackName",
                string(),
                "CloudFormation stack name (default {service}-{stage})",
            ),
            prop("stackParameters", list(any_map()), ""),
            prop(
                "stackPolicy",
                list(any_map()),
                "CloudFormation stack policy statements",
            ),
            prop(
                "architecture",
                architecture(),
                "Lambda architecture: x86_64 (default) or arm64",
            ),
            prop(
                "iam",
                iam(),
                "IAM role of the functions and the deployment role",
            ),
            prop(
                "iamRoleStatements",
                statements(),
                "Deprecated: use provider.iam.role.statements",
            ),
            prop(
                "iamManagedPolicies",
                list(cf_string()),
                "Deprecated: use provider.iam.role.managedPolicies",
            ),
            prop("role", role(), "Deprecated: use provider.iam.role"),
            prop(
                "rolePermissionsBoundary",
                cf_string(),
                "Deprecated: use provider.iam.role.permissionsBoundary",
            ),
            prop(
                "cfnRole",
                cf_string(),
                "Deprecated: use provider.iam.deploymentRole",
            ),
            prop(
                "deploymentBucket",
                any_of(vec![string(), deployment_bucket()]),
                "S3 bucket of the deployment artifacts",
            ),
            prop("deploymentPrefix", string(), ""),
            prop(
                "deploymentMethod",
                one_of(&["changesets", "direct"], "deployment method"),
                "",
            ),
            prop("disableRollback", boolean(), ""),
            prop("apiName", string(), "Name of the REST API"),
            prop(
                "apiGateway",
                api_gateway(),
                "REST API (http events) settings",
            ),
            prop("httpApi", http_api(), "HTTP API (httpApi events) settings"),
            prop("websocketsApiName", string(), ""),
            prop("websocketsApiRouteSelectionExpression", string(), ""),
            prop("websocketsDescription", string(), ""),
            prop(
                "websocket",
                object(vec![prop("useProviderTags", boolean(), "")]),
                "",
            ),
            prop(
                "alb",
                object(vec![
                    prop("targetGroupPrefix", string(), ""),
                    prop("authorizers", any_map(), ""),
                ]),
                "",
            ),
            prop(
                "cloudFront",
                object(vec![prop("cachePolicies", any_map(), "")]),
                "",
            ),
            prop(
                "endpointType",
                one_of_any_case(&["REGIONAL", "EDGE", "PRIVATE"], "endpoint type"),
                "",
            ),
            prop(
                "eventBridge",
                object(vec![prop("useCloudFormation", boolean(), "")]),
                "",
            ),
            prop(
                "ecr",
                object(vec![
                    prop("scanOnPush", boolean(), ""),
                    prop("images", any_map(), "Container images by name"),
                ]),
                "Container images built for functions",
            ),
            prop("kmsKeyArn", cf_string(), ""),
            prop(
                "lambdaHashingVersion",
                one_of(&["20200924", "20201221"], "hashing version"),
                "",
            ),
            prop("layers", list(cf_string()), "Layers of every function"),
            prop(
                "logRetentionInDays",
                log_retention(),
                "CloudWatch log retention in days",
            ),
            prop("logDataProtectionPolicy", any_map(), ""),
            prop("logs", logs(), "API Gateway and Framework log settings"),
            prop("notificationArns", list(cf_string()), ""),
            prop("rollbackConfiguration", any_map(), ""),
            prop("runtimeManagement", runtime_management(), ""),
            prop("s3", map_of(any_map()), "S3 buckets for s3 events, by name"),
            prop(
                "tracing",
                object(vec![
                    prop("apiGateway", boolean(), ""),
                    prop("lambda", tracing(), ""),
                ]),
                "X-Ray tracing",
            ),
            prop("vpc", vpc(), "VPC of every function"),
            prop(
                "vpcEndpointIds",
                any_of(vec![list(cf_string()), Shape::Cf]),
                "",
            ),
            prop(
                "versionFunctions",
                boolean(),
                "Publish a version on each deploy (default true)",
            ),
            prop(
                "kinesis",
                object(vec![prop("consumerNamingMode", string(), "")]),
                "",
            ),
        ],
    )
}

/// The keys the Framework knows under a function on AWS: any other is warned about (as the
/// Framework does) and ignored.
pub fn function_keys() -> Vec<&'static str> {
    match function() {
        Shape::Object(object) => object.properties.iter().map(|p| p.name).collect(),
        _ => Vec::new(),
    }
}

/// The keys the Framework knows under a layer on AWS.
pub fn layer_keys() -> Vec<&'static str> {
    match layer() {
        Shape::Object(object) => object.properties.iter().map(|p| p.name).collect(),
        _ => Vec::new(),
    }
}

fn function() -> Shape {
    object(vec![
        prop(
            "handler",
            string(),
            "`file.export`: the module file (without extension) and the exported function",
        ),
        prop("image", image(), "A container image (instead of handler)"),
        prop(
            "name",
            string(),
            "Lambda function name (default {service}-{stage}-{function})",
        ),
        prop("description", string(), ""),
        prop(
            "runtime",
            runtime(),
            "Lambda runtime (default: provider.runtime)",
        ),
        prop("memorySize", memory_size(), "Lambda memory in MB"),
        prop("timeout", timeout(), "Lambda timeout in seconds"),
        prop("environment", environment(), "Environment variables"),
        prop(
            "events",
            list(events::events()),
            "What invokes the function",
        ),
        prop("package", package(false), "Packaging of this function"),
        prop("layers", list(cf_string()), "Lambda layer ARNs"),
        prop(
            "role",
            role(),
            "Execution role (name, ARN or CloudFormation reference)",
        ),
        prop(
            "reservedConcurrency",
            any_of(vec![non_negative(), Shape::Cf]),
            "",
        ),
        prop(
            "provisionedConcurrency",
            any_of(vec![non_negative(), Shape::Cf]),
            "",
        ),
        prop(
            "url",
            flag_or(object(vec![
                prop(
                    "authorizer",
                    one_of(&["aws_iam"], "function URL authorizer"),
                    "",
                ),
                prop("cors", flag_or(any_map()), ""),
                prop(
                    "invokeMode",
                    one_of(&["BUFFERED", "RESPONSE_STREAM"], "invoke mode"),
                    "",
                ),
            ])),
            "A Lambda function URL",
        ),
        prop("architecture", architecture(), ""),
        prop("awsKmsKeyArn", cf_string(), ""),
        prop("kmsKeyArn", cf_string(), ""),
        prop("condition", string(), ""),
        prop("dependsOn", strings(), ""),
        prop(
            "destinations",
            object(vec![
                prop("onSuccess", any_of(vec![string(), any_map()]), ""),
                prop("onFailure", any_of(vec![string(), any_map()]), ""),
            ]),
            "",
        ),
        prop("disableLogs", boolean(), ""),
        prop(
            "ephemeralStorageSize",
            integer(512, 10240),
            "Size of /tmp in MB",
        ),
        prop(
            "fileSystemConfig",
            object(vec![
                prop("arn", cf_string(), ""),
                prop("localMountPath", string(), ""),
            ]),
            "",
        ),
        prop("logRetentionInDays", log_retention(), ""),
        prop("logDataProtectionPolicy", any_map(), ""),
        prop("maximumEventAge", integer(60, 21600), ""),
        prop("maximumRetryAttempts", integer(0, 2), ""),
        prop("onError", cf_string(), ""),
        prop("runtimeManagement", runtime_management(), ""),
        prop("snapStart", boolean(), ""),
        prop("tags", tags(), ""),
        prop("tracing", tracing(), ""),
        prop("versionFunction", boolean(), ""),
        prop("vpc", vpc(), ""),
        prop("httpApi", object(vec![prop("payload", string(), "")]), ""),
        prop(
            "rust",
            object(vec![
                prop("cargoFlags", any_of(vec![string(), strings()]), ""),
                prop("target", string(), ""),
                prop("linker", string(), ""),
                prop("profile", string(), ""),
                prop("dockerless", boolean(), ""),
                prop("dockerTag", string(), ""),
                prop("dockerImage", string(), ""),
            ]),
            "serverless-rust's settings for this function, over `custom.rust`",
        ),
    ])
}

fn runtime() -> Shape {
    one_of(RUNTIMES, "Lambda runtime")
}

fn memory_size() -> Shape {
    integer(128, 10240)
}

fn timeout() -> Shape {
    integer(1, 900)
}

fn architecture() -> Shape {
    one_of(&["x86_64", "arm64"], "Lambda architecture")
}

fn log_retention() -> Shape {
    Shape::IntegerEnum(LOG_RETENTION_DAYS)
}

fn environment() -> Shape {
    Shape::Map {
        keys: Keys::EnvironmentName,
        values: Box::new(any_of(vec![string(), Shape::Cf])),
    }
}

fn tags() -> Shape {
    map_of(cf_string())
}

fn tracing() -> Shape {
    any_of(vec![
        boolean(),
        one_of(&["Active", "PassThrough"], "tracing mode"),
    ])
}

fn role() -> Shape {
    cf_string()
}

fn runtime_management() -> Shape {
    any_of(vec![
        one_of(&["auto", "onFunctionUpdate"], "runtime management mode"),
        object(vec![
            prop(
                "mode",
                one_of(
                    &["auto", "onFunctionUpdate", "manual"],
                    "runtime management mode",
                ),
                "",
            ),
            prop("arn", cf_string(), ""),
        ]),
    ])
}

fn vpc() -> Shape {
    object(vec![
        prop(
            "securityGroupIds",
            any_of(vec![list(cf_string()), Shape::Cf]),
            "",
        ),
        prop("subnetIds", any_of(vec![list(cf_string()), Shape::Cf]), ""),
        prop("ipv6AllowedForDualStack", boolean(), ""),
    ])
}

fn image() -> Shape {
    any_of(vec![
        string(),
        object(vec![
            prop("name", string(), "An image of provider.ecr.images"),
            prop("uri", string(), "An ECR image URI"),
            prop("workingDirectory", string(), ""),
            prop("command", strings(), ""),
            prop("entryPoint", strings(), ""),
        ]),
    ])
}

fn package(service_level: bool) -> Shape {
    let mut properties = vec![
        prop(
            "patterns",
            strings(),
            "Glob patterns of files to include (`!` excludes)",
        ),
        prop("include", strings(), "Deprecated: use patterns"),
        prop("exclude", strings(), "Deprecated: use patterns with `!`"),
        prop(
            "artifact",
            string(),
            "A prebuilt zip to deploy instead of packaging",
        ),
        prop(
            "individually",
            boolean(),
            "Package each function on its own",
        ),
    ];
    if service_level {
        properties.push(prop("excludeDevDependencies", boolean(), ""));
        properties.push(prop("path", string(), ""));
        // Written by the Framework itself into the configuration it prints.
        properties.push(prop("artifactsS3KeyDirname", string(), ""));
        properties.push(prop("artifactDirectoryName", string(), ""));
    }
    object(properties)
}

fn deployment_bucket() -> Shape {
    object(vec![
        prop("name", string(), ""),
        prop("blockPublicAccess", boolean(), ""),
        prop("skipPolicySetup", boolean(), ""),
        prop("maxPreviousDeploymentArtifacts", non_negative(), ""),
        prop("versioning", boolean(), ""),
        prop(
            "serverSideEncryption",
            one_of(&["AES256", "aws:kms"], "encryption"),
            "",
        ),
        prop("sseCustomerAlgorithim", string(), ""),
        prop("sseCustomerKey", string(), ""),
        prop("sseCustomerKeyMD5", string(), ""),
        prop("sseKMSKeyId", string(), ""),
        prop("tags", tags(), ""),
    ])
}

fn iam() -> Shape {
    object(vec![
        prop(
            "role",
            any_of(vec![
                string(),
                Shape::Cf,
                object(vec![
                    prop("name", string(), ""),
                    prop("path", string(), ""),
                    prop("managedPolicies", list(cf_string()), "Managed policy ARNs"),
                    prop("statements", statements(), "IAM policy statements"),
                    prop("permissionBoundary", cf_string(), ""),
                    prop("permissionsBoundary", cf_string(), ""),
                    prop("tags", tags(), ""),
                ]),
            ]),
            "The execution role: an existing role, or what the generated one allows",
        ),
        prop(
            "deploymentRole",
            cf_string(),
            "The role CloudFormation deploys with",
        ),
    ])
}

/// IAM policy statements: the keys are AWS's, so a typo (`Actions`, `effect`) is caught here
/// rather than by IAM at deploy time.
fn statements() -> Shape {
    let resource = any_of(vec![cf_string(), list(cf_string())]);
    let principal = any_of(vec![string(), any_map()]);
    list(object_required(
        &["Effect"],
        vec![
            prop("Sid", string(), ""),
            prop("Effect", one_of(&["Allow", "Deny"], "IAM effect"), ""),
            prop("Action", strings(), ""),
            prop("NotAction", strings(), ""),
            prop("Resource", resource.clone(), ""),
            prop("NotResource", resource, ""),
            prop("Principal", principal.clone(), ""),
            prop("NotPrincipal", principal, ""),
            prop("Condition", any_map(), ""),
        ],
    ))
}

fn api_gateway() -> Shape {
    object(vec![
        prop("apiKeys", list(Shape::Any), ""),
        prop(
            "apiKeySourceType",
            one_of_any_case(&["HEADER", "AUTHORIZER"], "API key source"),
            "",
        ),
        prop("binaryMediaTypes", strings(), ""),
        prop("description", string(), ""),
        prop("disableDefaultEndpoint", boolean(), ""),
        prop("metrics", boolean(), ""),
        prop("minimumCompressionSize", integer(0, 10_485_760), ""),
        prop("resourcePolicy", list(any_map()), ""),
        prop(
            "restApiId",
            cf_string(),
            "An existing REST API to add the endpoints to",
        ),
        prop("restApiResources", Shape::Any, ""),
        prop("restApiRootResourceId", cf_string(), ""),
        prop("request", object(vec![prop("schemas", any_map(), "")]), ""),
        prop("shouldStartNameWithService", boolean(), ""),
        prop("stage", string(), ""),
        prop("timeoutInMillis", integer(50, i64::MAX), ""),
        prop("usagePlan", Shape::Any, ""),
        prop("websocketApiId", cf_string(), ""),
    ])
}

fn http_api() -> Shape {
    object(vec![
        prop(
            "authorizers",
            any_map(),
            "JWT and Lambda authorizers, by name",
        ),
        prop(
            "cors",
            flag_or(object(vec![
                prop("allowCredentials", boolean(), ""),
                prop("allowedHeaders", strings(), ""),
                prop("allowedMethods", strings(), ""),
                prop("allowedOrigins", strings(), ""),
                prop("exposedResponseHeaders", strings(), ""),
                prop("maxAge", non_negative(), ""),
            ])),
            "CORS: true for the defaults, or the settings",
        ),
        prop(
            "id",
            cf_string(),
            "An existing HTTP API to add the routes to",
        ),
        prop("name", string(), ""),
        prop("description", string(), ""),
        prop(
            "payload",
            one_of(&["1.0", "2.0"], "payload version"),
            "Event payload format version (default 2.0)",
        ),
        prop("metrics", boolean(), ""),
        prop("useProviderTags", boolean(), ""),
        prop("disableDefaultEndpoint", boolean(), ""),
        prop("shouldStartNameWithService", boolean(), ""),
    ])
}

fn logs() -> Shape {
    open_object(vec![
        prop("frameworkLambda", boolean(), ""),
        prop("httpApi", flag_or(any_map()), ""),
        prop("restApi", flag_or(any_map()), ""),
        prop("websocket", flag_or(any_map()), ""),
    ])
}

fn layer() -> Shape {
    object(vec![
        prop("path", string(), ""),
        prop("name", string(), ""),
        prop("description", string(), ""),
        prop("compatibleRuntimes", list(runtime()), ""),
        prop("compatibleArchitectures", list(architecture()), ""),
        prop("licenseInfo", string(), ""),
        prop("allowedAccounts", strings(), ""),
        prop("retain", boolean(), ""),
        prop(
            "package",
            object(vec![
                prop("artifact", string(), ""),
                prop("patterns", strings(), ""),
                prop("include", strings(), ""),
                prop("exclude", strings(), ""),
            ]),
            "",
        ),
    ])
}

fn resources() -> Shape {
    object(vec![
        prop("AWSTemplateFormatVersion", string(), ""),
        prop("Conditions", any_map(), ""),
        prop("Description", string(), ""),
        prop("Mappings", any_map(), ""),
        prop("Metadata", any_map(), ""),
        prop("Outputs", any_map(), ""),
        prop("Parameters", any_map(), ""),
        prop("Resources", any_map(), ""),
        prop("Transform", any_of(vec![string(), list(Shape::Any)]), ""),
        prop("extensions", any_map(), ""),
    ])
}
