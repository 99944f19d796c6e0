//! The schema of a `provider.name: azure` service: the provider and function keys updraft reads
//! to deploy a service as one Function App (Flex Consumption, Linux), and the events it turns
//! into triggers: the Azure plugin's `http`, `timer`, `queue`, `blob`, `serviceBus`, `eventHub`
//! and `cosmosDB`, and the provider-neutral `http`, `httpApi` and `schedule`.
//!
//! The plugin writes an event's settings beside the event key (`- http: true` then `route:` on
//! the same item), under `x-azure-settings`, or in a map under the event key; all three are
//! accepted, with the keys [`crate::provider::azure::app`] reads. An event item so has more than
//! one key, which the AWS event shape does not allow, so [`check`] picks each item's event type
//! the way the model does (the plugin's trigger wherever it is, else the item's first key) and
//! checks the item against that type's settings.
//!
//! Written out as `schemas/serverless.azure.schema.json` for editors. What depends on more than
//! one key (one trigger per function, one runtime, memory and timeout per Function App, a
//! schedule that converts to an NCRONTAB) is checked when the backend reads the service, at
//! plan time.

use std::sync::OnceLock;

use super::schema::{
    any_map, any_of, boolean, flag_or, integer, list, map_of, object, object_required, one_of,
    one_of_any_case, prop, string, strings, EventType, Property, Shape,
};
use super::walk::{render, Issue, Part, Walker};
use crate::manifest::node::{Mapping, Node, Value};

/// Runtimes Flex Consumption runs on Linux, as a manifest may write them (any case).
pub const RUNTIMES: &[&str] = &[
    "nodejs20",
    "nodejs22",
    "python3.10",
    "python3.11",
    "python3.12",
    "dotnet8",
    "dotnet9",
    "java17",
    "java21",
    "powershell7.4",
    // Other spellings the backend reads as the ones above.
    "nodejs20.x",
    "nodejs22.x",
    "node20",
    "node22",
    "python310",
    "python311",
    "python312",
];

/// Instance memory sizes of the Flex Consumption plan, in MB.
pub const MEMORY_SIZES: &[i64] = &[512, 2048, 4096];

/// Who may call an HTTP function.
pub const AUTH_LEVELS: &[&str] = &["anonymous", "function", "admin"];

/// The event types updraft deploys on Azure.
pub const EVENT_TYPES: &[&str] = &[
    "http",
    "httpApi",
    "timer",
    "schedule",
    "queue",
    "blob",
    "serviceBus",
    "eventHub",
    "cosmosDB",
];

/// The Azure plugin's triggers: an item naming one of these is that event, whatever else it
/// holds (`- timer: true` with `schedule:` beside it is a timer).
const PLUGIN_TRIGGERS: &[&str] = &[
    "http",
    "timer",
    "queue",
    "blob",
    "serviceBus",
    "eventHub",
    "cosmosDB",
];

/// Event types written as a bare name (`- http`): an anonymous trigger on every method.
const BARE: &[&str] = &["http", "httpApi"];

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

const METHOD_OR_ANY: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "ANY", "*",
];

/// The root shape for an Azure service (and its JSON Schema).
pub fn root() -> &'static Shape {
    static ROOT: OnceLock<Shape> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut alternatives = vec![one_of(BARE, "event type")];
        alternatives.extend(event_items().iter().map(|(_, shape)| shape.clone()));
        build(list(any_of(alternatives)))
    })
}

/// The root the walker follows: events are checked one by one by [`check`].
fn walked_root() -> &'static Shape {
    static ROOT: OnceLock<Shape> = OnceLock::new();
    ROOT.get_or_init(|| build(list(Shape::Any)))
}

fn build(events: Shape) -> Shape {
    let mut root = super::aws::root_keys_for(provider(), function(events));
    if let Shape::Object(object) = &mut root {
        for property in &mut object.properties {
            if property.name == "resources" || property.name == "layers" {
                // CloudFormation and Lambda layers: not deployed to Azure.
                property.shape = any_map();
            }
        }
    }
    root
}

/// Checks an Azure service: its keys, then each function's events against their type.
pub(super) fn check<'n>(walker: &mut Walker<'n>, root: &'n Node) {
    walker.check(root, walked_root(), "");
    let Some(functions) = root.get("functions").and_then(Node::as_map) else {
        return;
    };
    for (name, entry) in functions.iter() {
        let Some(events) = entry.node.get("events").and_then(Node::as_seq) else {
            continue;
        };
        for (index, item) in events.iter().enumerate() {
            walker.path = vec![
                Part::Key("functions"),
                Part::Key(name.as_str()),
                Part::Key("events"),
                Part::Index(index),
            ];
            event(walker, item);
        }
    }
    walker.path.clear();
}

