//! The route table: every `http` and `httpApi` event of the service, where it is served and how a
//! request path finds it.
//!
//! A REST API (`http`) is served under `/{prefix}/{stage}` (the stage left out with
//! `--noPrependStageInUrl`), an HTTP API (`httpApi`) under `/{prefix}` only, as its `$default`
//! stage has no path. Matching follows API Gateway: a literal segment wins over `{param}`, which
//! wins over a greedy `{proxy+}`; a route's own method wins over `ANY`; an HTTP API's `*` route
//! catches what nothing else does.
//!
//! Google and Azure HTTP functions have no stage in their URLs: a Google function is served at
//! its path (`http: hello` at `/hello`), an Azure one under `/api` as the Azure Functions host
//! serves it (`route: hello` at `/api/hello`).

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use super::auth::config::{route_authorizer, RouteAuthorizer};
use super::cors::{Cors, CorsDefaults};
use super::resource_routes::{self, ResourceRouteError};
use super::validation::{RequestValidation, SchemaError};
use crate::manifest::model::{Api, Cloud, Service, Trigger};
use crate::offline::events::PayloadVersion;

/// Where routes are served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteOptions {
    /// Leading path segments before everything (`--prefix`), without slashes.
    pub prefix: Option<String>,
    /// `--noPrependStageInUrl`: serve REST routes without `/{stage}`.
    pub no_prepend_stage: bool,
    /// CORS for REST routes without `cors:` (the `--cors*` flags).
    pub default_cors: Option<CorsDefaults>,
    /// `--resourceRoutes`: serve the `HTTP_PROXY` methods under `resources:`.
    pub resource_routes: bool,
}

/// How the request reaches the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integration {
    /// `lambda-proxy` (the default): the event is the whole request.
    Proxy,
    /// `integration: lambda`: the default request template, the result as the body.
    Lambda,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// One route of the table.
#[derive(Debug, Clone)]
pub struct Route {
    /// The key under `functions:` (a proxied method's logical id).
    pub function: String,
    /// `--resourceRoutes`: the URL an `HTTP_PROXY` method forwards to, instead of a function.
    pub proxy: Option<String>,
    pub version: PayloadVersion,
    /// Upper case, or `ANY`.
    pub method: String,
    /// As declared, with a leading `/` (`*` for an HTTP API's catch-all).
    pub resource: String,
    pub integration: Integration,
    pub cors: Option<Cors>,
    /// The authorizer that runs before the function, if any.
    pub authorizer: Option<RouteAuthorizer>,
    /// `private: true`: a REST route that needs an API key.
    pub private: bool,
    /// `operationId` (or `operationName`) of an `http` event: `requestContext.operationName`.
    pub operation_name: Option<String>,
    /// The request validator of an `http` event with `request.schemas` or required
    /// `request.parameters`.
    pub validation: Option<Arc<RequestValidation>>,
    /// Path segments before the resource: prefix, then the stage for a REST API.
    mount: Vec<String>,
    segments: Vec<Segment>,
}

