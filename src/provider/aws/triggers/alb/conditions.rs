//! An `alb` event's [`Conditions`] as a listener rule's conditions: written to ALB and read
//! back from it. Both directions go through [`Conditions`], so a rule AWS reports in either of
//! its two forms (the old `Values` list or the per-field configuration) compares equal to what
//! was written.

use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, HttpHeaderConditionConfig, HttpRequestMethodConditionConfig,
    PathPatternConditionConfig, QueryStringConditionConfig, QueryStringKeyValuePair, RuleCondition,
    SourceIpConditionConfig,
};

pub use crate::manifest::model::alb::{Conditions, Header, HELP};

/// [`Conditions`] to and from ALB's rule conditions.
pub trait RuleConditions {
    /// The rule's conditions as ALB takes them, in the Framework's order.
    fn to_rule(&self) -> Vec<RuleCondition>;
    /// A live rule's conditions.
    fn from_rule(conditions: &[RuleCondition]) -> Conditions;
}

impl RuleConditions for Conditions {
    fn to_rule(&self) -> Vec<RuleCondition> {
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

    fn from_rule(conditions: &[RuleCondition]) -> Conditions {
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
