//! The event sources that invoke a service's functions on AWS, one module per kind: `httpApi`
//! events on one HTTP API ([`http_api`]), `websocket` events on one WebSocket API
//! ([`websocket`]; what the two API Gateway v2 APIs share is [`api_gateway_v2`]), `http` events
//! on one REST API ([`rest_api`]),
//! `schedule` as EventBridge rules ([`schedule`]), `eventBridge` and `cloudwatchEvent` as rules
//! too, with the buses the service creates ([`event_bridge`]; the rule kind is [`rule`]'s),
//! `cloudwatchLog` as subscription filters ([`cloudwatch_log`]), `iot` as topic rules ([`iot`]),
//! `cognitoUserPool` as a pool's Lambda triggers ([`cognito`]), `alb` as listener rules forwarding
//! to target groups ([`alb`]), `sqs` as event source mappings ([`sqs`]),
//! `s3` as bucket notifications ([`s3`]), `sns` as subscriptions ([`sns`]), and the Lambda
//! permissions each of them needs ([`permission`]).
//!
//! Each module has the three parts every AWS kind has: a pure `desired` that turns the events
//! into resources, a live reader that lists (never one call per function where a listing
//! answers), and `apply`. Any other event type is refused while the desired state is built,
//! naming the function, the event and its place in the manifest, before anything changes.

pub mod alb;
pub mod alexa;
pub mod api_gateway_v2;
pub mod cloudwatch_log;
pub mod cognito;
pub mod event_bridge;
pub mod http_api;
pub mod iot;
pub mod permission;
pub mod rest_api;
pub mod rule;
pub mod s3;
pub mod schedule;
pub mod sns;
pub mod sqs;
pub mod stream;
pub mod websocket;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use async_trait::async_trait;

use super::clients::Aws;
use super::context::Context;
use super::intrinsic::Place;
use super::kinds::ResourceKind;
use super::live::LiveContext;
use super::naming::kind;
use crate::manifest::model::{Event, Function, Trigger};
use crate::plan::{Desired, DesiredState, Live, Properties, ResourceId, Step};
use crate::provider::{Endpoint, ProviderError, StepContext};

/// What the trigger kinds ask of the desired-state context.
pub trait EventContext {
    /// The function resource of `function`.
    fn function_id(&self, function: &Function) -> Result<ResourceId, ProviderError>;
    /// A reference to the function's ARN.
    fn function_arn(&self, function: &Function) -> Result<Json, ProviderError>;
    /// The ownership and provider tags, as a JSON object.
    fn tags_json(&self) -> Json;
    /// A value of the event with its CloudFormation intrinsics resolved (a `resources:` queue's
    /// `Fn::GetAtt` becomes a reference), and the resources it refers to.
    fn resolve_event(
        &self,
        value: &Json,
        function: &Function,
        event: &Event,
    ) -> Result<(Json, BTreeSet<ResourceId>), ProviderError>;
}

impl EventContext for Context<'_> {
    fn function_id(&self, function: &Function) -> Result<ResourceId, ProviderError> {
        self.functions
            .get(&function.key)
            .map(|target| target.id.clone())
            .ok_or_else(|| missing_function(function))
    }

    fn function_arn(&self, function: &Function) -> Result<Json, ProviderError> {
        self.functions
            .get(&function.key)
            .map(|target| target.arn_reference())
            .ok_or_else(|| missing_function(function))
    }

    fn tags_json(&self) -> Json {
        json!(self.tags)
    }

    fn resolve_event(
        &self,
        value: &Json,
        function: &Function,
        event: &Event,
    ) -> Result<(Json, BTreeSet<ResourceId>), ProviderError> {
        let path = format!("functions.{}.events ({})", function.key, event.kind);
        let resolved = self.resolve(
            value,
            Place {
                path: &path,
                span: Some(event.span),
            },
        )?;
        Ok((resolved.value, resolved.depends_on))
    }
}

