//! `custom.serverless-offline` in the manifest: the options serverless-offline reads from the
//! service, so a service that sets `httpPort: 4000` or `noPrependStageInUrl: true` there runs
//! the same under `updraft offline`. A command-line flag wins over the manifest, as it does for
//! serverless-offline.
//!
//! Ports and seconds may be written as numbers or strings (serverless-offline's options are
//! strings on its command line). An option updraft does not have is named in a warning rather
//! than ignored in silence.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;

/// What `custom.serverless-offline` sets; `None` where it is silent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestOptions {
    pub host: Option<IpAddr>,
    pub http_port: Option<u16>,
    pub lambda_port: Option<u16>,
    pub alb_port: Option<u16>,
    pub websocket_port: Option<u16>,
    pub prefix: Option<String>,
    pub no_prepend_stage_in_url: Option<bool>,
    pub no_auth: Option<bool>,
    pub ignore_jwt_signature: Option<bool>,
    pub no_timeout: Option<bool>,
    pub local_environment: Option<bool>,
    pub https_protocol: Option<String>,
    pub cors_allow_origin: Option<String>,
    pub cors_allow_headers: Option<String>,
    pub cors_exposed_headers: Option<String>,
    pub cors_disallow_credentials: Option<bool>,
    pub terminate_idle_lambda_time: Option<u64>,
    pub resource_routes: Option<bool>,
    pub web_socket_hard_timeout: Option<u64>,
    pub web_socket_idle_timeout: Option<u64>,
    /// serverless-offline's `reloadHandler`: updraft's `--reload`.
    pub reload: Option<bool>,
}

/// An option of `custom.serverless-offline` that updraft does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum OptionWarning {
    #[error("custom.serverless-offline.{name} is not used: {why}")]
    #[diagnostic(
        code(offline::option_not_used),
        help("remove it, or see docs/offline.md for what updraft does instead")
    )]
    NotUsed { name: String, why: &'static str },
    #[error("custom.serverless-offline.{name} is not {expected}: it is ignored")]
    #[diagnostic(code(offline::option_type), help("write {name} as {expected}"))]
    WrongType {
        name: String,
        expected: &'static str,
    },
}

/// Options updraft leaves aside on purpose, with why.
const NOT_USED: &[(&str, &str)] = &[
    (
        "useDocker",
        "functions run as local processes, never in Docker",
    ),
    (
        "dockerHost",
        "functions run as local processes, never in Docker",
    ),
    (
        "dockerHostServicePath",
        "functions run as local processes, never in Docker",
    ),
    (
        "dockerNetwork",
        "functions run as local processes, never in Docker",
    ),
    (
        "dockerReadOnly",
        "functions run as local processes, never in Docker",
    ),
    ("layersDir", "layers are not downloaded offline"),
    ("useInProcess", "every function runs in its own process"),
    ("useWorkerThreads", "every function runs in its own process"),
    (
        "preLoadModules",
        "every function runs in its own process, which loads its own modules",
    ),
    (
        "disableCookieValidation",
        "cookies are passed to functions as sent, never validated",
    ),
    (
        "enforceSecureCookies",
        "cookies are passed to functions as sent",
    ),
];

