//! Function events, normalised into provider-neutral [`Trigger`]s.
//!
//! Each cloud's Framework plugin writes events its own way: AWS `- http: GET /users`,
//! `- schedule: rate(5 minutes)`, `- sqs: arn:...`; Azure `- http: true` with `methods`, `route`
//! and `authLevel` beside it (or under `x-azure-settings`), `- timer: {schedule}`,
//! `- queue: name`; Google `- http: path` and `- event: {eventType, resource}`. All of them read
//! into the same triggers here, keeping the event as written in [`Event::raw`].

use serde_json::Value as Json;

use super::{boolean, scalar, unsigned, Cloud};
use crate::manifest::node::{Mapping, Node, Value};
use crate::manifest::source::Span;

/// One event of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event type as written (`http`, `httpApi`, `timer`, `event`...).
    pub kind: String,
    pub trigger: Trigger,
    /// The list item as written.
    pub raw: Json,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    Http(HttpTrigger),
    Schedule {
        /// `rate(...)`, `cron(...)` (AWS) or a CRON expression (Azure).
        expression: String,
        input: Option<Json>,
        enabled: bool,
    },
    Queue {
        /// An ARN, a CloudFormation reference or a queue name.
        queue: Json,
        batch_size: Option<u32>,
        enabled: bool,
    },
    Storage {
        /// A bucket (container) name or reference.
        bucket: Json,
        /// Event names (`s3:ObjectCreated:*`); empty for the provider's default.
        events: Vec<String>,
        rules: Vec<Json>,
        /// The bucket exists already (not created by the deployment).
        existing: bool,
    },
    Topic {
        /// A topic name, ARN or reference.
        topic: Json,
        filter_policy: Option<Json>,
    },
    Stream {
        source: Json,
        /// `dynamodb` or `kinesis` on AWS.
        kind: Option<String>,
        batch_size: Option<u32>,
        starting_position: Option<String>,
        enabled: bool,
    },
    /// Any other event (websocket, alb, cloudwatchLog, cognitoUserPool, iot, ...).
    Other {
        kind: String,
        raw: Json,
    },
}

/// `provider.websocketsApiRouteSelectionExpression` unless set: the `action` of a JSON message.
pub const DEFAULT_WEBSOCKET_ROUTE_SELECTION: &str = "$request.body.action";

/// One `websocket` event's route, read the same way by deploy and by `offline`: the string form
/// (`websocket: $connect`) is the route key alone.
#[derive(Debug, Clone, PartialEq)]
pub struct WebsocketRoute {
    /// `$connect`, `$disconnect`, `$default` or a custom key; empty when none is given.
    pub route_key: String,
    /// `routeResponseSelectionExpression`: `$default` makes the route two-way.
    pub response_selection: Option<String>,
    /// The `authorizer` setting as written, when set.
    pub authorizer: Option<Json>,
}

impl Event {
    /// The route of a `websocket` event; `None` for other events.
    pub fn websocket_route(&self) -> Option<WebsocketRoute> {
        if self.kind != "websocket" {
            return None;
        }
        let value = self.raw.get(&self.kind);
        let text = |key: &str| {
            value
                .and_then(|v| v.get(key))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        Some(match value.and_then(Json::as_str) {
            Some(route) => WebsocketRoute {
                route_key: route.to_string(),
                response_selection: None,
                authorizer: None,
            },
            None => WebsocketRoute {
                route_key: text("route").unwrap_or_default(),
                response_selection: text("routeResponseSelectionExpression"),
                authorizer: value
                    .and_then(|v| v.get("authorizer"))
                    .filter(|a| !a.is_null())
                    .cloned(),
            },
        })
    }
}

/// The headers the Framework allows when CORS is on and the settings name none (`cors: true`
/// on an `http` event, `provider.httpApi.cors: true`): deploy writes them and `offline`
/// answers preflights with them.
pub const CORS_DEFAULT_HEADERS: &[&str] = &[
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "X-Amzn-Trace-Id",
];

#[derive(Debug, Clone, PartialEq)]
pub struct HttpTrigger {
    /// Upper case; `ANY` for every method (`*`, `any`, or none given where that means all).
    pub method: String,
    /// Starts with `/` (`*` for an HTTP API's catch-all route).
    pub path: String,
    pub api: Api,
    /// `true` or the CORS settings.
    pub cors: Option<Json>,
    pub authorizer: Option<Json>,
    /// Azure's `authLevel` (`anonymous`, `function`, `admin`).
    pub auth_level: Option<String>,
}

/// Which kind of HTTP endpoint serves the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// AWS API Gateway REST API (`http`), and the HTTP triggers of Azure and Google.
    Rest,
    /// AWS API Gateway HTTP API (`httpApi`).
    HttpApi,
}