fn missing_function(function: &Function) -> ProviderError {
    ProviderError::Invalid {
        message: format!(
            "function `{}` has no resource to attach events to",
            function.key
        ),
        span: Some(function.key_span),
        help: "give the function a handler or an image".to_string(),
    }
}

/// Where the live readers and apply work: the service and stage that own the resources, and
/// the account and region they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub service: String,
    pub stage: String,
    pub region: String,
    pub account: String,
    pub partition: String,
}

impl Site {
    pub fn of(aws: &Aws) -> Site {
        Site {
            service: aws.scope.service.clone(),
            stage: aws.scope.stage.clone(),
            region: aws.scope.region.clone(),
            account: aws.account.clone(),
            partition: aws.partition.clone(),
        }
    }
}

/// One event of one function, with its place among the function's events of the same kind
/// (schedules are numbered from 1, as the Framework numbers them).
pub struct FunctionEvent<'a> {
    pub function: &'a Function,
    pub event: &'a Event,
    pub number: usize,
}

/// The trigger kinds, as one entry of the backend's kind list.
pub struct Triggers;

/// Every resource type the trigger modules read and apply.
pub const KINDS: &[&str] = &[
    kind::HTTP_API,
    kind::HTTP_API_ROUTE,
    kind::HTTP_API_INTEGRATION,
    kind::HTTP_API_AUTHORIZER,
    kind::HTTP_API_STAGE,
    kind::WEBSOCKET_API,
    kind::WEBSOCKET_ROUTE,
    kind::WEBSOCKET_ROUTE_RESPONSE,
    kind::WEBSOCKET_INTEGRATION,
    kind::WEBSOCKET_AUTHORIZER,
    kind::WEBSOCKET_DEPLOYMENT,
    kind::WEBSOCKET_STAGE,
    kind::REST_API,
    kind::SHARED_REST_API,
    kind::REST_API_RESOURCE,
    kind::REST_API_METHOD,
    kind::REST_API_DEPLOYMENT,
    kind::REST_API_AUTHORIZER,
    kind::REST_API_MODEL,
    kind::REST_API_VALIDATOR,
    kind::REST_API_KEY,
    kind::REST_API_USAGE_PLAN,
    kind::REST_API_USAGE_PLAN_KEY,
    kind::RULE,
    kind::EVENT_BUS,
    kind::SUBSCRIPTION_FILTER,
    kind::TOPIC_RULE,
    kind::USER_POOL,
    kind::USER_POOL_TRIGGERS,
    kind::EVENT_SOURCE_MAPPING,
    s3::BUCKET,
    kind::BUCKET_NOTIFICATION,
    kind::TOPIC,
    kind::SUBSCRIPTION,
    kind::TARGET_GROUP,
    kind::TARGET,
    kind::LISTENER_RULE,
    kind::PERMISSION,
];

