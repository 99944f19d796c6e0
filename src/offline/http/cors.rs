//! CORS as the Framework configures it on API Gateway: `cors:` on an `http` event (a REST API
//! answers the preflight with a mock `OPTIONS` method) and `provider.httpApi.cors` (an HTTP
//! API answers preflights itself and adds the headers to every response).
//!
//! Offline, REST routes also get `Access-Control-Allow-Origin` on their responses when the
//! handler set none: with proxy integration API Gateway leaves that to the handler, but the
//! Framework's docs tell handlers to set it and serverless-offline adds it, so a browser app
//! that works offline keeps working.
//!
//! `--corsAllowOrigin`, `--corsAllowHeaders`, `--corsExposedHeaders` and
//! `--corsDisallowCredentials` give CORS to the REST routes that configure none ([`CorsDefaults`]).

use serde_json::Value;

use crate::manifest::model::CORS_DEFAULT_HEADERS;

const HTTP_API_METHODS: &[&str] = &["OPTIONS", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    pub origins: Vec<String>,
    pub headers: Vec<String>,
    pub methods: Vec<String>,
    pub credentials: bool,
    pub expose: Vec<String>,
    pub max_age: Option<u64>,
}

/// CORS for the REST routes without `cors:` (the `--cors*` flags), with serverless-offline's
/// defaults for what a flag leaves unsaid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsDefaults {
    pub origins: Vec<String>,
    pub headers: Vec<String>,
    pub expose: Vec<String>,
    pub credentials: bool,
}

impl Default for CorsDefaults {
    fn default() -> Self {
        CorsDefaults {
            origins: vec!["*".into()],
            headers: defaults(&["accept", "content-type", "x-api-key", "authorization"]),
            expose: defaults(&["WWW-Authenticate", "Server-Authorization"]),
            credentials: true,
        }
    }
}