/// Reads one list item of `events` (some items stand for several triggers, e.g. an Azure HTTP
/// trigger with two methods, a schedule with two rates).
pub fn read(cloud: Cloud, function: &str, item: &Node) -> Vec<Event> {
    let triggers = match (&item.value, cloud) {
        (Value::Map(map), Cloud::Aws) => aws(map),
        (Value::Map(map), Cloud::Azure) => azure(map, function),
        (Value::Map(map), Cloud::Google) => google(map),
        (Value::String(name), _) => vec![(name.clone(), other(name, item.to_json()))],
        _ => vec![("unknown".to_string(), other("unknown", item.to_json()))],
    };
    triggers
        .into_iter()
        .map(|(kind, trigger)| Event {
            kind,
            trigger,
            raw: item.to_json(),
            span: item.span,
        })
        .collect()
}

fn other(kind: &str, raw: Json) -> Trigger {
    Trigger::Other {
        kind: kind.to_string(),
        raw,
    }
}

/// The event type key and its value: the only key of an AWS event map.
fn single(map: &Mapping) -> Option<(&str, &Node)> {
    map.iter().next().map(|(k, e)| (k.as_str(), &e.node))
}

fn aws(map: &Mapping) -> Vec<(String, Trigger)> {
    let Some((kind, value)) = single(map) else {
        return Vec::new();
    };
    let triggers = match kind {
        "http" => http_trigger(value, Api::Rest).into_iter().collect(),
        "httpApi" => http_trigger(value, Api::HttpApi).into_iter().collect(),
        "schedule" => schedule(value),
        "eventBridge" if value.get("schedule").is_some() => {
            let enabled = value.get("enabled").and_then(boolean).unwrap_or(true);
            value
                .get("schedule")
                .and_then(scalar)
                .map(|expression| Trigger::Schedule {
                    expression,
                    input: value.get("input").map(Node::to_json),
                    enabled,
                })
                .into_iter()
                .collect()
        }
        "sqs" => vec![Trigger::Queue {
            queue: value
                .get("arn")
                .map(Node::to_json)
                .unwrap_or_else(|| value.to_json()),
            batch_size: value.get("batchSize").and_then(unsigned),
            enabled: value.get("enabled").and_then(boolean).unwrap_or(true),
        }],
        "s3" => vec![match value.as_map() {
            Some(settings) if !is_reference(settings) => Trigger::Storage {
                bucket: settings
                    .get("bucket")
                    .map(Node::to_json)
                    .unwrap_or(Json::Null),
                events: super::strings(settings.get("event")),
                rules: super::json_list(settings.get("rules")),
                existing: settings.get("existing").and_then(boolean).unwrap_or(false),
            },
            _ => Trigger::Storage {
                bucket: value.to_json(),
                events: Vec::new(),
                rules: Vec::new(),
                existing: false,
            },
        }],
        "sns" => vec![match value.as_map() {
            Some(settings) if !is_reference(settings) => Trigger::Topic {
                topic: settings
                    .get("arn")
                    .or_else(|| settings.get("topicName"))
                    .map(Node::to_json)
                    .unwrap_or(Json::Null),
                filter_policy: settings.get("filterPolicy").map(Node::to_json),
            },
            _ => Trigger::Topic {
                topic: value.to_json(),
                filter_policy: None,
            },
        }],
        "stream" => {
            let settings = value.as_map().filter(|m| !is_reference(m));
            let source = settings.and_then(|m| m.get("arn")).unwrap_or(value);
            let kind = settings
                .and_then(|m| m.get("type"))
                .and_then(scalar)
                .or_else(|| {
                    let arn = source.as_str()?;
                    ["dynamodb", "kinesis"]
                        .into_iter()
                        .find(|k| arn.contains(&format!(":{k}:")))
                        .map(str::to_string)
                });
            vec![Trigger::Stream {
                source: source.to_json(),
                kind,
                batch_size: settings.and_then(|m| m.get("batchSize")).and_then(unsigned),
                starting_position: settings
                    .and_then(|m| m.get("startingPosition"))
                    .and_then(scalar),
                enabled: settings
                    .and_then(|m| m.get("enabled"))
                    .and_then(boolean)
                    .unwrap_or(true),
            }]
        }
        _ => vec![other(kind, value.to_json())],
    };
    triggers
        .into_iter()
        .map(|t| (kind.to_string(), t))
        .collect()
}