#[async_trait]
impl ResourceKind for Triggers {
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }

    fn desired(
        &self,
        context: &Context<'_>,
        state: &mut DesiredState,
    ) -> Result<(), ProviderError> {
        state.resources.extend(desired(context)?);
        Ok(())
    }

    async fn live(&self, live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
        read(live).await
    }

    fn endpoints(&self, live: &Live) -> Vec<Endpoint> {
        let kind = match live.id.kind.as_str() {
            kind::HTTP_API_ROUTE => "httpApi",
            kind::REST_API_METHOD => "http",
            kind::WEBSOCKET_STAGE => "websocket",
            _ => return Vec::new(),
        };
        let text = |key: &str| {
            live.attributes
                .get(key)
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        match (text("url"), text("method")) {
            // The CORS preflight is API Gateway's own answer, not an endpoint of the service.
            (Some(_), Some(method)) if kind == "http" && method == "OPTIONS" => Vec::new(),
            (Some(url), method) => vec![Endpoint {
                kind: kind.to_string(),
                method,
                url,
                function: text("function"),
            }],
            _ => Vec::new(),
        }
    }

    async fn apply(
        &self,
        aws: &Aws,
        step: &Step,
        properties: &Properties,
        _context: &StepContext<'_>,
    ) -> Result<Properties, ProviderError> {
        let site = Site::of(aws);
        match step.id.kind.as_str() {
            kind::HTTP_API
            | kind::HTTP_API_ROUTE
            | kind::HTTP_API_INTEGRATION
            | kind::HTTP_API_AUTHORIZER
            | kind::HTTP_API_STAGE => {
                http_api::apply(&aws.apigatewayv2, &site, step, properties).await
            }
            kind::WEBSOCKET_API
            | kind::WEBSOCKET_ROUTE
            | kind::WEBSOCKET_ROUTE_RESPONSE
            | kind::WEBSOCKET_INTEGRATION
            | kind::WEBSOCKET_AUTHORIZER
            | kind::WEBSOCKET_DEPLOYMENT
            | kind::WEBSOCKET_STAGE => {
                websocket::apply(&aws.apigatewayv2, &site, step, properties).await
            }
            kind::REST_API
            | kind::SHARED_REST_API
            | kind::REST_API_RESOURCE
            | kind::REST_API_METHOD
            | kind::REST_API_DEPLOYMENT
            | kind::REST_API_AUTHORIZER
            | kind::REST_API_MODEL
            | kind::REST_API_VALIDATOR => {
                rest_api::apply(&aws.apigateway, &site, step, properties).await
            }
            kind::REST_API_KEY | kind::REST_API_USAGE_PLAN | kind::REST_API_USAGE_PLAN_KEY => {
                rest_api::apply_api_keys(&aws.apigateway, &site, step, properties).await
            }
            kind::RULE => rule::apply(&aws.events, step, properties).await,
            kind::SUBSCRIPTION_FILTER => cloudwatch_log::apply(&aws.logs, step, properties).await,
            kind::TOPIC_RULE => iot::apply(&aws.iot, step, properties).await,
            kind::USER_POOL | kind::USER_POOL_TRIGGERS => {
                cognito::apply(&aws.cognito, &site, step, properties).await
            }
            kind::EVENT_BUS => event_bridge::apply_bus(&aws.events, step, properties).await,
            kind::EVENT_SOURCE_MAPPING if stream::is_stream_step(properties) => {
                stream::apply(&aws.lambda, step, properties).await
            }
            kind::EVENT_SOURCE_MAPPING => sqs::apply(&aws.lambda, step, properties).await,
            kind::BUCKET_NOTIFICATION => s3::apply(&aws.s3, &site, step, properties).await,
            s3::BUCKET => s3::apply(&aws.s3, &site, step, properties).await,
            kind::TOPIC | kind::SUBSCRIPTION => sns::apply(&aws.sns, step, properties).await,
            kind::TARGET_GROUP | kind::TARGET | kind::LISTENER_RULE => {
                alb::apply(&aws.elb, step, properties).await
            }
            kind::PERMISSION => permission::apply(&aws.lambda, step, properties).await,
            _ => Err(ProviderError::Internal {
                resource: step.id.clone(),
                message: "not a trigger resource".to_string(),
            }),
        }
    }
}