impl Route {
    /// The path a client calls, as printed: `/dev/users/{id}`.
    pub fn url_path(&self) -> String {
        let mut parts = self.mount.clone();
        if self.resource == "*" {
            parts.push("{default*}".to_string());
        } else {
            parts.extend(
                self.resource
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        format!("/{}", parts.join("/"))
    }

    /// The route as serverless-offline lists it in a 404 answer: `get - /dev/users/{id}`,
    /// `* - /dev/{proxy*}` (its server's lower-case method, `*` for any, `*}` for greedy).
    pub fn listed(&self) -> String {
        let method = if self.method == "ANY" {
            "*".to_string()
        } else {
            self.method.to_ascii_lowercase()
        };
        format!("{method} - {}", self.url_path().replace("+}", "*}"))
    }

    /// Matches a decoded-segment request path; gives the path parameters and the path as the
    /// API sees it (without the mount).
    fn matches(&self, segments: &[&str]) -> Option<(IndexMap<String, String>, String)> {
        let rest = segments.strip_prefix(self.mount_refs().as_slice())?;
        let api_path = format!("/{}", rest.join("/"));
        if self.resource == "*" {
            return Some((IndexMap::new(), api_path));
        }
        let mut parameters = IndexMap::new();
        let mut index = 0;
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => {
                    if rest.get(index) != Some(&literal.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = rest.get(index).filter(|v| !v.is_empty())?;
                    parameters.insert(name.clone(), decode(value));
                }
                Segment::Greedy(name) => {
                    let tail = rest.get(index..).filter(|t| !t.is_empty())?;
                    parameters.insert(name.clone(), decode(&tail.join("/")));
                    return Some((parameters, api_path));
                }
            }
            index += 1;
        }
        (index == rest.len()).then_some((parameters, api_path))
    }

    fn mount_refs(&self) -> Vec<&str> {
        self.mount.iter().map(String::as_str).collect()
    }

    /// Orders candidates: literals over parameters over greedy, own method over `ANY`.
    fn rank(&self) -> (u8, Vec<u8>, u8) {
        let catch_all = u8::from(self.resource == "*");
        let segments = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::Greedy(_) => 2,
            })
            .collect();
        (catch_all, segments, u8::from(self.method == "ANY"))
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_segments(resource: &str) -> Vec<Segment> {
    resource
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => match name.strip_suffix('+') {
                    Some(greedy) => Segment::Greedy(greedy.to_string()),
                    None => Segment::Param(name.to_string()),
                },
                None => Segment::Literal(segment.to_string()),
            },
        )
        .collect()
}

/// What a request found.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found {
        route: &'a Route,
        path_parameters: IndexMap<String, String>,
        /// The path as the API sees it (without prefix and stage).
        api_path: String,
    },
    /// The path exists, with other methods (CORS preflight needs to know).
    OtherMethods(Vec<&'a Route>),
    NotFound,
}

/// Every HTTP route of a service.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub routes: Vec<Route>,
    pub stage: String,
    /// Request schemas that do not compile, by function: their routes go unvalidated.
    pub schema_errors: Vec<(String, SchemaError)>,
    /// Methods under `resources:` that `--resourceRoutes` cannot serve.
    pub resource_errors: Vec<ResourceRouteError>,
}

impl RouteTable {
    pub fn from_service(service: &Service, options: &RouteOptions) -> RouteTable {
        let stage = service.provider.stage.clone();
        let prefix: Vec<String> = options
            .prefix
            .as_deref()
            .unwrap_or_default()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let provider_cors = service.provider.http_api.cors.as_ref();
        let mut routes = Vec::new();
        let mut schema_errors = Vec::new();
        for (key, function) in &service.functions {
            for event in &function.events {
                let Trigger::Http(trigger) = &event.trigger else {
                    continue;
                };
                let settings = event.raw.get(&event.kind);
                let mut mount = prefix.clone();
                let mut validation = None;
                let mut operation_name = None;
                let (version, cors) = match trigger.api {
                    Api::Rest => {
                        match service.provider.cloud {
                            Cloud::Aws if !options.no_prepend_stage => mount.push(stage.clone()),
                            Cloud::Azure => mount.push("api".to_string()),
                            _ => {}
                        }
                        if let Some(request) = settings.and_then(|s| s.get("request")) {
                            let (read, errors) = RequestValidation::from_request(request);
                            validation = read.map(Arc::new);
                            schema_errors.extend(errors.into_iter().map(|e| (key.clone(), e)));
                        }
                        operation_name = settings
                            .and_then(|s| s.get("operationId").or_else(|| s.get("operationName")))
                            .and_then(scalar_text);
                        let cors = match &trigger.cors {
                            Some(cors) => Cors::from_rest(cors, &trigger.method),
                            None => options
                                .default_cors
                                .as_ref()
                                .map(|defaults| Cors::from_defaults(defaults, &trigger.method)),
                        };
                        (PayloadVersion::Rest, cors)
                    }
                    Api::HttpApi => {
                        // The event's own, then the function's `httpApi.payload` (which
                        // serverless-offline reads), then the provider's.
                        let payload = settings
                            .and_then(|s| s.get("payload"))
                            .or_else(|| function.raw.get("httpApi").and_then(|h| h.get("payload")))
                            .and_then(scalar_text)
                            .unwrap_or_else(|| service.provider.http_api.payload.clone());
                        let version = if payload.starts_with('1') {
                            PayloadVersion::HttpApiV1
                        } else {
                            PayloadVersion::V2
                        };
                        (version, provider_cors.and_then(Cors::from_http_api))
                    }
                };
                let integration = match settings
                    .and_then(|s| s.get("integration"))
                    .and_then(Value::as_str)
                {
                    Some("lambda") if trigger.api == Api::Rest => Integration::Lambda,
                    _ => Integration::Proxy,
                };
                routes.push(Route {
                    function: key.clone(),
                    proxy: None,
                    version,
                    method: trigger.method.clone(),
                    resource: trigger.path.clone(),
                    integration,
                    cors,
                    authorizer: route_authorizer(service, trigger),
                    private: trigger.api == Api::Rest
                        && settings.and_then(|s| s.get("private")) == Some(&Value::Bool(true)),
                    operation_name,
                    validation,
                    mount,
                    segments: parse_segments(&trigger.path),
                });
            }
        }
        let mut resource_errors = Vec::new();
        if options.resource_routes {
            let (methods, errors) = resource_routes::read(service.resources.as_ref());
            resource_errors = errors;
            let mut mount = prefix.clone();
            if !options.no_prepend_stage {
                mount.push(stage.clone());
            }
            for method in methods {
                routes.push(Route {
                    function: method.logical_id,
                    proxy: Some(method.uri),
                    version: PayloadVersion::Rest,
                    cors: options
                        .default_cors
                        .as_ref()
                        .map(|defaults| Cors::from_defaults(defaults, &method.method)),
                    method: method.method,
                    resource: method.path.clone(),
                    integration: Integration::Proxy,
                    operation_name: None,
                    validation: None,
                    // API Gateway runs no authorizer before an HTTP_PROXY method here: its
                    // `AuthorizationType` is not read offline.
                    authorizer: None,
                    private: false,
                    mount: mount.clone(),
                    segments: parse_segments(&method.path),
                });
            }
        }
        RouteTable {
            routes,
            stage,
            schema_errors,
            resource_errors,
        }
    }

