//! The events of the AWS provider's functions: each event type the Framework v3 knows and the
//! settings it takes, in the short (string) and long (map) forms.

use super::super::schema::*;

pub const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "OPTIONS", "HEAD", "DELETE", "ANY",
];

/// Lambda runtimes: current ones first (close matches are offered in this order), then the
/// deprecated ones the Framework v3 still accepts.
/// The event types of the Framework v3's AWS provider.
pub const EVENT_TYPES: &[&str] = &[
    "http",
    "httpApi",
    "websocket",
    "schedule",
    "sqs",
    "sns",
    "s3",
    "stream",
    "eventBridge",
    "alb",
    "cloudwatchLog",
    "cloudwatchEvent",
    "cognitoUserPool",
    "iot",
    "iotFleetProvisioning",
    "alexaSkill",
    "alexaSmartHome",
    "cloudFront",
    "kafka",
    "msk",
    "activemq",
    "rabbitmq",
];

pub(super) fn events() -> Shape {
    let mut alexa = event(
        "alexaSkill",
        any_of(vec![
            string(),
            open_object(vec![
                prop("appId", string(), ""),
                prop("enabled", boolean(), ""),
            ]),
        ]),
    );
    alexa.bare = true;
    Shape::Event(vec![
        event("http", any_of(vec![string(), http()])),
        event(
            "httpApi",
            any_of(vec![
                string(),
                object(vec![
                    prop(
                        "method",
                        any_of(vec![
                            one_of_any_case(HTTP_METHODS, "HTTP method"),
                            one_of(&["*"], ""),
                        ]),
                        "",
                    ),
                    prop("path", string(), ""),
                    prop("authorizer", any_of(vec![string(), any_map()]), ""),
                ]),
            ]),
        ),
        event(
            "websocket",
            any_of(vec![
                string(),
                object_required(
                    &["route"],
                    vec![
                        prop("route", string(), ""),
                        prop("routeResponseSelectionExpression", string(), ""),
                        prop("authorizer", any_of(vec![string(), any_map()]), ""),
                    ],
                ),
            ]),
        ),
        event(
            "schedule",
            any_of(vec![
                string(),
                object_required(
                    &["rate"],
                    vec![
                        // A list in the Framework's schema, so a single expression prints
                        // as a one-item list (its validator coerces it).
                        prop(
                            "rate",
                            list(cf_string()),
                            "rate(...) or cron(...) expressions",
                        ),
                        prop("roleArn", cf_string(), ""),
                        prop("enabled", boolean(), ""),
                        prop("name", string(), ""),
                        prop("description", string(), ""),
                        prop("input", any_of(vec![string(), any_map()]), ""),
                        prop("inputPath", string(), ""),
                        prop("inputTransformer", any_map(), ""),
                        prop(
                            "method",
                            one_of(&["eventBus", "scheduler"], "schedule method"),
                            "",
                        ),
                        prop("timezone", string(), ""),
                    ],
                ),
            ]),
        ),
        event(
            "sqs",
            any_of(vec![
                string(),
                Shape::Cf,
                object_required(
                    &["arn"],
                    vec![
                        prop("arn", cf_string(), ""),
                        prop("batchSize", integer(1, 10000), ""),
                        prop("enabled", boolean(), ""),
                        prop("maximumBatchingWindow", integer(0, 300), ""),
                        prop(
                            "functionResponseType",
                            one_of(&["ReportBatchItemFailures"], "response type"),
                            "",
                        ),
                        prop("filterPatterns", list(Shape::Any), ""),
                        prop("maximumConcurrency", integer(2, 1000), ""),
                    ],
                ),
            ]),
        ),
        event(
            "sns",
            any_of(vec![
                string(),
                object(vec![
                    prop("arn", cf_string(), ""),
                    prop("topicName", string(), ""),
                    prop("displayName", string(), ""),
                    prop("filterPolicy", any_map(), ""),
                    prop("filterPolicyScope", string(), ""),
                    prop(
                        "redrivePolicy",
                        object(vec![
                            prop("deadLetterTargetArn", string(), ""),
                            prop("deadLetterTargetRef", string(), ""),
                            prop("deadLetterTargetImport", any_map(), ""),
                        ]),
                        "",
                    ),
                ]),
            ]),
        ),
        event(
            "s3",
            any_of(vec![
                string(),
                object(vec![
                    prop("bucket", cf_string(), ""),
                    prop("event", string(), ""),
                    prop("rules", list(any_map()), ""),
                    prop("existing", boolean(), ""),
                    prop("forceDeploy", boolean(), ""),
                ]),
            ]),
        ),
        event(
            "stream",
            any_of(vec![
                string(),
                Shape::Cf,
                object(vec![
                    prop("arn", cf_string(), ""),
                    prop("type", one_of(&["dynamodb", "kinesis"], "stream type"), ""),
                    prop("batchSize", integer(1, 10000), ""),
                    prop("parallelizationFactor", integer(1, 10), ""),
                    prop(
                        "startingPosition",
                        one_of(
                            &["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"],
                            "starting position",
                        ),
                        "",
                    ),
                    prop("startingPositionTimestamp", Shape::Number, ""),
                    prop("enabled", boolean(), ""),
                    prop("consumer", any_of(vec![boolean(), cf_string()]), ""),
                    prop("batchWindow", integer(0, 300), ""),
                    prop("maximumRetryAttempts", integer(-1, 10000), ""),
                    prop("bisectBatchOnFunctionError", boolean(), ""),
                    prop("maximumRecordAgeInSeconds", integer(-1, 604_800), ""),
                    prop(
                        "functionResponseType",
                        one_of(&["ReportBatchItemFailures"], "response type"),
                        "",
                    ),
                    prop(
                        "destinations",
                        object(vec![prop(
                            "onFailure",
                            any_of(vec![string(), any_map()]),
                            "",
                        )]),
                        "",
                    ),
                    prop("tumblingWindowInSeconds", integer(0, 900), ""),
                    prop("filterPatterns", list(Shape::Any), ""),
                ]),
            ]),
        ),
        event("eventBridge", open_object(vec![])),
        event("alb", alb()),
        event(
            "cloudwatchLog",
            any_of(vec![
                string(),
                open_object(vec![
                    prop("logGroup", string(), ""),
                    prop("filter", string(), ""),
                ]),
            ]),
        ),
        event("cloudwatchEvent", open_object(vec![])),
        event("cognitoUserPool", open_object(vec![])),
        event("iot", open_object(vec![])),
        event("iotFleetProvisioning", open_object(vec![])),
        alexa,
        event(
            "alexaSmartHome",
            any_of(vec![string(), open_object(vec![])]),
        ),
        event("cloudFront", open_object(vec![])),
        event("kafka", open_object(vec![])),
        event("msk", open_object(vec![])),
        event("activemq", open_object(vec![])),
        event("rabbitmq", open_object(vec![])),
    ])
}