/// The service's trigger resources as they are: a listing per API and service, then the
/// policies of the functions that have events (Lambda lists no policies, so these are read one
/// function at a time, and only for functions with events).
async fn read(live: &LiveContext) -> Result<Vec<Live>, ProviderError> {
    let aws = &live.aws;
    let site = Site::of(aws);
    let functions: BTreeSet<String> = live
        .functions()
        .await?
        .iter()
        .filter_map(|f| f.configuration.function_name().map(str::to_string))
        .collect();
    let recorded = &live.state;
    let tagged = |service: &'static str| async move {
        Ok::<_, ProviderError>(
            live.tagged_of(service, "")
                .await?
                .into_iter()
                .map(|t| (t.arn, t.tags))
                .collect::<Vec<_>>(),
        )
    };
    // Stream mappings are named by the stack output that holds their stream's ARN.
    let stream_names: BTreeMap<String, String> = live
        .stacks()
        .await?
        .iter()
        .flat_map(|stack| stack.outputs())
        .filter_map(|output| {
            Some((
                output.output_value()?.to_string(),
                output.output_key()?.to_string(),
            ))
        })
        .filter(|(value, _)| stream::is_stream_arn(value))
        .collect();
    let buses = tagged("events").await?;
    let buses: Vec<_> = buses
        .into_iter()
        .filter(|(arn, _)| arn.contains(":event-bus/"))
        .collect();
    let bus_names: Vec<String> = buses
        .iter()
        .filter_map(|(arn, _)| {
            arn.split_once(":event-bus/")
                .map(|(_, name)| name.to_string())
        })
        .collect();
    let balancing = tagged("elasticloadbalancing").await?;
    let (gateway_apis, rest, shared_rest, rules, mappings, subscriptions, buckets, topics) = tokio::join!(
        api_gateway_v2::live(&aws.apigatewayv2, &site, recorded.authorizers),
        rest_api::live(&aws.apigateway, &site, recorded.api_keys),
        rest_api::shared::live(&aws.apigateway, &site, &recorded.shared_rest_apis),
        rule::live(&aws.events, &site, &bus_names, &recorded.rules),
        sqs::live(&aws.lambda, &functions, &stream_names),
        sns::live(&aws.sns, &functions),
        tagged("s3"),
        tagged("sns"),
    );
    let buckets: Vec<_> = buckets?
        .into_iter()
        .filter(|(arn, _)| arn.rsplit(':').next() != Some(aws.bucket.as_str()))
        .collect();
    let mut found = Vec::new();
    found.extend(gateway_apis?);
    found.extend(rest?);
    found.extend(shared_rest?);
    found.extend(rules?);
    found.extend(mappings?);
    found.extend(subscriptions?);
    found.extend(s3::bucket_lives(&buckets));
    found.extend(sns::topic_lives(&topics?));
    found.extend(event_bridge::bus_lives(&buses));
    found.extend(alb::live(&aws.elb, &site, &balancing).await?);
    found.extend(cloudwatch_log::live(&aws.logs, &recorded.log_groups, &functions).await?);
    let mut notified: BTreeSet<String> = buckets
        .iter()
        .filter_map(|(arn, _)| arn.rsplit(':').next().map(str::to_string))
        .collect();
    notified.extend(recorded.buckets.iter().cloned());
    found.extend(s3::live(live, &site, notified.clone()).await);
    let mut targeted = recorded.functions.clone();
    for resource in &found {
        for value in resource.properties.values() {
            collect_functions(value, &mut targeted);
        }
    }
    let readable: Vec<String> = targeted.intersection(&functions).cloned().collect();
    let permissions = permission::live(&aws.lambda, &readable).await?;
    // An S3 permission names a bucket whose notification may need deleting.
    let more: BTreeSet<String> = permissions
        .iter()
        .filter_map(|grant| grant.properties.get("source_arn").and_then(Json::as_str))
        .filter_map(|arn| {
            arn.split_once(":s3:::")
                .map(|(_, bucket)| bucket.to_string())
        })
        .filter(|bucket| !notified.contains(bucket))
        .collect();
    if !more.is_empty() {
        found.extend(s3::live(live, &site, more).await);
    }
    // A CloudWatch Logs permission names a log group whose filter may need deleting.
    let groups: BTreeSet<String> = permissions
        .iter()
        .filter_map(|grant| grant.properties.get("source_arn").and_then(Json::as_str))
        .filter_map(cloudwatch_log::log_group_of)
        .filter(|group| !recorded.log_groups.contains(*group))
        .map(str::to_string)
        .collect();
    if !groups.is_empty() {
        found.extend(cloudwatch_log::live(&aws.logs, &groups, &functions).await?);
    }
    // An IoT permission names its topic rule.
    let mut topic_rules = recorded.topic_rules.clone();
    topic_rules.extend(
        permissions
            .iter()
            .filter_map(|grant| grant.properties.get("source_arn").and_then(Json::as_str))
            .filter_map(iot::rule_of)
            .map(str::to_string),
    );
    if !topic_rules.is_empty() {
        found.extend(iot::live(&aws.iot, &functions, topic_rules).await?);
    }
    found.extend(cognito::live(&aws.cognito, &site, &recorded.user_pools, &functions).await?);
    found.extend(permissions);
    Ok(found)
}

