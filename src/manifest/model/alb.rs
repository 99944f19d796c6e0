//! An `alb` event's `conditions` (`path`, `host`, `method`, `header`, `query`, `ip`) as one
//! value, read from the manifest. Deploy writes them as a listener rule's conditions (and reads
//! them back: `provider::aws::triggers::alb`); `offline` matches requests against them.

use std::collections::BTreeMap;

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