fn event<'n>(walker: &mut Walker<'n>, item: &'n Node) {
    let Value::Map(map) = &item.value else {
        // `- http`, `- timer` (which needs its settings) or no event at all.
        walker.check(item, bare_events(), "");
        return;
    };
    // As the model reads it: the plugin's trigger wherever it is, else the first key.
    let kind = map
        .keys()
        .find(|k| PLUGIN_TRIGGERS.contains(&k.as_str()))
        .or_else(|| map.keys().next());
    match kind.and_then(|kind| event_items().iter().find(|(name, _)| name == kind)) {
        Some((_, shape)) => walker.check(item, shape, ""),
        None => unknown_event(walker, item, map),
    }
}

/// An item whose event type (its first key, with no trigger of the plugin in it) is not one
/// updraft deploys on Azure.
fn unknown_event(walker: &mut Walker, item: &Node, map: &Mapping) {
    let here = render(&walker.path);
    let Some((name, entry)) = map.iter().next() else {
        walker.issues.push(Issue {
            span: item.span,
            message: format!("`{here}` is empty: it names no event"),
            label: "no event type".into(),
            help: Some(format!("known events: {}", EVENT_TYPES.join(", "))),
        });
        return;
    };
    let later = map.keys().find(|k| EVENT_TYPES.contains(&k.as_str()));
    let help = match name.as_str() {
        _ if setting_names().contains(&name.as_str()) && later.is_some() => format!(
            "updraft reads an item's first key as its event type: write `{}` first",
            later.map(String::as_str).unwrap_or_default()
        ),
        "sqs" | "sns" => {
            "Azure has no such trigger: use a `queue` (Storage queue) or `serviceBus` event".into()
        }
        "s3" => "Azure has no such trigger: use a `blob` event".into(),
        "stream" => "Azure has no such trigger: use an `eventHub` or `cosmosDB` event".into(),
        _ => match super::suggest::closest(name, EVENT_TYPES) {
            Some(close) => format!(
                "did you mean `{close}`? Known events: {}",
                EVENT_TYPES.join(", ")
            ),
            None => format!("known events: {}", EVENT_TYPES.join(", ")),
        },
    };
    walker.issues.push(Issue {
        span: entry.key_span,
        message: format!("unknown event type `{name}` in `{here}`"),
        label: "unknown event type".into(),
        help: Some(help),
    });
}

fn bare_events() -> &'static Shape {
    static EVENTS: OnceLock<Shape> = OnceLock::new();
    EVENTS.get_or_init(|| {
        Shape::Event(
            EVENT_TYPES
                .iter()
                .map(|name| EventType {
                    name,
                    shape: Shape::Any,
                    bare: BARE.contains(name),
                })
                .collect(),
        )
    })
}

/// Every setting key of every event type (to tell an unknown event from its settings).
fn setting_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = vec!["x-azure-settings"];
        for kind in EVENT_TYPES {
            for setting in settings(kind) {
                if !names.contains(&setting.name) {
                    names.push(setting.name);
                }
            }
        }
        names
    })
}

/// The settings a function may set for itself or inherit from the provider; Azure keeps them
/// per Function App, so functions that set them must agree.
fn shared() -> Vec<Property> {
    vec![
        prop(
            "runtime",
            one_of_any_case(RUNTIMES, "Azure Functions runtime"),
            "The language stack of the Function App: nodejs20, nodejs22, python3.10 to python3.12, dotnet8, dotnet9, java17, java21 or powershell7.4",
        ),
        prop(
            "memorySize",
            Shape::IntegerEnum(MEMORY_SIZES),
            "Instance memory in MB: 512, 2048 or 4096 (default 2048), one for the whole Function App",
        ),
        prop(
            "timeout",
            Shape::Integer {
                min: Some(1),
                max: None,
            },
            "Seconds: the `functionTimeout` of the Function App's host.json (default: Azure's)",
        ),
        prop(
            "environment",
            map_of(any_of(vec![string(), Shape::Number, boolean()])),
            "Environment variables: app settings of the Function App, seen by every function",
        ),
    ]
}