/// The functions named by Lambda ARNs anywhere in a value.
fn collect_functions(value: &Json, found: &mut BTreeSet<String>) {
    match value {
        Json::String(text) => {
            if let Some(function) = function_name_of(text) {
                found.insert(function.to_string());
            }
        }
        Json::Array(items) => items.iter().for_each(|item| collect_functions(item, found)),
        Json::Object(map) => map.values().for_each(|item| collect_functions(item, found)),
        _ => {}
    }
}

/// Every trigger resource of the service, permissions included.
pub fn desired(context: &Context) -> Result<Vec<Desired>, ProviderError> {
    let by_kind = grouped(context)?;
    let events = |kind: &str| by_kind.get(kind).map(Vec::as_slice).unwrap_or_default();
    let mut resources = Vec::new();
    resources.extend(http_api::desired(context, events(HTTP_API))?);
    resources.extend(websocket::desired(context, events(WEBSOCKET))?);
    resources.extend(rest_api::desired(context, events(REST_API))?);
    resources.extend(schedule::desired(context, events(SCHEDULE))?);
    resources.extend(sqs::desired(context, events(SQS))?);
    resources.extend(stream::desired(context, events(STREAM))?);
    resources.extend(s3::desired(context, events(S3))?);
    resources.extend(sns::desired(context, events(SNS))?);
    resources.extend(alexa::desired(context, events(ALEXA))?);
    resources.extend(event_bridge::desired(context, events(EVENT_BRIDGE))?);
    resources.extend(event_bridge::desired(context, events(CLOUDWATCH_EVENT))?);
    resources.extend(cloudwatch_log::desired(context, events(CLOUDWATCH_LOG))?);
    resources.extend(iot::desired(context, events(IOT))?);
    resources.extend(cognito::desired(context, events(COGNITO))?);
    resources.extend(alb::desired(context, events(ALB))?);
    Ok(resources)
}

/// What the execution role must allow for the service's events (Lambda reads `sqs` queues
/// with the function's role), and the resources those statements refer to.
pub fn role_statements(
    context: &Context,
) -> Result<(Vec<Json>, BTreeSet<ResourceId>), ProviderError> {
    let by_kind = grouped(context)?;
    let events = |kind: &str| by_kind.get(kind).map(Vec::as_slice).unwrap_or_default();
    let mut statements = sqs::role_statements(&sqs::desired(context, events(SQS))?);
    statements.extend(stream::role_statements(&stream::desired(
        context,
        events(STREAM),
    )?));
    let refers_to = statements
        .iter()
        .flat_map(crate::plan::reference::references)
        .map(|reference| reference.resource)
        .collect();
    Ok((statements, refers_to))
}

/// The service's events by the module that deploys them; an error for the first event no
/// module deploys.
fn grouped<'a>(
    context: &'a Context,
) -> Result<BTreeMap<&'static str, Vec<FunctionEvent<'a>>>, ProviderError> {
    let mut by_kind: BTreeMap<&'static str, Vec<FunctionEvent>> = BTreeMap::new();
    for function in context.service.functions.values() {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for event in &function.events {
            let kind = supported_kind(function, event)?;
            let count = counts.entry(kind).or_default();
            *count += 1;
            by_kind.entry(kind).or_default().push(FunctionEvent {
                function,
                event,
                number: *count,
            });
        }
    }
    Ok(by_kind)
}

