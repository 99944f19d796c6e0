//! API keys of `private: true` REST routes: the values in `provider.apiGateway.apiKeys`
//! (strings, `{name, value}`, or grouped by usage plan), or, when none has a value, the one key
//! serverless-offline generates, so scripts written for it keep working.

use serde_json::Value;

use super::Refusal;
use crate::manifest::model::Service;
use crate::offline::events::HttpRequest;

/// The key serverless-offline prints when the service sets none (the MD5 of nothing).
pub const GENERATED_KEY: &str = "d41d8cd98f00b204e9800998ecf8427e";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeys {
    values: Vec<String>,
}

impl ApiKeys {
    pub fn from_service(service: &Service) -> ApiKeys {
        let mut values = Vec::new();
        if let Some(keys) = service
            .provider
            .api_gateway
            .as_ref()
            .and_then(|gateway| gateway.get("apiKeys"))
        {
            collect(keys, &mut values);
        }
        values.dedup();
        if values.is_empty() {
            values.push(GENERATED_KEY.to_string());
        }
        ApiKeys { values }
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The request's `x-api-key`, if it is one of the keys.
    pub fn check(&self, request: &HttpRequest) -> Result<String, Refusal> {
        match request.header("x-api-key") {
            Some(key) if self.values.iter().any(|value| value == key) => Ok(key.to_string()),
            _ => Err(Refusal::Forbidden),
        }
    }
}

/// Strings, `{name, value}` maps, and `{plan: [keys]}` usage-plan groups; a key without a value
/// is one AWS would generate at deploy, which cannot be known offline.
fn collect(keys: &Value, values: &mut Vec<String>) {
    match keys {
        Value::String(value) if !value.is_empty() => values.push(value.clone()),
        Value::Array(items) => items.iter().for_each(|item| collect(item, values)),
        Value::Object(map) if map.contains_key("name") || map.contains_key("value") => {
            if let Some(value) = map.get("value").and_then(Value::as_str) {
                if !value.is_empty() {
                    values.push(value.to_string());
                }
            }
        }
        Value::Object(plans) => plans.values().for_each(|group| collect(group, values)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_come_from_strings_objects_and_usage_plans() {
        let mut values = Vec::new();
        collect(
            &json!([
                "plain-key-1234567890",
                {"name": "named", "value": "named-key-1234567890"},
                {"name": "generated-at-deploy"},
                {"free": ["free-key-1234567890", {"name": "x", "value": "free-obj-1234567890"}]},
            ]),
            &mut values,
        );
        assert_eq!(
            values,
            [
                "plain-key-1234567890",
                "named-key-1234567890",
                "free-key-1234567890",
                "free-obj-1234567890"
            ]
        );
    }
}