    /// Every route as serverless-offline lists them in its 404 answer, sorted by path.
    pub fn listed(&self) -> Vec<String> {
        let mut routes: Vec<&Route> = self.routes.iter().collect();
        routes.sort_by_key(|route| route.url_path());
        routes.iter().map(|route| route.listed()).collect()
    }

    /// The best route for a method and a raw request path.
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut candidates: Vec<(&Route, IndexMap<String, String>, String)> = self
            .routes
            .iter()
            .filter_map(|route| {
                let (parameters, api_path) = route.matches(&segments)?;
                Some((route, parameters, api_path))
            })
            .collect();
        candidates.sort_by_key(|(route, _, _)| route.rank());
        let same_method = candidates
            .iter()
            .position(|(route, _, _)| route.method == method || route.method == "ANY");
        match same_method {
            Some(index) => {
                let (route, path_parameters, api_path) = candidates.swap_remove(index);
                Lookup::Found {
                    route,
                    path_parameters,
                    api_path,
                }
            }
            None if candidates.is_empty() => Lookup::NotFound,
            None => Lookup::OtherMethods(candidates.into_iter().map(|(r, _, _)| r).collect()),
        }
    }
}

/// A string or a number as text (YAML leaves `1.0` or `404` unquoted where a text is meant).
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::manifest::source::Span;
    use crate::manifest::Node;

    fn table(functions: Value, provider: Value, options: RouteOptions) -> RouteTable {
        let mut provider_map = json!({"name": "aws", "runtime": "nodejs20.x"});
        if let (Some(target), Some(extra)) = (provider_map.as_object_mut(), provider.as_object()) {
            target.extend(extra.clone());
        }
        let root = Node::from_json(
            &json!({"service": "shop", "provider": provider_map, "functions": functions}),
            Span::default(),
        );
        let service = Service::from_tree(&root).unwrap_or_else(|e| panic!("{e}"));
        RouteTable::from_service(&service, &options)
    }

    fn found<'a>(
        table: &'a RouteTable,
        method: &str,
        path: &str,
    ) -> (&'a str, IndexMap<String, String>, String) {
        match table.lookup(method, path) {
            Lookup::Found {
                route,
                path_parameters,
                api_path,
            } => (route.function.as_str(), path_parameters, api_path),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn rest_routes_are_under_the_stage_and_http_api_routes_are_not() {
        let table = table(
            json!({
                "a": {"handler": "h.a", "events": [{"http": "GET users/{id}"}]},
                "b": {"handler": "h.b", "events": [{"httpApi": "GET /users/{id}"}]},
            }),
            json!({}),
            RouteOptions::default(),
        );
        let (function, parameters, api_path) = found(&table, "GET", "/dev/users/a%20b");
        assert_eq!(function, "a");
        assert_eq!(parameters["id"], "a b");
        assert_eq!(api_path, "/users/a%20b");
        assert_eq!(found(&table, "GET", "/users/7").0, "b");
        assert!(matches!(
            table.lookup("GET", "/prod/users/7"),
            Lookup::NotFound
        ));
        assert_eq!(table.routes[0].url_path(), "/dev/users/{id}");
    }

    #[test]
    fn prefix_and_no_prepend_stage_move_the_mount() {
        let options = RouteOptions {
            prefix: Some("/api/".into()),
            no_prepend_stage: true,
            ..RouteOptions::default()
        };
        let table = table(
            json!({"a": {"handler": "h.a", "events": [{"http": "GET users"}]}}),
            json!({}),
            options,
        );
        assert_eq!(found(&table, "GET", "/api/users").0, "a");
        assert_eq!(table.routes[0].url_path(), "/api/users");
    }

    #[test]
    fn literal_beats_parameter_beats_greedy_and_method_beats_any() {
        let table = table(
            json!({
                "literal": {"handler": "h.a", "events": [{"httpApi": "GET /files/readme"}]},
                "param": {"handler": "h.a", "events": [{"httpApi": "GET /files/{name}"}]},
                "greedy": {"handler": "h.a", "events": [{"httpApi": "ANY /files/{proxy+}"}]},
                "post": {"handler": "h.a", "events": [{"httpApi": "POST /files/{name}"}]},
                "fallback": {"handler": "h.a", "events": [{"httpApi": "*"}]},
            }),
            json!({}),
            RouteOptions::default(),
        );
        assert_eq!(found(&table, "GET", "/files/readme").0, "literal");
        assert_eq!(found(&table, "GET", "/files/other").0, "param");
        assert_eq!(found(&table, "POST", "/files/other").0, "post");
        assert_eq!(found(&table, "DELETE", "/files/other").0, "greedy");
        let (function, parameters, _) = found(&table, "GET", "/files/a/b/c");
        assert_eq!(function, "greedy");
        assert_eq!(parameters["proxy"], "a/b/c");
        assert_eq!(found(&table, "PUT", "/elsewhere").0, "fallback");
    }

    #[test]
    fn greedy_needs_at_least_one_segment_and_other_methods_are_reported() {
        let table = table(
            json!({"a": {"handler": "h.a", "events": [
                {"http": "GET proxy/{proxy+}"},
                {"http": "POST items"},
            ]}}),
            json!({}),
            RouteOptions::default(),
        );
        assert!(matches!(
            table.lookup("GET", "/dev/proxy"),
            Lookup::NotFound
        ));
        assert!(
            matches!(table.lookup("GET", "/dev/items"), Lookup::OtherMethods(r) if r.len() == 1)
        );
    }

    #[test]
    fn payload_version_comes_from_the_event_then_the_provider() {
        let table = table(
            json!({"a": {"handler": "h.a", "events": [
                {"httpApi": {"path": "/one", "method": "get"}},
                {"httpApi": {"path": "/two", "method": "get", "payload": "2.0"}},
                {"http": {"path": "three", "method": "get", "integration": "lambda"}},
            ]}}),
            json!({"httpApi": {"payload": "1.0"}}),
            RouteOptions::default(),
        );
        assert_eq!(table.routes[0].version, PayloadVersion::HttpApiV1);
        assert_eq!(table.routes[1].version, PayloadVersion::V2);
        assert_eq!(table.routes[2].version, PayloadVersion::Rest);
        assert_eq!(table.routes[2].integration, Integration::Lambda);
        assert_eq!(table.routes[0].integration, Integration::Proxy);
    }
}