const HTTP_API: &str = "httpApi";
const WEBSOCKET: &str = "websocket";
const REST_API: &str = "http";
const SCHEDULE: &str = "schedule";
const SQS: &str = "sqs";
const STREAM: &str = "stream";
const ALEXA: &str = "alexa";
const S3: &str = "s3";
const SNS: &str = "sns";
const EVENT_BRIDGE: &str = "eventBridge";
const CLOUDWATCH_EVENT: &str = "cloudwatchEvent";
const CLOUDWATCH_LOG: &str = "cloudwatchLog";
const IOT: &str = "iot";
const COGNITO: &str = "cognitoUserPool";
const ALB: &str = "alb";

/// Which module deploys the event, or why none does.
fn supported_kind(function: &Function, event: &Event) -> Result<&'static str, ProviderError> {
    use crate::manifest::model::Api;
    match (&event.trigger, event.kind.as_str()) {
        (Trigger::Http(http), _) if http.api == Api::HttpApi => Ok(HTTP_API),
        (Trigger::Http(_), "http") => Ok(REST_API),
        (Trigger::Schedule { .. }, "schedule") => Ok(SCHEDULE),
        (Trigger::Schedule { .. } | Trigger::Other { .. }, "eventBridge") => Ok(EVENT_BRIDGE),
        (Trigger::Other { .. }, "cloudwatchEvent") => Ok(CLOUDWATCH_EVENT),
        (Trigger::Other { .. }, "cloudwatchLog") => Ok(CLOUDWATCH_LOG),
        (Trigger::Other { .. }, "iot") => Ok(IOT),
        (Trigger::Other { .. }, "cognitoUserPool") => Ok(COGNITO),
        (Trigger::Other { .. }, "websocket") => Ok(WEBSOCKET),
        (Trigger::Other { .. }, "alb") => Ok(ALB),
        (Trigger::Queue { .. }, "sqs") => Ok(SQS),
        (Trigger::Stream { .. }, "stream") => Ok(STREAM),
        (Trigger::Other { .. }, "alexaSkill" | "alexaSmartHome") => Ok(ALEXA),
        (Trigger::Storage { .. }, "s3") => Ok(S3),
        (Trigger::Topic { .. }, "sns") => Ok(SNS),
        _ => Err(unsupported(
            function,
            event,
            "updraft deploys httpApi, http, websocket, schedule, eventBridge, cloudwatchEvent, cloudwatchLog, iot, cognitoUserPool, alb, sqs, stream, s3, sns, alexaSkill and \
             alexaSmartHome events; deploy this function with the Serverless Framework for now, or remove the event",
        )),
    }
}

/// The error for an event (or one setting of it) updraft cannot deploy yet.
pub fn unsupported(function: &Function, event: &Event, help: &str) -> ProviderError {
    ProviderError::Unsupported {
        what: format!("the `{}` event of function `{}`", event.kind, function.key),
        span: Some(event.span),
        help: help.to_string(),
    }
}

/// The error for a setting of an event updraft cannot deploy yet.
pub fn unsupported_setting(
    function: &Function,
    event: &Event,
    setting: &str,
    help: &str,
) -> ProviderError {
    ProviderError::Unsupported {
        what: format!(
            "`{setting}` on the `{}` event of function `{}`",
            event.kind, function.key
        ),
        span: Some(event.span),
        help: help.to_string(),
    }
}

/// A setting of the event as a number or flag, written as one or as text (`"5"`, `"true"`),
/// as the Framework accepts both.
pub fn setting_value<T: std::str::FromStr + serde::de::DeserializeOwned>(
    event: &Event,
    key: &str,
) -> Option<T> {
    let value = settings(event)?.get(key)?;
    serde_json::from_value(value.clone())
        .ok()
        .or_else(|| value.as_str()?.parse().ok())
}