fn is_reference(map: &Mapping) -> bool {
    super::is_cf_function(map)
}

/// `GET /path` (either API), `*` (HTTP API), or the long form with `method` and `path`.
fn http_trigger(value: &Node, api: Api) -> Option<Trigger> {
    let (method, path, settings) = match &value.value {
        Value::String(text) => {
            let text = text.trim();
            if text == "*" {
                ("*".to_string(), "*".to_string(), None)
            } else {
                let mut parts = text.split_whitespace();
                let method = parts.next()?.to_string();
                let path = parts.next()?.to_string();
                (method, path, None)
            }
        }
        Value::Map(settings) => {
            let path = settings.get("path").and_then(scalar)?;
            let method = settings
                .get("method")
                .and_then(scalar)
                .unwrap_or_else(|| "*".to_string());
            (method, path, Some(settings))
        }
        _ => return None,
    };
    Some(Trigger::Http(HttpTrigger {
        method: method_name(&method),
        path: route_path(&path),
        api,
        cors: settings
            .and_then(|s| s.get("cors"))
            .filter(|c| !matches!(c.value, Value::Bool(false) | Value::Null))
            .map(Node::to_json),
        authorizer: settings
            .and_then(|s| s.get("authorizer"))
            .map(Node::to_json),
        auth_level: None,
    }))
}

fn method_name(method: &str) -> String {
    if method == "*" {
        "ANY".to_string()
    } else {
        method.to_ascii_uppercase()
    }
}

/// `users/{id}` -> `/users/{id}`; `*` stays the catch-all.
fn route_path(path: &str) -> String {
    if path == "*" {
        return path.to_string();
    }
    let trimmed = path.trim_matches('/');
    format!("/{trimmed}")
}

fn schedule(value: &Node) -> Vec<Trigger> {
    let (expressions, input, enabled) = match &value.value {
        Value::Map(settings) => (
            super::strings(settings.get("rate")),
            settings.get("input").map(Node::to_json),
            settings.get("enabled").and_then(boolean).unwrap_or(true),
        ),
        _ => (scalar(value).into_iter().collect(), None, true),
    };
    expressions
        .into_iter()
        .map(|expression| Trigger::Schedule {
            expression,
            input: input.clone(),
            enabled,
        })
        .collect()
}

/// Azure trigger bindings the Framework's azure plugin knows.
const AZURE_TRIGGERS: &[&str] = &[
    "http",
    "timer",
    "queue",
    "blob",
    "serviceBus",
    "eventHub",
    "cosmosDB",
    "eventGrid",
];

/// The azure plugin reads a binding's settings from the item's other keys, from
/// `x-azure-settings`, and from the binding's own value when that is a map.
fn azure_setting<'a>(map: &'a Mapping, value: &'a Node, key: &str) -> Option<&'a Node> {
    value
        .get(key)
        .or_else(|| map.get("x-azure-settings").and_then(|s| s.get(key)))
        .or_else(|| map.get(key))
}

