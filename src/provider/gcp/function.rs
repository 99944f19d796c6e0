//! What a service asks of Cloud Functions (2nd gen): one typed [`FunctionSpec`] per function,
//! read from the model (the Google plugin's settings and the provider-neutral ones) and checked
//! against the platform's limits before any call, so that a function Google would refuse is an
//! error naming its place at plan time.
//!
//! Defaults are the Google plugin's (256 MB, 60 s). Settings Google sets per function and AWS per
//! service (memory, timeout, environment) are read from the function, else the provider.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::eventarc;
use crate::manifest::model::{Function, Service, Trigger};
use crate::manifest::source::Span;
use crate::provider::ProviderError;

/// Memory sizes Cloud Functions 2nd gen accepts, in MB, and how its API writes them.
pub const MEMORY_TIERS: &[(u32, &str)] = &[
    (128, "128Mi"),
    (256, "256Mi"),
    (512, "512Mi"),
    (1024, "1Gi"),
    (2048, "2Gi"),
    (4096, "4Gi"),
    (8192, "8Gi"),
    (16384, "16Gi"),
    (32768, "32Gi"),
];

/// The longest timeout of an HTTP function and of an event function, in seconds.
pub const HTTP_TIMEOUT_LIMIT: u32 = 3600;
pub const EVENT_TIMEOUT_LIMIT: u32 = 540;

/// Runtimes Cloud Functions 2nd gen runs (listed beside the manifest schema that offers them).
pub use crate::manifest::validate::google::RUNTIMES;

const DEFAULT_MEMORY_MB: u32 = 256;
const DEFAULT_TIMEOUT_SECONDS: u32 = 60;

