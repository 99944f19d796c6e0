//! The checks a schema cannot express: the manifest's skeleton (which the Framework cannot work
//! without, so always errors), handlers, HTTP routes and their duplicates, and plugins.

use std::collections::HashMap;

use crate::manifest::node::{Mapping, Node, Value};
use crate::manifest::source::{SourceMap, Span};

use super::aws::HTTP_METHODS;
use super::suggest;
use super::walk::{describe_value, Issue};
use super::Severity;

/// Providers updraft reads manifests for.
pub const PROVIDERS: &[&str] = &["aws", "azure", "google"];

fn issue(span: Span, message: String, label: &str, help: impl Into<Option<String>>) -> Issue {
    Issue {
        span,
        message,
        label: label.to_string(),
        help: help.into(),
    }
}

/// The point at the start of a node (for "missing" findings).
fn start(span: Span) -> Span {
    Span {
        end: span.start,
        ..span
    }
}

/// Problems that stop any use of the manifest: missing or malformed `service`, `provider`,
/// `functions` and `events`. Returns them with the provider name when it is usable.
pub fn structure(root: &Node) -> (Vec<Issue>, Option<String>) {
    let mut issues = Vec::new();
    let Some(map) = root.as_map() else {
        return (issues, None);
    };
    service(map, root.span, &mut issues);
    let provider = provider(map, root.span, &mut issues);
    functions(map, &mut issues);
    (issues, provider)
}

fn service(map: &Mapping, root_span: Span, issues: &mut Vec<Issue>) {
    let Some(entry) = map.entry("service") else {
        issues.push(issue(
            start(root_span),
            "missing `service`: every manifest needs a service name".into(),
            "no `service` key in this file",
            "add `service: my-service` at the top of the file".to_string(),
        ));
        return;
    };
    let node = &entry.node;
    match &node.value {
        Value::String(s) if !s.trim().is_empty() => {}
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {}
        Value::Map(object) => {
            let name = object
                .get("name")
                .and_then(Node::as_str)
                .unwrap_or("my-service");
            issues.push(issue(
                node.span,
                "`service` must be a string: the object form (`service: {name: ...}`) was removed in Framework v3".into(),
                "object form of `service`",
                format!("write `service: {name}`; other keys of this map are not read"),
            ));
        }
        _ => issues.push(issue(
            if node.is_null() {
                entry.key_span
            } else {
                node.span
            },
            format!(
                "`service` must be the service name, got {}",
                describe_value(node)
            ),
            "expected a name",
            "write `service: my-service`".to_string(),
        )),
    }
}

fn provider(map: &Mapping, root_span: Span, issues: &mut Vec<Issue>) -> Option<String> {
    let example = "write\nprovider:\n  name: aws\n  runtime: nodejs20.x";
    let Some(entry) = map.entry("provider") else {
        issues.push(issue(
            start(root_span),
            "missing `provider`: the manifest must say which cloud it deploys to".into(),
            "no `provider` key in this file",
            example.to_string(),
        ));
        return None;
    };
    let node = &entry.node;
    let provider = match &node.value {
        Value::Map(provider) => provider,
        Value::Null => {
            issues.push(issue(
                entry.key_span,
                "`provider` is empty: it must be a map with at least `name`".into(),
                "empty provider",
                example.to_string(),
            ));
            return None;
        }
        Value::String(name) => {
            issues.push(issue(
                node.span,
                format!("`provider` must be a map, not the string `{name}`"),
                "expected a map",
                format!("write\nprovider:\n  name: {name}"),
            ));
            return None;
        }
        _ => {
            issues.push(issue(
                node.span,
                format!("`provider` must be a map, got {}", describe_value(node)),
                "expected a map",
                example.to_string(),
            ));
            return None;
        }
    };
    let Some(name_entry) = provider.entry("name") else {
        issues.push(issue(
            entry.key_span,
            "`provider.name` is missing: the manifest must say which cloud it deploys to".into(),
            "no `name` in this provider",
            format!(
                "add `name: aws` (or {}) under `provider`",
                PROVIDERS[1..].join(", ")
            ),
        ));
        return None;
    };
    let name_node = &name_entry.node;
    let Some(name) = name_node.as_str() else {
        issues.push(issue(
            if name_node.is_null() {
                name_entry.key_span
            } else {
                name_node.span
            },
            format!(
                "`provider.name` must be a provider name, got {}",
                describe_value(name_node)
            ),
            "expected a provider name",
            format!("use one of {}", PROVIDERS.join(", ")),
        ));
        return None;
    };
    if !PROVIDERS.contains(&name) {
        let close = suggest::closest(name, PROVIDERS)
            .map(|c| format!("did you mean `{c}`? "))
            .unwrap_or_default();
        issues.push(issue(
            name_node.span,
            format!(
                "unknown provider `{name}` in `provider.name`: updraft knows {}",
                PROVIDERS.join(", ")
            ),
            "unknown provider",
            format!(
                "{close}set `provider.name` to one of {}",
                PROVIDERS.join(", ")
            ),
        ));
        return None;
    }
    Some(name.to_string())
}