fn http() -> Shape {
    object(vec![
        prop("path", string(), "URL path, e.g. users/{id}"),
        prop(
            "method",
            any_of(vec![
                one_of_any_case(HTTP_METHODS, "HTTP method"),
                one_of(&["*"], ""),
            ]),
            "",
        ),
        prop("async", boolean(), ""),
        prop("authorizer", any_of(vec![string(), any_map()]), ""),
        prop("connectionId", cf_string(), ""),
        prop("connectionType", string(), ""),
        prop(
            "cors",
            flag_or(object(vec![
                prop("allowCredentials", boolean(), ""),
                prop("cacheControl", string(), ""),
                prop("headers", strings(), ""),
                prop("maxAge", integer(1, i64::MAX), ""),
                prop("methods", strings(), ""),
                prop("origin", string(), ""),
                prop("origins", strings(), ""),
            ])),
            "",
        ),
        prop(
            "integration",
            one_of_any_case(
                &[
                    "LAMBDA_PROXY",
                    "LAMBDA-PROXY",
                    "LAMBDA",
                    "AWS",
                    "AWS_PROXY",
                    "AWS-PROXY",
                    "HTTP",
                    "HTTP_PROXY",
                    "HTTP-PROXY",
                    "MOCK",
                ],
                "integration type",
            ),
            "",
        ),
        prop("operationId", string(), ""),
        prop("private", boolean(), ""),
        prop(
            "request",
            object(vec![
                prop("contentHandling", string(), ""),
                prop("method", string(), ""),
                prop("parameters", any_map(), ""),
                prop(
                    "passThrough",
                    one_of(
                        &["NEVER", "WHEN_NO_MATCH", "WHEN_NO_TEMPLATES"],
                        "pass-through behaviour",
                    ),
                    "",
                ),
                prop("schemas", any_map(), ""),
                prop("template", any_map(), ""),
                prop("uri", cf_string(), ""),
            ]),
            "",
        ),
        prop("response", any_map(), ""),
        prop("timeoutInMillis", integer(50, i64::MAX), ""),
    ])
}

/// An `alb` event: a rule on a listener forwarding to the function's target group. Open, so a
/// setting the Framework knows and updraft does not deploy (`authorizer`) is refused when the
/// plan is made, naming itself.
fn alb() -> Shape {
    let one_or_many = || any_of(vec![string(), list(string())]);
    open_object(vec![
        prop(
            "listenerArn",
            cf_string(),
            "The listener's ARN, or `Ref` to a `resources:` listener",
        ),
        prop(
            "priority",
            integer(1, 50_000),
            "The rule's priority on the listener",
        ),
        prop(
            "conditions",
            object(vec![
                prop("path", one_or_many(), ""),
                prop("host", one_or_many(), ""),
                prop("method", one_or_many(), ""),
                prop("ip", one_or_many(), ""),
                prop(
                    "header",
                    object(vec![
                        prop("name", string(), ""),
                        prop("values", list(string()), ""),
                    ]),
                    "",
                ),
                prop("query", map_of(string()), ""),
            ]),
            "What a request must match",
        ),
        prop("multiValueHeaders", boolean(), ""),
        prop(
            "healthCheck",
            flag_or(object(vec![
                prop("enabled", boolean(), ""),
                prop("path", string(), ""),
                prop("intervalSeconds", integer(5, 300), ""),
                prop("timeoutSeconds", integer(2, 120), ""),
                prop("healthyThresholdCount", integer(2, 10), ""),
                prop("unhealthyThresholdCount", integer(2, 10), ""),
                prop("matcher", object(vec![prop("httpCode", string(), "")]), ""),
            ])),
            "",
        ),
        prop("targetGroupName", string(), ""),
    ])
}