/// One function as Cloud Functions 2nd gen is asked to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The manifest's key.
    pub key: String,
    /// The function id: lowercase letters, digits and hyphens, 63 characters at most.
    pub function_id: String,
    pub runtime: String,
    pub entry_point: String,
    /// As the API writes it: `256Mi`, `1Gi`.
    pub memory: String,
    pub timeout_seconds: u32,
    pub environment: BTreeMap<String, String>,
    /// The provider's and the function's labels, and updraft's ownership labels.
    pub labels: BTreeMap<String, String>,
    pub service_account_email: Option<String>,
    pub max_instances: Option<u32>,
    pub min_instances: Option<u32>,
    pub vpc_connector: Option<String>,
    pub trigger: FunctionTrigger,
    /// Anyone may call its URL: it has an `http` or `httpApi` event that is not `private: true`.
    /// Otherwise a caller needs an identity token of an account allowed to invoke it.
    pub public: bool,
    /// Cloud Scheduler jobs calling the function: 5-field cron and time zone.
    pub schedules: Vec<ScheduleSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionTrigger {
    /// Called through its own URL.
    Http,
    /// Called by Eventarc: the type, the Pub/Sub topic or the event filters.
    Event {
        event_type: String,
        pubsub_topic: Option<String>,
        filters: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSpec {
    pub cron: String,
    pub time_zone: String,
}

/// What reading a service gives: the functions, and what deploys but differs from what was
/// written (an `http` path that is not routed).
#[derive(Debug, Default)]
pub struct Reading {
    pub functions: Vec<FunctionSpec>,
    pub warnings: Vec<ProviderError>,
}

/// Reads every function of `service`; the first problem found is the error.
pub fn read(service: &Service) -> Result<Reading, ProviderError> {
    let mut reading = Reading::default();
    let provider = &service.provider.raw;
    for function in service.functions.values() {
        let spec = read_function(service, provider, function, &mut reading.warnings)?;
        if let Some(other) = reading
            .functions
            .iter()
            .find(|other| other.function_id == spec.function_id)
        {
            return Err(invalid(
                function.key_span,
                format!(
                    "functions `{}` and `{}` both become the Cloud Functions id `{}`",
                    other.key, function.key, spec.function_id
                ),
                "give one of them its own `name:`".into(),
            ));
        }
        reading.functions.push(spec);
    }
    Ok(reading)
}

fn read_function(
    service: &Service,
    provider: &Json,
    function: &Function,
    warnings: &mut Vec<ProviderError>,
) -> Result<FunctionSpec, ProviderError> {
    let raw = &function.raw;
    let setting = |key: &str| raw.get(key).or_else(|| provider.get(key));
    let key = &function.key;
    let function_id = function_id(function)?;
    let runtime = setting("runtime")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    if !RUNTIMES.contains(&runtime.as_str()) {
        return Err(invalid(
            function.span,
            if runtime.is_empty() {
                format!("function `{key}` has no runtime")
            } else {
                format!("runtime `{runtime}` of function `{key}` is not one Cloud Functions runs")
            },
            match google_spelling(&runtime) {
                Some(spelling) => format!(
                    "write `{spelling}`: Cloud Functions names runtimes without the dots and `.x` of AWS's names"
                ),
                None => format!(
                    "set `provider.runtime` (or the function's `runtime`) to one of: {}",
                    RUNTIMES.join(", ")
                ),
            },
        ));
    }
    let memory_mb = match setting("memorySize") {
        None => DEFAULT_MEMORY_MB,
        Some(value) => value
            .as_u64()
            .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
            .and_then(|mb| u32::try_from(mb).ok())
            .unwrap_or(0),
    };
    let Some((_, memory)) = MEMORY_TIERS.iter().find(|(mb, _)| *mb == memory_mb) else {
        return Err(invalid(
            function.span,
            format!(
                "memorySize {memory_mb} of function `{key}` is not a size Cloud Functions offers"
            ),
            format!(
                "use one of {} (MB)",
                MEMORY_TIERS
                    .iter()
                    .map(|(mb, _)| mb.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let (trigger, schedules) = trigger(function, warnings)?;
    let public = trigger == FunctionTrigger::Http
        && function.events.iter().any(|event| {
            matches!(event.trigger, Trigger::Http(_))
                && !event
                    .raw
                    .get(event.kind.as_str())
                    .and_then(|http| http.get("private"))
                    .and_then(Json::as_bool)
                    .unwrap_or(false)
        });
    let timeout_seconds = match setting("timeout") {
        None => DEFAULT_TIMEOUT_SECONDS,
        Some(value) => seconds(value).ok_or_else(|| {
            invalid(
                function.span,
                format!("timeout of function `{key}` is not a duration"),
                "write seconds, as `60` or `'60s'`".into(),
            )
        })?,
    };
    let limit = match trigger {
        FunctionTrigger::Http => HTTP_TIMEOUT_LIMIT,
        FunctionTrigger::Event { .. } => EVENT_TIMEOUT_LIMIT,
    };
    if timeout_seconds == 0 || timeout_seconds > limit {
        let kind = match trigger {
            FunctionTrigger::Http => "an HTTP function",
            FunctionTrigger::Event { .. } => "an event function",
        };
        return Err(invalid(
            function.span,
            format!("timeout {timeout_seconds} s of function `{key}` is outside what Cloud Functions allows {kind} (1 to {limit} s)"),
            format!("set `timeout` to at most {limit}"),
        ));
    }
    Ok(FunctionSpec {
        key: key.clone(),
        function_id,
        runtime,
        entry_point: function.handler.clone().unwrap_or_default(),
        memory: memory.to_string(),
        timeout_seconds,
        environment: function
            .environment
            .iter()
            .map(|(name, value)| (name.clone(), text(value)))
            .collect(),
        labels: labels(service, provider, raw),
        service_account_email: setting("serviceAccountEmail")
            .and_then(Json::as_str)
            .map(str::to_string),
        max_instances: setting("maxInstances")
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        min_instances: setting("minInstances")
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        vpc_connector: setting("vpc").and_then(Json::as_str).map(str::to_string),
        trigger,
        public,
        schedules,
    })
}

/// The Cloud Functions id of a deployed name (`shop-dev-helloWorld` is `shop-dev-helloworld`),
/// before Google's length and first-character rules are checked.
pub fn id_of(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Google's name of a runtime written as AWS writes it (`nodejs20.x`, `python3.12`), when Cloud
/// Functions runs it.
fn google_spelling(runtime: &str) -> Option<&'static str> {
    let bare: String = runtime
        .trim_end_matches(".x")
        .chars()
        .filter(|c| *c != '.')
        .collect();
    RUNTIMES.iter().copied().find(|known| *known == bare)
}

/// The function id: `name:`, else `{service}-{stage}-{key}`, lowercased with every character
/// Google does not allow turned into a hyphen (the Framework's camelCase keys are common).
fn function_id(function: &Function) -> Result<String, ProviderError> {
    let id = id_of(&function.name);
    let starts_right = id.starts_with(|c: char| c.is_ascii_lowercase());
    if id.len() > 63 || !starts_right || id.ends_with('-') {
        return Err(invalid(
            function.key_span,
            format!(
                "function `{}` would deploy as `{id}`, which Cloud Functions refuses: an id starts with a letter, ends with a letter or digit and has at most 63 characters",
                function.key
            ),
            "set the function's `name:` to a shorter id of lowercase letters, digits and hyphens".into(),
        ));
    }
    Ok(id)
}

fn trigger(
    function: &Function,
    warnings: &mut Vec<ProviderError>,
) -> Result<(FunctionTrigger, Vec<ScheduleSpec>), ProviderError> {
    let key = &function.key;
    let mut found: Option<(FunctionTrigger, Span)> = None;
    let mut schedules = Vec::new();
    for event in &function.events {
        let next = match (&event.trigger, event.kind.as_str()) {
            (Trigger::Http(http), _) => {
                let path = http.path.trim_matches('/');
                if !path.is_empty() {
                    warnings.push(invalid(
                        event.span,
                        format!("the path `{path}` of function `{key}`'s {} event is not routed on Google Cloud", event.kind),
                        "a function answers on its own URL (`updraft info` shows it), whatever the path".into(),
                    ));
                }
                FunctionTrigger::Http
            }
            (_, "event") => event_trigger(function, event.span, &event.raw)?,
            (_, "schedule") => {
                let expression =
                    crate::provider::schedule::expression(&event.raw).unwrap_or_default();
                let time_zone = event
                    .raw
                    .get("schedule")
                    .and_then(|s| s.get("timeZone"))
                    .and_then(Json::as_str)
                    .unwrap_or("Etc/UTC")
                    .to_string();
                let cron = crate::provider::schedule::five_field_cron(&expression).ok_or_else(|| {
                    invalid(
                        event.span,
                        format!("the schedule `{expression}` of function `{key}` cannot be written as a Cloud Scheduler cron"),
                        "write `rate(N minutes|hours|days)` or a 5-field cron such as `cron(0 12 * * *)`".into(),
                    )
                })?;
                schedules.push(ScheduleSpec { cron, time_zone });
                continue;
            }
            _ => {
                let (alternative, what) = match event.kind.as_str() {
                    "sqs" | "sns" => ("an `event` with `eventType: google.cloud.pubsub.topic.v1.messagePublished`", "queue or topic"),
                    "s3" => ("an `event` with `eventType: google.cloud.storage.object.v1.finalized`", "bucket"),
                    _ => ("an `http` event, or an `event` with an Eventarc `eventType`", "event"),
                };
                return Err(invalid(
                    event.span,
                    format!(
                        "function `{key}`'s `{}` event has no Google Cloud equivalent",
                        event.kind
                    ),
                    format!("for a {what}, use {alternative}"),
                ));
            }
        };
        if found.is_some() {
            return Err(invalid(
                event.span,
                format!("function `{key}` has a second trigger: a Cloud Function has exactly one (an HTTP URL or one event)"),
                "split the triggers into functions of their own (`schedule` events may stay beside an `http` one)".into(),
            ));
        }
        found = Some((next, event.span));
    }
    let trigger = match found {
        Some((trigger, span)) => {
            if !schedules.is_empty() && trigger != FunctionTrigger::Http {
                return Err(invalid(
                    span,
                    format!("function `{key}` has a schedule beside an event trigger: Cloud Scheduler calls a function through its URL"),
                    "move the schedule to an HTTP function of its own".into(),
                ));
            }
            trigger
        }
        None => FunctionTrigger::Http,
    };
    Ok((trigger, schedules))
}

fn event_trigger(
    function: &Function,
    span: Span,
    raw: &Json,
) -> Result<FunctionTrigger, ProviderError> {
    let key = &function.key;
    let event = raw.get("event");
    let event_type = event
        .and_then(|e| e.get("eventType"))
        .and_then(Json::as_str)
        .unwrap_or_default();
    let resource = event
        .and_then(|e| e.get("resource"))
        .and_then(Json::as_str)
        .unwrap_or_default();
    let Some(mapping) = eventarc::lookup(event_type) else {
        return Err(invalid(
            span,
            format!("event type `{event_type}` of function `{key}` has no Cloud Functions 2nd gen trigger"),
            format!(
                "use one of: {}",
                eventarc::MAPPINGS
                    .iter()
                    .map(|m| m.eventarc)
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let Some(parts) = eventarc::resource_parts(mapping.target, resource) else {
        return Err(invalid(
            span,
            format!("resource `{resource}` of function `{key}`'s `{event_type}` event is not in the form Google expects"),
            match mapping.target {
                eventarc::ResourceTarget::PubsubTopic => "write `projects/PROJECT/topics/TOPIC`",
                eventarc::ResourceTarget::Bucket => "write `projects/_/buckets/BUCKET` or the bucket's name",
                eventarc::ResourceTarget::FirestoreDocument => "write `projects/PROJECT/databases/(default)/documents/PATH`",
                eventarc::ResourceTarget::DatabaseRef => "write `projects/_/instances/INSTANCE/refs/PATH`",
            }
            .into(),
        ));
    };
    let (pubsub_topic, filters) = if mapping.target == eventarc::ResourceTarget::PubsubTopic {
        (parts.into_iter().next().map(|(_, topic)| topic), Vec::new())
    } else {
        (None, parts)
    };
    Ok(FunctionTrigger::Event {
        event_type: mapping.eventarc.to_string(),
        pubsub_topic,
        filters,
    })
}

/// Seconds from `60`, `"60"` or `"60s"`.
fn seconds(value: &Json) -> Option<u32> {
    if let Some(number) = value.as_u64() {
        return u32::try_from(number).ok();
    }
    let text = value.as_str()?.trim();
    text.strip_suffix('s').unwrap_or(text).trim().parse().ok()
}

fn text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Labels: the provider's, the function's, then updraft's ownership labels. Google allows
/// lowercase letters, digits, `_` and `-`, 63 characters, in keys and values.
fn labels(service: &Service, provider: &Json, raw: &Json) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for source in [provider.get("labels"), raw.get("labels")]
        .into_iter()
        .flatten()
    {
        if let Some(map) = source.as_object() {
            for (key, value) in map {
                labels.insert(label(key), label(&text(value)));
            }
        }
    }
    labels.insert("updraft-service".into(), label(&service.name));
    labels.insert("updraft-stage".into(), label(&service.provider.stage));
    labels
}

/// A label key or value as Google allows it.
pub fn label(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect()
}

fn invalid(span: Span, message: String, help: String) -> ProviderError {
    ProviderError::Invalid {
        message,
        span: Some(span),
        help,
    }
}

#[cfg(test)]
#[path = "function_tests.rs"]
mod tests;
