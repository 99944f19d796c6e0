//! The schema of a `provider.name: google` service: the Google plugin's provider and function
//! keys, and the events updraft deploys to Cloud Functions (2nd gen): `http` and `httpApi` (the
//! function's URL), `schedule` (a Cloud Scheduler job) and `event` (an Eventarc trigger). The
//! runtime names and memory sizes live here, beside the schema that lists them; the Google
//! backend reads them from here.
//!
//! Written out as `schemas/serverless.google.schema.json` for editors. Google's own limits that
//! depend on more than one key (the timeout of an event function, one trigger per function) are
//! checked when the backend reads the service, at plan time.

use std::sync::OnceLock;

use super::schema::{
    any_map, any_of, boolean, integer, list, map_of, object, object_required, one_of, prop, string,
    strings, Keys, Shape,
};

/// Runtimes Cloud Functions 2nd gen runs.
pub const RUNTIMES: &[&str] = &[
    "nodejs18",
    "nodejs20",
    "nodejs22",
    "python39",
    "python310",
    "python311",
    "python312",
    "python313",
    "go121",
    "go122",
    "go123",
    "java17",
    "java21",
    "ruby32",
    "ruby33",
    "php82",
    "php83",
    "dotnet6",
    "dotnet8",
];

/// Memory sizes Cloud Functions 2nd gen offers, in MB.
pub const MEMORY_SIZES: &[i64] = &[128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

/// The root shape for a Google service.
pub fn root() -> &'static Shape {
    static ROOT: OnceLock<Shape> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut root = super::aws::root_keys_for(provider(), function());
        if let Shape::Object(object) = &mut root {
            for property in &mut object.properties {
                if property.name == "resources" || property.name == "layers" {
                    // Deployment Manager resources of the plugin: not deployed by updraft.
                    property.shape = any_map();
                }
            }
        }
        root
    })
}

/// The settings a function may set for itself or inherit from the provider.
fn shared() -> Vec<super::schema::Property> {
    vec![
        prop(
            "runtime",
            one_of(RUNTIMES, "Cloud Functions runtime"),
            "Cloud Functions runtime (nodejs20, python312, go122, ...)",
        ),
        prop(
            "memorySize",
            Shape::IntegerEnum(MEMORY_SIZES),
            "Memory in MB: 128, 256, 512, 1024, 2048, 4096, 8192, 16384 or 32768 (default 256)",
        ),
        prop(
            "timeout",
            any_of(vec![integer(1, 3600), string()]),
            "Seconds (`60` or `'60s'`): up to 3600 for HTTP functions, 540 for event functions",
        ),
        prop("labels", map_of(string()), "Labels on the function"),
        prop(
            "environment",
            Shape::Map {
                keys: Keys::EnvironmentName,
                values: Box::new(any_of(vec![string(), Shape::Number, boolean()])),
            },
            "Environment variables",
        ),
        prop(
            "serviceAccountEmail",
            string(),
            "The service account the function runs as",
        ),
        prop(
            "vpc",
            string(),
            "A Serverless VPC Access connector (projects/P/locations/R/connectors/C)",
        ),
        prop(
            "maxInstances",
            integer(1, 1000),
            "The most instances at once",
        ),
        prop("minInstances", integer(0, 1000), "Instances kept warm"),
    ]
}

fn provider() -> Shape {
    let mut properties = vec![
        prop("name", string(), "The cloud provider: aws, azure or google"),
        prop("project", string(), "The Google Cloud project id"),
        prop(
            "credentials",
            string(),
            "A service account key file (default: Application Default Credentials)",
        ),
        prop("region", string(), "The region (default us-central1)"),
        prop("stage", string(), "Stage (default dev)"),
        prop(
            "deploymentBucket",
            object(vec![prop("name", string(), "")]),
            "The Cloud Storage bucket of the deploy lock (default updraft-PROJECT)",
        ),
    ];
    properties.extend(shared());
    object_required(&["name"], properties)
}

fn function() -> Shape {
    let mut properties = vec![
        prop(
            "handler",
            string(),
            "The exported function Google calls (the entry point)",
        ),
        prop(
            "name",
            string(),
            "The function id (default service-stage-key)",
        ),
        prop("description", string(), ""),
        prop(
            "events",
            list(events()),
            "What calls the function: one trigger",
        ),
    ];
    properties.extend(shared());
    object(properties)
}

fn events() -> Shape {
    use super::schema::event;
    let http = any_of(vec![
        string(),
        object(vec![
            prop(
                "path",
                string(),
                "Not routed: the function answers on its own URL",
            ),
            prop("method", string(), ""),
            prop("cors", Shape::Any, ""),
            prop(
                "private",
                boolean(),
                "Only callers with an identity token may call it",
            ),
        ]),
    ]);
    Shape::Event(vec![
        event("http", http.clone()),
        event("httpApi", http),
        event(
            "schedule",
            any_of(vec![
                string(),
                object(vec![
                    prop("rate", any_of(vec![string(), strings()]), ""),
                    prop("enabled", boolean(), ""),
                    prop("timeZone", string(), "An IANA time zone (default Etc/UTC)"),
                    prop("name", string(), ""),
                    prop("description", string(), ""),
                    prop("input", Shape::Any, ""),
                ]),
            ]),
        ),
        event(
            "event",
            object_required(
                &["eventType"],
                vec![
                    prop(
                        "eventType",
                        string(),
                        "An Eventarc type, or the plugin's 1st-gen type it maps to",
                    ),
                    prop("resource", string(), "The topic, bucket or document path"),
                ],
            ),
        ),
    ])
}