/// Reads `custom.serverless-offline` from the service's `custom` section.
pub fn read(custom: Option<&Value>) -> (ManifestOptions, Vec<OptionWarning>) {
    let mut options = ManifestOptions::default();
    let mut warnings = Vec::new();
    let Some(map) = custom
        .and_then(|c| c.get("serverless-offline"))
        .and_then(Value::as_object)
    else {
        return (options, warnings);
    };
    for (name, value) in map {
        let mut wrong = |expected: &'static str| {
            warnings.push(OptionWarning::WrongType {
                name: name.clone(),
                expected,
            })
        };
        macro_rules! set {
            ($field:ident, $reader:ident, $expected:literal) => {
                match $reader(value) {
                    Some(read) => options.$field = Some(read),
                    None => wrong($expected),
                }
            };
        }
        match name.as_str() {
            "host" => set!(host, address, "an IP address (or localhost)"),
            "httpPort" => set!(http_port, port, "a port number"),
            "lambdaPort" => set!(lambda_port, port, "a port number"),
            "albPort" => set!(alb_port, port, "a port number"),
            "websocketPort" => set!(websocket_port, port, "a port number"),
            "prefix" => set!(prefix, text, "a text"),
            "noPrependStageInUrl" => set!(no_prepend_stage_in_url, flag, "true or false"),
            "noAuth" => set!(no_auth, flag, "true or false"),
            "ignoreJWTSignature" => set!(ignore_jwt_signature, flag, "true or false"),
            "noTimeout" => set!(no_timeout, flag, "true or false"),
            "localEnvironment" => set!(local_environment, flag, "true or false"),
            "httpsProtocol" => set!(https_protocol, text, "a directory"),
            "corsAllowOrigin" => set!(cors_allow_origin, text, "a text"),
            "corsAllowHeaders" => set!(cors_allow_headers, text, "a text"),
            "corsExposedHeaders" => set!(cors_exposed_headers, text, "a text"),
            "corsDisallowCredentials" => set!(cors_disallow_credentials, flag, "true or false"),
            "terminateIdleLambdaTime" => {
                set!(terminate_idle_lambda_time, seconds, "a number of seconds")
            }
            "webSocketHardTimeout" => set!(web_socket_hard_timeout, seconds, "a number of seconds"),
            "webSocketIdleTimeout" => set!(web_socket_idle_timeout, seconds, "a number of seconds"),
            "reloadHandler" => set!(reload, flag, "true or false"),
            // updraft prints no sponsor message: nothing to turn off, nothing to warn about.
            "noSponsor" => {}
            // `resourceRoutes: true`, or a map of per-method overrides (which turns them on).
            "resourceRoutes" => match value {
                Value::Bool(on) => options.resource_routes = Some(*on),
                Value::Object(_) => options.resource_routes = Some(true),
                _ => wrong("true, false or a map of methods"),
            },
            other => warnings.push(OptionWarning::NotUsed {
                name: other.to_string(),
                why: NOT_USED
                    .iter()
                    .find(|(known, _)| *known == other)
                    .map(|(_, why)| *why)
                    .unwrap_or("serverless-offline has no such option"),
            }),
        }
    }
    (options, warnings)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn address(value: &Value) -> Option<IpAddr> {
    match value.as_str()?.trim() {
        "localhost" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        other => other.parse().ok(),
    }
}

fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(on) => Some(*on),
        Value::String(text) => match text.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn port(value: &Value) -> Option<u16> {
    seconds(value).and_then(|number| u16::try_from(number).ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ports_as_numbers_or_strings_and_flags_are_read() {
        let custom = json!({"serverless-offline": {
            "httpPort": 4000, "lambdaPort": "4002", "noPrependStageInUrl": true,
            "prefix": "api", "terminateIdleLambdaTime": "30", "resourceRoutes": {"M": {}},
            "host": "localhost",
        }});
        let (options, warnings) = read(Some(&custom));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(options.http_port, Some(4000));
        assert_eq!(options.lambda_port, Some(4002));
        assert_eq!(options.no_prepend_stage_in_url, Some(true));
        assert_eq!(options.prefix.as_deref(), Some("api"));
        assert_eq!(options.terminate_idle_lambda_time, Some(30));
        assert_eq!(options.resource_routes, Some(true));
        assert_eq!(options.websocket_port, None);
        assert_eq!(options.host, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn docker_options_and_unknown_names_and_bad_values_are_warned_about() {
        let custom = json!({"serverless-offline": {
            "useDocker": true, "httpPorts": 1, "httpPort": 70000, "noAuth": "yes",
        }});
        let (options, warnings) = read(Some(&custom));
        assert_eq!(options, ManifestOptions::default());
        let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("useDocker") && t.contains("Docker")),
            "{text:?}"
        );
        assert!(text
            .iter()
            .any(|t| t.contains("httpPorts") && t.contains("no such option")));
        assert!(text
            .iter()
            .any(|t| t.contains("httpPort is not a port number")));
        assert!(text
            .iter()
            .any(|t| t.contains("noAuth is not true or false")));
    }

    #[test]
    fn a_service_without_the_section_sets_nothing() {
        assert_eq!(read(None), (ManifestOptions::default(), Vec::new()));
        assert_eq!(
            read(Some(&json!({"other": 1}))),
            (ManifestOptions::default(), Vec::new())
        );
    }
}