fn azure(map: &Mapping, function: &str) -> Vec<(String, Trigger)> {
    let Some((kind, entry)) = map
        .iter()
        .find(|(k, _)| AZURE_TRIGGERS.contains(&k.as_str()))
        .or_else(|| map.iter().next())
    else {
        return Vec::new();
    };
    let value = &entry.node;
    let setting = |key: &str| azure_setting(map, value, key);
    let is_output = setting("direction").and_then(Node::as_str) == Some("out");
    let triggers = match kind.as_str() {
        _ if is_output => vec![other(kind, value.to_json())],
        "http" => {
            let mut methods = super::strings(setting("methods"));
            if methods.is_empty() {
                methods.push("ANY".to_string());
            }
            let route = setting("route")
                .and_then(scalar)
                .unwrap_or_else(|| function.to_string());
            let auth_level = setting("authLevel").and_then(scalar);
            methods
                .iter()
                .map(|method| {
                    Trigger::Http(HttpTrigger {
                        method: method_name(method),
                        path: route_path(&route),
                        api: Api::Rest,
                        cors: None,
                        authorizer: None,
                        auth_level: auth_level.clone(),
                    })
                })
                .collect()
        }
        "timer" => setting("schedule")
            .and_then(scalar)
            .map(|expression| Trigger::Schedule {
                expression,
                input: None,
                enabled: true,
            })
            .into_iter()
            .collect(),
        "queue" => vec![Trigger::Queue {
            queue: named(value, setting("queueName").or_else(|| setting("name"))),
            batch_size: None,
            enabled: true,
        }],
        "serviceBus" => match setting("topicName") {
            Some(topic) => vec![Trigger::Topic {
                topic: topic.to_json(),
                filter_policy: None,
            }],
            None => vec![Trigger::Queue {
                queue: named(value, setting("queueName").or_else(|| setting("name"))),
                batch_size: None,
                enabled: true,
            }],
        },
        "blob" => vec![Trigger::Storage {
            bucket: named(value, setting("path").or_else(|| setting("name"))),
            events: Vec::new(),
            rules: Vec::new(),
            existing: true,
        }],
        "eventHub" | "cosmosDB" => vec![Trigger::Stream {
            source: named(
                value,
                setting("eventHubName")
                    .or_else(|| setting("collectionName"))
                    .or_else(|| setting("name")),
            ),
            kind: Some(kind.clone()),
            batch_size: None,
            starting_position: None,
            enabled: true,
        }],
        _ => vec![other(kind, value.to_json())],
    };
    triggers.into_iter().map(|t| (kind.clone(), t)).collect()
}

/// A binding's target: its own string value (`- queue: name`), else the named setting.
fn named(value: &Node, setting: Option<&Node>) -> Json {
    match (&value.value, setting) {
        (Value::String(_), _) => value.to_json(),
        (_, Some(setting)) => setting.to_json(),
        _ => Json::Null,
    }
}

fn google(map: &Mapping) -> Vec<(String, Trigger)> {
    let Some((kind, value)) = single(map) else {
        return Vec::new();
    };
    let trigger = match kind {
        "http" => Trigger::Http(HttpTrigger {
            method: "ANY".to_string(),
            path: route_path(&scalar(value).unwrap_or_default()),
            api: Api::Rest,
            cors: None,
            authorizer: None,
            auth_level: None,
        }),
        "event" => {
            let event_type = value.get("eventType").and_then(scalar).unwrap_or_default();
            let resource = value
                .get("resource")
                .map(Node::to_json)
                .unwrap_or(Json::Null);
            if event_type.contains("pubsub") {
                Trigger::Topic {
                    topic: resource,
                    filter_policy: None,
                }
            } else if event_type.contains("storage") {
                Trigger::Storage {
                    bucket: resource,
                    events: vec![event_type],
                    rules: Vec::new(),
                    existing: true,
                }
            } else {
                other(kind, value.to_json())
            }
        }
        _ => other(kind, value.to_json()),
    };
    vec![(kind.to_string(), trigger)]
}