fn functions(map: &Mapping, issues: &mut Vec<Issue>) {
    let Some(node) = map.get("functions") else {
        return;
    };
    let functions = match &node.value {
        Value::Map(functions) => functions,
        Value::Null => return,
        Value::Seq(items) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            let first = names.first().map(String::as_str).unwrap_or("hello");
            issues.push(issue(
                node.span,
                "`functions` must be a map from function name to its settings, not a list".into(),
                "a list here",
                format!("write\nfunctions:\n  {first}:\n    handler: handler.{first}"),
            ));
            return;
        }
        _ => {
            issues.push(issue(
                node.span,
                format!(
                    "`functions` must be a map from function name to its settings, got {}",
                    describe_value(node)
                ),
                "expected a map",
                "write\nfunctions:\n  hello:\n    handler: handler.hello".to_string(),
            ));
            return;
        }
    };
    for (name, entry) in functions.iter() {
        let function = match &entry.node.value {
            Value::Map(function) => function,
            _ => {
                issues.push(issue(
                    if entry.node.is_null() {
                        entry.key_span
                    } else {
                        entry.node.span
                    },
                    format!(
                        "function `{name}` must be a map of settings, got {}",
                        describe_value(&entry.node)
                    ),
                    "expected the function's settings",
                    format!("write\n  {name}:\n    handler: handler.{name}"),
                ));
                continue;
            }
        };
        if let Some(events) = function.get("events") {
            match &events.value {
                Value::Seq(_) | Value::Null => {}
                _ => issues.push(issue(
                    events.span,
                    format!("`functions.{name}.events` must be a list of events, got {}", describe_value(events)),
                    "expected a list",
                    "start each event with `- `, e.g.\n    events:\n      - http:\n          path: hello\n          method: get".to_string(),
                )),
            }
        }
    }
}

/// The checks on functions and events, for a manifest whose structure is sound.
pub fn semantics(
    root: &Node,
    provider: &str,
    sources: &SourceMap,
    issues: &mut Vec<(Severity, Issue)>,
) {
    plugins(root, issues);
    let Some(functions) = root.get("functions").and_then(Node::as_map) else {
        return;
    };
    let provider_runtime = root
        .get_path(["provider", "runtime"])
        .and_then(Node::as_str);
    let mut routes: HashMap<(bool, String, String), Span> = HashMap::new();
    for (name, entry) in functions.iter() {
        let Some(function) = entry.node.as_map() else {
            continue;
        };
        if provider == "aws" {
            let runtime = function
                .get("runtime")
                .and_then(Node::as_str)
                .or(provider_runtime);
            handler(name, entry.key_span, function, runtime, issues);
        }
        let Some(events) = function.get("events").and_then(Node::as_seq) else {
            continue;
        };
        if provider != "aws" {
            continue;
        }
        for (index, event) in events.iter().enumerate() {
            let place = format!("functions.{name}.events[{index}]");
            schedule(event, &place, issues);
            if let Some(route) = http_route(event, &place, issues) {
                let Route {
                    http_api,
                    method,
                    path,
                    span,
                } = route;
                let shown = format!(
                    "{} {}",
                    if method == "*" {
                        "ANY"
                    } else {
                        method.as_str()
                    },
                    if http_api {
                        path.clone()
                    } else {
                        format!("/{path}")
                    }
                );
                match routes.get(&(http_api, method.clone(), path.clone())) {
                    Some(first) => issues.push((
                        Severity::Schema,
                        issue(
                            span,
                            format!("duplicate route `{shown}` in `{place}`: another function already serves it"),
                            "duplicate route",
                            format!(
                                "the first is at {}; give one of them another path or method",
                                sources.location(*first)
                            ),
                        ),
                    )),
                    None => {
                        routes.insert((http_api, method, path), span);
                    }
                }
            }
        }
    }
}