fn provider() -> Shape {
    let mut properties = vec![
        prop("name", string(), "The cloud provider: aws, azure or google"),
        prop(
            "region",
            string(),
            "The Azure region, written `West US 2` or `westus2` (default westus2)",
        ),
        prop(
            "location",
            string(),
            "The Azure region, as older Azure plugin services write it (`region` wins)",
        ),
        prop("stage", string(), "Stage (default dev)"),
        prop(
            "subscriptionId",
            string(),
            "The Azure subscription (default: the AZURE_SUBSCRIPTION_ID variable)",
        ),
        prop(
            "resourceGroup",
            string(),
            "An existing resource group to deploy into, never deleted by updraft (default: `{app}-rg`, created and removed by updraft)",
        ),
        prop(
            "prefix",
            string(),
            "Put before the Function App's name: `{prefix}-{service}-{stage}`",
        ),
        prop(
            "os",
            one_of(&["linux"], "Flex Consumption operating system"),
            "The operating system: Flex Consumption runs Linux only",
        ),
        prop(
            "maximumInstanceCount",
            integer(40, 1000),
            "The most instances the Function App scales out to: 40 to 1000 (default 100)",
        ),
        prop(
            "appInsights",
            flag_or(any_map()),
            "`true` (or a map) creates an Application Insights component the app logs to",
        ),
        prop(
            "tags",
            map_of(string()),
            "Tags on the service's Azure resources (updraft adds updraft-service and updraft-stage)",
        ),
    ];
    properties.extend(shared());
    object_required(&["name"], properties)
}

fn function(events: Shape) -> Shape {
    let mut properties = vec![
        prop(
            "handler",
            string(),
            "The file and export Azure calls (`src/handlers/hello.sayHello`)",
        ),
        prop("description", string(), ""),
        prop(
            "events",
            events,
            "What calls the function: exactly one trigger",
        ),
    ];
    properties.extend(shared());
    object(properties)
}

/// Each event type with the shape of a list item naming it.
fn event_items() -> &'static [(&'static str, Shape)] {
    static ITEMS: OnceLock<Vec<(&'static str, Shape)>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        EVENT_TYPES
            .iter()
            .map(|kind| {
                let (value, about) = value(kind);
                let mut properties = vec![prop(kind, value, about)];
                properties.extend(settings(kind));
                properties.push(prop(
                    "x-azure-settings",
                    object(settings(kind)),
                    "The same settings, where older versions of the Azure plugin write them",
                ));
                (
                    *kind,
                    object_required(std::slice::from_ref(kind), properties),
                )
            })
            .collect()
    })
}

fn methods() -> Shape {
    any_of(vec![
        one_of_any_case(METHOD_OR_ANY, "HTTP method"),
        list(one_of_any_case(METHODS, "HTTP method")),
    ])
}

/// What the event key itself may hold.
fn value(kind: &str) -> (Shape, &'static str) {
    let http = || {
        object(vec![
            prop("path", string(), "The route (`users/{id}`)"),
            prop("route", string(), "The route (`users/{id}`)"),
            prop("method", methods(), "The HTTP method (`*` or `ANY`: all)"),
            prop("methods", methods(), "The HTTP methods"),
            prop("name", string(), "The request's binding name (default req)"),
            prop("authLevel", auth_level(), AUTH_ABOUT),
        ])
    };
    match kind {
        "http" => (
            any_of(vec![boolean(), http()]),
            "An HTTP trigger: `true` with its settings beside it, or `{path, method}`",
        ),
        "httpApi" => (
            any_of(vec![string(), boolean(), http()]),
            "An HTTP trigger: `'GET /path'`, `'/path'`, `'*'` or `{path, method}`",
        ),
        "schedule" => (
            any_of(vec![
                string(),
                object(vec![
                    prop(
                        "rate",
                        any_of(vec![string(), strings()]),
                        "`rate(...)`, `cron(...)` or an NCRONTAB; of a list, the first",
                    ),
                    prop("name", string(), "The timer's binding name (default timer)"),
                ]),
            ]),
            "A timer trigger: `rate(N minutes|hours)`, `rate(1 day)`, AWS's `cron(...)` or a 6-field NCRONTAB",
        ),
        "timer" => (
            any_of(vec![boolean(), object(settings(kind))]),
            "A timer trigger: `true` with `schedule` beside it, or `{schedule}`",
        ),
        "queue" => (
            any_of(vec![string(), boolean(), object(settings(kind))]),
            "A Storage queue trigger: the queue's name, or `true` with `queueName` beside it",
        ),
        "blob" => (
            any_of(vec![boolean(), object(settings(kind))]),
            "A Blob storage trigger: `true` with `path` beside it",
        ),
        "serviceBus" => (
            any_of(vec![boolean(), object(settings(kind))]),
            "A Service Bus trigger: `true` with `queueName`, or `topicName` and `subscriptionName`, beside it",
        ),
        "eventHub" => (
            any_of(vec![boolean(), object(settings(kind))]),
            "An Event Hubs trigger: `true` with `eventHubName` beside it",
        ),
        "cosmosDB" => (
            any_of(vec![boolean(), object(settings(kind))]),
            "A Cosmos DB change feed trigger: `true` with `databaseName` and `containerName` beside it",
        ),
        _ => (Shape::Any, ""),
    }
}

