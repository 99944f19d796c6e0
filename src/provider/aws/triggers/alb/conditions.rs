//! An `alb` event's `conditions` (`path`, `host`, `method`, `header`, `query`, `ip`) as one
//! value: read from the manifest, written as the listener rule's conditions, and read back from
//! them. Both directions go through [`Conditions`], so a rule AWS reports in either of its two
//! forms (the old `Values` list or the per-field configuration) compares equal to what was
//! written.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, HttpHeaderConditionConfig, HttpRequestMethodConditionConfig,
    PathPatternConditionConfig, QueryStringConditionConfig, QueryStringKeyValuePair, RuleCondition,
    SourceIpConditionConfig,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub const HELP: &str = "write the rule's `conditions`: at least one of `path`, `host`, `method`, \
                        `ip` (each a value or a list), `header: {name, values}` and `query: \
                        {key: value}`";

/// What a request must match for the rule to forward it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    pub path: Vec<String>,
    pub host: Vec<String>,
    /// Upper case, as ALB compares methods.
    pub method: Vec<String>,
    pub header: Option<Header>,
    /// Key to value; a pair without a key has the key `""`.
    pub query: BTreeMap<String, String>,
    /// CIDR blocks.
    pub ip: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub values: Vec<String>,
}

impl Conditions {
    /// The event's `conditions`; a message saying what is wrong otherwise.
    pub fn read(written: Option<&Json>) -> Result<Conditions, String> {
        let Some(written) = written else {
            return Err("it has no `conditions`".into());
        };
        let Some(map) = written.as_object() else {
            return Err("its `conditions` are not a map".into());
        };
        let mut conditions = Conditions::default();
        for (key, value) in map {
            match key.as_str() {
                "path" => conditions.path = texts(key, value)?,
                "host" => conditions.host = texts(key, value)?,
                "method" => {
                    conditions.method = texts(key, value)?
                        .into_iter()
                        .map(|m| m.to_ascii_uppercase())
                        .collect()
                }
                "ip" => conditions.ip = texts(key, value)?,
                "header" => {
                    let name = value.get("name").and_then(Json::as_str);
                    let values = value.get("values").map(|v| texts("header.values", v));
                    match (name, values) {
                        (Some(name), Some(values)) => {
                            conditions.header = Some(Header {
                                name: name.to_string(),
                                values: values?,
                            })
                        }
                        _ => return Err("its `header` condition needs `name` and `values`".into()),
                    }
                }
                "query" => {
                    let Some(pairs) = value.as_object() else {
                        return Err("its `query` condition is not a map of keys to values".into());
                    };
                    for (name, wanted) in pairs {
                        conditions.query.insert(name.clone(), text(wanted));
                    }
                }
                other => {
                    return Err(format!(
                        "`{other}` is not a condition updraft deploys (path, host, method, \
                         header, query, ip)"
                    ))
                }
            }
        }
        if conditions == Conditions::default() {
            return Err("its `conditions` are empty".into());
        }
        Ok(conditions)
    }

    /// The rule's conditions as ALB takes them, in the Framework's order.
    pub fn to_rule(&self) -> Vec<RuleCondition> {
        let mut rule = Vec::new();
        let condition = |field: &str| RuleCondition::builder().field(field);
        if !self.path.is_empty() {
            rule.push(
                condition("path-pattern")
                    .path_pattern_config(
                        PathPatternConditionConfig::builder()
                            .set_values(Some(self.path.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.host.is_empty() {
            rule.push(
                condition("host-header")
                    .host_header_config(
                        HostHeaderConditionConfig::builder()
                            .set_values(Some(self.host.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.method.is_empty() {
            rule.push(
                condition("http-request-method")
                    .http_request_method_config(
                        HttpRequestMethodConditionConfig::builder()
                            .set_values(Some(self.method.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        if let Some(header) = &self.header {
            rule.push(
                condition("http-header")
                    .http_header_config(
                        HttpHeaderConditionConfig::builder()
                            .http_header_name(&header.name)
                            .set_values(Some(header.values.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.query.is_empty() {
            let pairs = self
                .query
                .iter()
                .map(|(key, value)| {
                    QueryStringKeyValuePair::builder()
                        .set_key(Some(key.clone()).filter(|k| !k.is_empty()))
                        .value(value)
                        .build()
                })
                .collect();
            rule.push(
                condition("query-string")
                    .query_string_config(
                        QueryStringConditionConfig::builder()
                            .set_values(Some(pairs))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.ip.is_empty() {
            rule.push(
                condition("source-ip")
                    .source_ip_config(
                        SourceIpConditionConfig::builder()
                            .set_values(Some(self.ip.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        rule
    }

    /// A live rule's conditions.
    pub fn from_rule(conditions: &[RuleCondition]) -> Conditions {
        let mut read = Conditions::default();
        for condition in conditions {
            let legacy = condition.values().to_vec();
            let or_legacy = |values: Option<&[String]>| match values {
                Some(values) if !values.is_empty() => values.to_vec(),
                _ => legacy.clone(),
            };
            match condition.field().unwrap_or_default() {
                "path-pattern" => {
                    read.path = or_legacy(
                        condition
                            .path_pattern_config()
                            .map(PathPatternConditionConfig::values),
                    )
                }
                "host-header" => {
                    read.host = or_legacy(
                        condition
                            .host_header_config()
                            .map(HostHeaderConditionConfig::values),
                    )
                }
                "http-request-method" => {
                    read.method = or_legacy(
                        condition
                            .http_request_method_config()
                            .map(HttpRequestMethodConditionConfig::values),
                    )
                }
                "http-header" => {
                    read.header = condition.http_header_config().map(|config| Header {
                        name: config.http_header_name().unwrap_or_default().to_string(),
                        values: config.values().to_vec(),
                    })
                }
                "query-string" => {
                    read.query = condition
                        .query_string_config()
                        .map(|config| {
                            config
                                .values()
                                .iter()
                                .map(|pair| {
                                    (
                                        pair.key().unwrap_or_default().to_string(),
                                        pair.value().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                }
                "source-ip" => {
                    read.ip = or_legacy(
                        condition
                            .source_ip_config()
                            .map(SourceIpConditionConfig::values),
                    )
                }
                _ => {}
            }
        }
        read
    }
}

/// A condition written as one value or a list of them.
fn texts(key: &str, value: &Json) -> Result<Vec<String>, String> {
    match value {
        Json::Array(items) => Ok(items.iter().map(text).collect()),
        Json::Object(_) | Json::Null => {
            Err(format!("its `{key}` condition is not a value or a list"))
        }
        other => Ok(vec![text(other)]),
    }
}

fn text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}