/// Plugins whose work updraft does itself: the Azure and Google providers, and the build
/// steps of `package::build`.
const BUILT_IN_PLUGINS: &[&str] = &[
    "serverless-azure-functions",
    "serverless-google-cloudfunctions",
    "serverless-python-requirements",
    "serverless-esbuild",
    "serverless-plugin-typescript",
    "serverless-rust",
    "serverless-go-plugin",
];

fn plugins(root: &Node, issues: &mut Vec<(Severity, Issue)>) {
    let Some(map) = root.as_map() else { return };
    let Some(entry) = map.entry("plugins") else {
        return;
    };
    let names: Vec<&str> = match &entry.node.value {
        Value::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
        Value::Map(m) => m
            .get("modules")
            .and_then(Node::as_seq)
            .map(|items| items.iter().filter_map(Node::as_str).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    // The Framework's Azure and Google providers and its build plugins: updraft does their work.
    let names: Vec<&str> = names
        .into_iter()
        .filter(|name| !BUILT_IN_PLUGINS.contains(name))
        .collect();
    if names.is_empty() && !matches!(entry.node.value, Value::String(_)) {
        return;
    }
    let listed = if names.is_empty() {
        entry
            .node
            .as_str()
            .map(|s| format!("`{s}`"))
            .unwrap_or_default()
    } else {
        suggest::list(&names, 8)
    };
    issues.push((
        Severity::Warning,
        issue(
            entry.key_span,
            format!("plugins are not run by updraft: {listed} will have no effect"),
            "plugins are ignored",
            "what a plugin adds to the deployment (resources, packaging, hooks) will be missing; remove `plugins` once the service no longer needs them".to_string(),
        ),
    ));
}

/// Runtimes whose handler is `file.export`. Go, custom (`provided`), Java and .NET handlers
/// have other forms and are not checked.
fn handler_needs_dot(runtime: Option<&str>) -> bool {
    match runtime {
        None => true,
        Some(r) => r.starts_with("nodejs") || r.starts_with("python") || r.starts_with("ruby"),
    }
}

/// Whether a handler's file part is absolute or climbs out of the service directory with `..`
/// (read as written: `a/../../b` climbs out, `a/../b` does not).
fn escapes_the_service(handler: &str) -> bool {
    if handler.starts_with('/') || handler.starts_with('\\') {
        return true;
    }
    let mut depth: i64 = 0;
    for part in handler.split(['/', '\\']) {
        match part {
            ".." => depth -= 1,
            "" | "." => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

fn handler(
    name: &str,
    key_span: Span,
    function: &Mapping,
    runtime: Option<&str>,
    issues: &mut Vec<(Severity, Issue)>,
) {
    let handler = function.get("handler").filter(|n| !n.is_null());
    let image = function.get("image").filter(|n| !n.is_null());
    match (handler, image) {
        (None, None) => issues.push((
            Severity::Error,
            issue(
                key_span,
                format!("function `{name}` has neither `handler` nor `image`: there is no code to run"),
                "no handler or image",
                format!("add `handler: handler.{name}` (the export `{name}` of handler.js/handler.py), or `image:` for a container image"),
            ),
        )),
        (Some(_), Some(image)) => issues.push((
            Severity::Schema,
            issue(
                image.span,
                format!("function `{name}` has both `handler` and `image`; a function runs one or the other"),
                "both handler and image",
                "remove `image` to deploy code with the handler, or `handler` to deploy the container image".to_string(),
            ),
        )),
        (Some(handler), None) => {
            let Some(text) = handler.as_str() else { return };
            if escapes_the_service(text) {
                issues.push((
                    Severity::Error,
                    issue(
                        handler.span,
                        format!("handler `{text}` of function `{name}` points outside the service directory"),
                        "outside the service",
                        "the package holds only files under the service directory, and Lambda runs the handler from the package: move the file into the service and name it relative to the service directory, or share the code through a layer or a dependency".to_string(),
                    ),
                ));
            } else if handler_needs_dot(runtime) && !text.contains('.') {
                issues.push((
                    Severity::Error,
                    issue(
                        handler.span,
                        format!("handler `{text}` of function `{name}` must be `file.export`"),
                        "no `.export` part",
                        format!("write the file (without extension) and the exported function, e.g. `{text}.{name}` for the export `{name}` of {text}.js"),
                    ),
                ));
            }
        }
        (None, Some(_)) => {}
    }
}

struct Route {
    http_api: bool,
    method: String,
    path: String,
    span: Span,
}

/// Checks an `http`/`httpApi` event and returns its route (method upper-cased, REST paths
/// without their leading and trailing `/`).
fn http_route(event: &Node, place: &str, issues: &mut Vec<(Severity, Issue)>) -> Option<Route> {
    let map = event.as_map()?;
    let (http_api, entry) = match (map.entry("http"), map.entry("httpApi")) {
        (Some(entry), _) => (false, entry),
        (None, Some(entry)) => (true, entry),
        (None, None) => return None,
    };
    let kind = if http_api { "httpApi" } else { "http" };
    let node = &entry.node;
    let (method, path, span) = match &node.value {
        Value::String(text) => {
            let text = text.trim();
            if http_api && text == "*" {
                return Some(Route {
                    http_api,
                    method: "*".into(),
                    path: "*".into(),
                    span: node.span,
                });
            }
            let mut parts = text.split_whitespace();
            let method = parts.next().unwrap_or("");
            let path = parts.next();
            let Some(path) = path.filter(|_| parts.next().is_none()) else {
                let shown = if method.is_empty() {
                    "GET".to_string()
                } else {
                    method.to_string()
                };
                issues.push((
                    Severity::Schema,
                    issue(
                        node.span,
                        format!("{kind} event `{text}` in `{place}` has no path"),
                        "expected `METHOD /path`",
                        format!("write `{kind}: {shown} /hello`, or the long form with `path:` and `method:`"),
                    ),
                ));
                return None;
            };
            (method.to_string(), path.to_string(), node.span)
        }
        Value::Map(settings) => {
            let method = settings.get("method").and_then(super::walk::scalar_text);
            let path = settings.get("path").and_then(super::walk::scalar_text);
            let Some(path) = path else {
                issues.push((
                    Severity::Schema,
                    issue(
                        entry.key_span,
                        format!("{kind} event in `{place}` has no `path`"),
                        "no `path`",
                        format!("add `path: hello` under `{kind}`"),
                    ),
                ));
                return None;
            };
            let method = match method {
                Some(method) => method,
                None if http_api => "*".to_string(),
                None => {
                    issues.push((
                        Severity::Schema,
                        issue(
                            entry.key_span,
                            format!("http event in `{place}` has no `method`"),
                            "no `method`",
                            "add `method: get` (or post, put, patch, delete, options, head, any)"
                                .to_string(),
                        ),
                    ));
                    return None;
                }
            };
            // A bad method in the long form is the schema's to report.
            if !is_method(&method) {
                return None;
            }
            (method, path, node.span)
        }
        Value::Null => {
            issues.push((
                Severity::Schema,
                issue(
                    entry.key_span,
                    format!("{kind} event in `{place}` has no path or method"),
                    "no route",
                    format!("write `{kind}: GET /hello`, or put `path:` and `method:` one level deeper than `{kind}:`"),
                ),
            ));
            return None;
        }
        _ => return None,
    };
    if !is_method(&method) {
        let close = suggest::ranked(&method.to_ascii_uppercase(), HTTP_METHODS, 1);
        let hint = close
            .first()
            .map(|c| format!("did you mean `{c}`? "))
            .unwrap_or_default();
        issues.push((
            Severity::Schema,
            issue(
                span,
                format!("`{method}` in `{place}.{kind}` is not an HTTP method"),
                "not an HTTP method",
                format!("{hint}use one of {}", HTTP_METHODS.join(", ")),
            ),
        ));
        return None;
    }
    if http_api && path != "*" && !path.starts_with('/') {
        issues.push((
            Severity::Schema,
            issue(
                span,
                format!("httpApi path `{path}` in `{place}` must start with `/`"),
                "path without leading `/`",
                format!("write `/{path}`"),
            ),
        ));
    }
    let path = if http_api {
        path
    } else {
        path.trim_matches('/').to_string()
    };
    Some(Route {
        http_api,
        method: method.to_ascii_uppercase(),
        path,
        span,
    })
}

/// Checks the expressions of a `schedule` event: AWS takes `rate(1 minute)` or `rate(5
/// minutes)` (the unit agrees with the number) and `cron(...)` with six fields.
fn schedule(event: &Node, place: &str, issues: &mut Vec<(Severity, Issue)>) {
    let Some(value) = event.get("schedule") else {
        return;
    };
    let expressions: Vec<&Node> = match &value.value {
        Value::String(_) => vec![value],
        Value::Map(settings) => match settings.get("rate").map(|r| (r, &r.value)) {
            Some((_, Value::Seq(items))) => items.iter().collect(),
            Some((rate, Value::String(_))) => vec![rate],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    for node in expressions {
        let Some(text) = node.as_str() else { continue };
        if let Err(fix) = schedule_expression(text) {
            issues.push((
                Severity::Schema,
                issue(
                    node.span,
                    format!("`{text}` in `{place}` is not a schedule expression AWS accepts"),
                    "not rate(...) or cron(...)",
                    fix,
                ),
            ));
        }
    }
}

/// `Err` holds the fix.
fn schedule_expression(text: &str) -> Result<(), String> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
        let fields = inner.split_whitespace().count();
        return if fields == 6 {
            Ok(())
        } else {
            Err(format!(
                "a cron expression has six fields (minutes hours day-of-month month day-of-week year), e.g. `cron(0 12 * * ? *)`; this one has {fields}"
            ))
        };
    }
    let usage = "write `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`, `rate(2 days)`, or `cron(...)` with six fields".to_string();
    let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) else {
        return Err(usage);
    };
    let mut parts = inner.split_whitespace();
    let (Some(number), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(usage);
    };
    let Ok(number) = number.parse::<u64>() else {
        return Err(usage);
    };
    let singular = ["minute", "hour", "day"].contains(&unit);
    let plural = ["minutes", "hours", "days"].contains(&unit);
    match (number, singular, plural) {
        (0, _, _) => Err("a rate must be at least 1".to_string()),
        (1, true, _) => Ok(()),
        (1, _, true) => Err(format!(
            "write `rate(1 {})`: AWS wants the singular for 1",
            unit.trim_end_matches('s')
        )),
        (_, _, true) => Ok(()),
        (_, true, _) => Err(format!(
            "write `rate({number} {unit}s)`: AWS wants the plural above 1"
        )),
        _ => Err(usage),
    }
}

fn is_method(method: &str) -> bool {
    method == "*" || HTTP_METHODS.iter().any(|m| m.eq_ignore_ascii_case(method))
}