/// A comma-separated flag value as a list (spaces ignored, empty items dropped).
pub fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(text) => Some(text.split(',').map(|s| s.trim().to_string()).collect()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

fn defaults(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Cors {
    /// `cors: true` or `cors: {origin(s), headers, allowCredentials, maxAge, methods}` on an
    /// `http` event; the preflight allows the route's method and `OPTIONS`.
    pub fn from_rest(value: &Value, method: &str) -> Option<Cors> {
        let settings = match value {
            Value::Bool(true) => None,
            Value::Object(map) => Some(map),
            _ => return None,
        };
        let get = |key: &str| settings.and_then(|s| s.get(key));
        let mut methods = strings(get("methods")).unwrap_or_else(|| {
            if method == "ANY" {
                defaults(HTTP_API_METHODS)
            } else {
                vec![method.to_string()]
            }
        });
        if !methods.iter().any(|m| m == "OPTIONS") {
            methods.insert(0, "OPTIONS".to_string());
        }
        Some(Cors {
            origins: strings(get("origins"))
                .or_else(|| strings(get("origin")))
                .unwrap_or_else(|| vec!["*".to_string()]),
            headers: strings(get("headers")).unwrap_or_else(|| defaults(CORS_DEFAULT_HEADERS)),
            methods,
            credentials: get("allowCredentials")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            expose: Vec::new(),
            max_age: get("maxAge").and_then(Value::as_u64),
        })
    }

    /// The defaults' CORS on a REST route with `method`.
    pub fn from_defaults(settings: &CorsDefaults, method: &str) -> Cors {
        let mut methods = if method == "ANY" {
            defaults(HTTP_API_METHODS)
        } else {
            vec![method.to_string()]
        };
        if !methods.iter().any(|m| m == "OPTIONS") {
            methods.insert(0, "OPTIONS".to_string());
        }
        Cors {
            origins: settings.origins.clone(),
            headers: settings.headers.clone(),
            methods,
            credentials: settings.credentials,
            expose: settings.expose.clone(),
            max_age: None,
        }
    }

    /// `provider.httpApi.cors: true` or `{allowedOrigins, allowedHeaders, allowedMethods,
    /// allowCredentials, exposedResponseHeaders, maxAge}`.
    pub fn from_http_api(value: &Value) -> Option<Cors> {
        let settings = match value {
            Value::Bool(true) => None,
            Value::Object(map) => Some(map),
            _ => return None,
        };
        let get = |key: &str| settings.and_then(|s| s.get(key));
        Some(Cors {
            origins: strings(get("allowedOrigins")).unwrap_or_else(|| vec!["*".to_string()]),
            headers: strings(get("allowedHeaders"))
                .unwrap_or_else(|| defaults(CORS_DEFAULT_HEADERS)),
            methods: strings(get("allowedMethods")).unwrap_or_else(|| defaults(HTTP_API_METHODS)),
            credentials: get("allowCredentials")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            expose: strings(get("exposedResponseHeaders")).unwrap_or_default(),
            max_age: get("maxAge").and_then(Value::as_u64),
        })
    }

    /// The `Access-Control-Allow-Origin` for a request's `Origin`, if it is allowed.
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        if self.origins.iter().any(|o| o == "*") {
            // A wildcard cannot go with credentials: echo the origin then, as API Gateway does.
            return match (self.credentials, origin) {
                (true, Some(origin)) => Some(origin.to_string()),
                _ => Some("*".to_string()),
            };
        }
        let origin = origin?;
        self.origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
            .then(|| origin.to_string())
    }

    /// Headers on an ordinary response.
    pub fn response_headers(&self, origin: Option<&str>) -> Vec<(String, String)> {
        let Some(allowed) = self.allow_origin(origin) else {
            return Vec::new();
        };
        let mut headers = vec![("access-control-allow-origin".to_string(), allowed)];
        if self.credentials {
            headers.push(("access-control-allow-credentials".into(), "true".into()));
        }
        if !self.expose.is_empty() {
            headers.push((
                "access-control-expose-headers".into(),
                self.expose.join(","),
            ));
        }
        headers
    }

    /// Headers of the answer to a preflight `OPTIONS`.
    pub fn preflight_headers(&self, origin: Option<&str>) -> Vec<(String, String)> {
        let Some(allowed) = self.allow_origin(origin) else {
            return Vec::new();
        };
        let mut headers = vec![
            ("access-control-allow-origin".to_string(), allowed),
            (
                "access-control-allow-methods".to_string(),
                self.methods.join(","),
            ),
            (
                "access-control-allow-headers".to_string(),
                self.headers.join(","),
            ),
        ];
        if self.credentials {
            headers.push(("access-control-allow-credentials".into(), "true".into()));
        }
        if let Some(max_age) = self.max_age {
            headers.push(("access-control-max-age".into(), max_age.to_string()));
        }
        headers
    }

    /// One preflight answer for a path served by several routes.
    pub fn merge(mut self, other: &Cors) -> Cors {
        for method in &other.methods {
            if !self.methods.contains(method) {
                self.methods.push(method.clone());
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rest_cors_true_allows_any_origin_with_the_framework_headers() {
        let cors = Cors::from_rest(&json!(true), "GET").unwrap_or_else(|| panic!("cors"));
        let headers = cors.preflight_headers(Some("http://app.test"));
        assert!(headers.contains(&("access-control-allow-origin".into(), "*".into())));
        assert!(headers.contains(&("access-control-allow-methods".into(), "OPTIONS,GET".into())));
        assert!(headers
            .iter()
            .any(|(k, v)| k == "access-control-allow-headers" && v.contains("X-Api-Key")));
    }

    #[test]
    fn listed_origins_echo_the_allowed_one_and_refuse_others() {
        let cors = Cors::from_http_api(&json!({
            "allowedOrigins": ["https://a.test"],
            "allowCredentials": true,
            "exposedResponseHeaders": ["X-Total"],
            "maxAge": 600,
        }))
        .unwrap_or_else(|| panic!("cors"));
        assert_eq!(
            cors.allow_origin(Some("https://a.test")).as_deref(),
            Some("https://a.test")
        );
        assert_eq!(cors.allow_origin(Some("https://b.test")), None);
        assert!(cors.response_headers(Some("https://b.test")).is_empty());
        let response = cors.response_headers(Some("https://a.test"));
        assert!(response.contains(&("access-control-allow-credentials".into(), "true".into())));
        assert!(response.contains(&("access-control-expose-headers".into(), "X-Total".into())));
        let preflight = cors.preflight_headers(Some("https://a.test"));
        assert!(preflight.contains(&("access-control-max-age".into(), "600".into())));
    }

    #[test]
    fn false_or_missing_settings_give_no_cors() {
        assert_eq!(Cors::from_rest(&json!(false), "GET"), None);
        assert_eq!(Cors::from_http_api(&json!(false)), None);
    }
}