const AUTH_ABOUT: &str =
    "Who may call it: anonymous (default), function (with a function key) or admin (the master key)";

fn auth_level() -> Shape {
    one_of(AUTH_LEVELS, "HTTP auth level")
}

/// The settings of an event type: beside the event key, under `x-azure-settings` or in a map
/// under the event key.
fn settings(kind: &str) -> Vec<Property> {
    match kind {
        "http" | "httpApi" => vec![
            prop(
                "route",
                string(),
                "The path after /api/ (`users/{id}`; default: the function's name)",
            ),
            prop(
                "methods",
                methods(),
                "The HTTP methods it answers (default: all)",
            ),
            prop("authLevel", auth_level(), AUTH_ABOUT),
            prop("name", string(), "The request's binding name (default req)"),
            prop(
                "direction",
                one_of(&["in", "out"], "binding direction"),
                "`out`: the HTTP response binding, written as an event of its own (default in)",
            ),
        ],
        "timer" => vec![
            prop(
                "schedule",
                string(),
                "A 6-field NCRONTAB, seconds first (`0 */5 * * * *`); `rate(...)` and AWS's `cron(...)` are converted",
            ),
            prop("name", string(), "The timer's binding name (default timer)"),
        ],
        "schedule" => vec![prop(
            "name",
            string(),
            "The timer's binding name (default timer)",
        )],
        "queue" => vec![
            prop(
                "queueName",
                string(),
                "The Storage queue (when the event key does not name it)",
            ),
            prop("name", string(), "The message's binding name (default item)"),
            prop(
                "connection",
                string(),
                "The app setting holding the storage connection (default AzureWebJobsStorage)",
            ),
        ],
        "blob" => vec![
            prop("path", string(), "The blobs watched: `container/{name}`"),
            prop("name", string(), "The blob's binding name (default blob)"),
            prop(
                "connection",
                string(),
                "The app setting holding the storage connection (default AzureWebJobsStorage)",
            ),
        ],
        "serviceBus" => vec![
            prop("queueName", string(), "The Service Bus queue"),
            prop(
                "topicName",
                string(),
                "The Service Bus topic (with `subscriptionName`)",
            ),
            prop("subscriptionName", string(), "The topic's subscription"),
            prop(
                "name",
                string(),
                "The message's binding name (default message)",
            ),
            prop(
                "connection",
                string(),
                "The app setting holding the Service Bus connection (default ServiceBusConnection)",
            ),
        ],
        "eventHub" => vec![
            prop("eventHubName", string(), "The event hub"),
            prop(
                "consumerGroup",
                string(),
                "The consumer group (default $Default)",
            ),
            prop("name", string(), "The events' binding name (default events)"),
            prop(
                "connection",
                string(),
                "The app setting holding the Event Hubs connection (default EventHubConnection)",
            ),
        ],
        "cosmosDB" => vec![
            prop("databaseName", string(), "The database"),
            prop("containerName", string(), "The container watched"),
            prop(
                "collectionName",
                string(),
                "The container watched (its older name)",
            ),
            prop(
                "leaseContainerName",
                string(),
                "The container of the leases (default leases, created if missing)",
            ),
            prop(
                "name",
                string(),
                "The documents' binding name (default documents)",
            ),
            prop(
                "connection",
                string(),
                "The app setting holding the Cosmos DB connection (default CosmosDBConnection)",
            ),
            prop(
                "connectionStringSetting",
                string(),
                "The app setting holding the connection (its older name)",
            ),
        ],
        _ => Vec::new(),
    }
}