/// The error for the first of `unsupported` that the event sets, if it sets one.
pub fn refuse_settings(
    function: &Function,
    event: &Event,
    unsupported: &[&str],
    help: &str,
) -> Result<(), ProviderError> {
    let event_settings = settings(event);
    match unsupported
        .iter()
        .find(|key| event_settings.is_some_and(|s| s.contains_key(**key)))
    {
        Some(setting) => Err(unsupported_setting(function, event, setting, help)),
        None => Ok(()),
    }
}

/// A value of the event that cannot be deployed as written.
pub fn invalid(function: &Function, event: &Event, message: String, help: &str) -> ProviderError {
    ProviderError::Invalid {
        message: format!(
            "the `{}` event of function `{}`: {message}",
            event.kind, function.key
        ),
        span: Some(event.span),
        help: help.to_string(),
    }
}

/// The event's settings map (the value under the event type), when it is one.
pub fn settings(event: &Event) -> Option<&serde_json::Map<String, Json>> {
    event
        .raw
        .as_object()
        .and_then(|item| item.get(&event.kind))
        .and_then(Json::as_object)
}

/// Whether tags (as returned by AWS) mark the resource as this service's and stage's.
pub fn owned<'a>(
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
    service: &str,
    stage: &str,
) -> bool {
    let mut service_matches = false;
    let mut stage_matches = false;
    for (key, value) in tags {
        if key == super::naming::SERVICE_TAG {
            service_matches = value == service;
        }
        if key == super::naming::STAGE_TAG {
            stage_matches = value == stage;
        }
    }
    service_matches && stage_matches
}

/// Tags as a string map, from a desired `tags` property.
pub fn string_map(value: Option<&Json>) -> BTreeMap<String, String> {
    value
        .and_then(Json::as_object)
        .map(|map| {
            map.iter()
                .map(|(key, value)| {
                    let text = match value {
                        Json::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The last `:`-separated part of an ARN (a function's or a queue's name).
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// The function name in a Lambda function ARN, without a version or alias qualifier.
pub fn function_name_of(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":function:")?.1;
    Some(rest.split(':').next().unwrap_or(rest))
}

/// A failed call, named by its IAM action and the resource it was for.
pub use super::call::failed as call_error;

/// Runs the futures at most ten at a time, returning their outputs in order: for the reads
/// that AWS offers no listing for.
pub async fn concurrently<T, F>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(10));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, future) in futures.into_iter().enumerate() {
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (index, future.await)
        });
    }
    let mut outputs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(output) = joined {
            outputs.push(output);
        }
    }
    outputs.sort_by_key(|(index, _)| *index);
    outputs.into_iter().map(|(_, output)| output).collect()
}

/// The attribute `key` of the resource a step works on, as a string.
pub fn attribute(live: Option<&crate::plan::Live>, key: &str) -> Option<String> {
    live.and_then(|l| l.attributes.get(key))
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// `retag(client, arn, change, resource)` for an API Gateway client: the REST API's and the
/// HTTP API's SDKs share the calls' shape but not their types, so the function is written once
/// here and made for each.
macro_rules! api_gateway_retag {
    ($client:ty, $tag:literal, $untag:literal) => {
        async fn retag(
            client: &$client,
            arn: &str,
            change: $crate::provider::aws::kinds::TagChange,
            resource: &str,
        ) -> Result<(), $crate::provider::ProviderError> {
            change
                .send(
                    |remove| async move {
                        client
                            .untag_resource()
                            .resource_arn(arn)
                            .set_tag_keys(Some(remove))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| {
                                $crate::provider::aws::triggers::call_error($untag, resource, &e)
                            })
                    },
                    |set| async move {
                        client
                            .tag_resource()
                            .resource_arn(arn)
                            .set_tags(Some(set.into_iter().collect()))
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| {
                                $crate::provider::aws::triggers::call_error($tag, resource, &e)
                            })
                    },
                )
                .await
        }
    };
}
pub(crate) use api_gateway_retag;

#[cfg(test)]
pub(crate) mod test_support;
