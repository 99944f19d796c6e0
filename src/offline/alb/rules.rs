//! Which `alb` event a request reaches: the service's listener rules in priority order, each
//! matching by its `conditions` as an Application Load Balancer compares them.
//!
//! Path patterns are case-sensitive and compared with the path only; host names, header values
//! and query strings are compared without regard to case. In every pattern `*` stands for any
//! run of characters (slashes too) and `?` for one. Within a condition any listed value may
//! match; every condition of a rule must.

use std::net::IpAddr;

use serde_json::Value;

use crate::manifest::model::alb::Conditions;
use crate::manifest::model::{Service, Trigger};
use crate::offline::events::{HttpRequest, ACCOUNT_ID};

/// One `alb` event of the service.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The key under `functions:`.
    pub function: String,
    pub priority: i64,
    pub conditions: Conditions,
    /// The target group's `lambda.multi_value_headers.enabled`.
    pub multi_value_headers: bool,
    pub target_group_arn: String,
}

/// An `alb` event that cannot be served, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("function `{function}`: an alb event is not served offline: {problem}")]
#[diagnostic(
    code(offline::alb_event),
    help("give the event a numeric `priority` and `conditions` (`path`, `method`, `host`, `header`, `query` or `ip`)")
)]
pub struct RuleError {
    pub function: String,
    pub problem: String,
}

/// Every `alb` event of the service, in the order the load balancer evaluates them (lowest
/// priority first); the events that cannot be read, with why.
pub fn from_service(service: &Service) -> (Vec<Rule>, Vec<RuleError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (key, function) in &service.functions {
        for event in &function.events {
            let Trigger::Other { kind, raw } = &event.trigger else {
                continue;
            };
            if kind != "alb" {
                continue;
            }
            match read(&service.name, &service.provider.region, key, raw) {
                Ok(rule) => rules.push(rule),
                Err(problem) => errors.push(RuleError {
                    function: key.clone(),
                    problem,
                }),
            }
        }
    }
    rules.sort_by_key(|rule| rule.priority);
    (rules, errors)
}

fn read(service: &str, region: &str, function: &str, raw: &Value) -> Result<Rule, String> {
    let priority = match raw.get("priority") {
        Some(Value::Number(number)) => number.as_i64(),
        Some(Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    }
    .ok_or("it has no numeric `priority`")?;
    let conditions = Conditions::read(raw.get("conditions"))?;
    let mut group = format!("{service}-{function}");
    group.truncate(32);
    Ok(Rule {
        function: function.to_string(),
        priority,
        conditions,
        multi_value_headers: raw
            .get("multiValueHeaders")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        target_group_arn: format!(
            "arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:targetgroup/{group}/0123456789abcdef"
        ),
    })
}

/// The first rule whose conditions the request meets.
pub fn find<'a>(rules: &'a [Rule], request: &HttpRequest) -> Option<&'a Rule> {
    rules.iter().find(|rule| meets(&rule.conditions, request))
}

fn meets(conditions: &Conditions, request: &HttpRequest) -> bool {
    let any = |patterns: &[String], value: &str, ignore_case: bool| {
        patterns.is_empty()
            || patterns
                .iter()
                .any(|pattern| wildcard(pattern, value, ignore_case))
    };
    let host = request
        .header("host")
        .map(|host| host.rsplit_once(':').map_or(host, |(name, _)| name))
        .unwrap_or_default();
    any(&conditions.path, &request.path, false)
        && any(&conditions.host, host, true)
        && (conditions.method.is_empty() || conditions.method.contains(&request.method))
        && conditions.header.as_ref().is_none_or(|header| {
            request
                .header(&header.name)
                .is_some_and(|value| any(&header.values, value, true))
        })
        && (conditions.query.is_empty() || {
            let pairs = request.query_pairs();
            conditions.query.iter().any(|(key, value)| {
                pairs.iter().any(|(name, given)| {
                    (key.is_empty() || wildcard(key, name, true)) && wildcard(value, given, true)
                })
            })
        })
        && (conditions.ip.is_empty()
            || request.source_ip.parse::<IpAddr>().is_ok_and(|ip| {
                conditions
                    .ip
                    .iter()
                    .filter_map(|block| block.parse::<ipnet::IpNet>().ok())
                    .any(|block| block.contains(&ip))
            }))
}

/// `*` is any run of characters, `?` exactly one.
fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |c: char| {
        if ignore_case {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let pattern: Vec<char> = pattern.chars().map(fold).collect();
    let text: Vec<char> = text.chars().map(fold).collect();
    // The classic two-pointer match with backtracking to the last star: linear in practice
    // and never recursive, whatever the pattern.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            path: path.into(),
            raw_query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            source_ip: "10.1.2.3".into(),
        }
    }

    fn rule(priority: i64, conditions: Value) -> Rule {
        read(
            "shop",
            "us-east-1",
            "f",
            &json!({"priority": priority, "conditions": conditions}),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn wildcards_match_runs_and_single_characters() {
        assert!(wildcard("/users/*", "/users/7/orders", false));
        assert!(wildcard("/v?/items", "/v2/items", false));
        assert!(!wildcard("/v?/items", "/v10/items", false));
        assert!(!wildcard("/Users", "/users", false));
        assert!(wildcard("*.Example.com", "api.example.com", true));
        assert!(wildcard("*", "", false));
    }

    #[test]
    fn the_lowest_priority_that_matches_wins() {
        let mut rules = vec![
            rule(2, json!({"path": "/items*"})),
            rule(1, json!({"path": "/items/special", "method": ["post"]})),
        ];
        rules.sort_by_key(|r| r.priority);
        let post = request("POST", "/items/special", "", &[]);
        assert_eq!(find(&rules, &post).map(|r| r.priority), Some(1));
        let get = request("GET", "/items/special", "", &[]);
        assert_eq!(find(&rules, &get).map(|r| r.priority), Some(2));
        assert!(find(&rules, &request("GET", "/other", "", &[])).is_none());
    }

    #[test]
    fn header_query_host_and_ip_conditions_all_must_hold() {
        let rules = vec![rule(
            1,
            json!({
                "host": "api.*", "header": {"name": "X-Env", "values": ["prod", "stag?"]},
                "query": {"lang": "en*"}, "ip": ["10.0.0.0/8"],
            }),
        )];
        let good = request(
            "GET",
            "/",
            "lang=EN-gb",
            &[("host", "API.test:3003"), ("x-env", "stage")],
        );
        assert!(find(&rules, &good).is_some());
        let mut wrong_header = good.clone();
        wrong_header.headers[1].1 = "dev".into();
        assert!(find(&rules, &wrong_header).is_none());
        let mut wrong_ip = good.clone();
        wrong_ip.source_ip = "192.168.0.1".into();
        assert!(find(&rules, &wrong_ip).is_none());
        let mut no_query = good;
        no_query.raw_query = String::new();
        assert!(find(&rules, &no_query).is_none());
    }

    #[test]
    fn an_event_without_priority_or_conditions_is_reported_not_served() {
        let problem = read("s", "r", "f", &json!({"conditions": {"path": "/"}}));
        assert!(problem.is_err_and(|p| p.contains("priority")));
        let problem = read("s", "r", "f", &json!({"priority": 1}));
        assert!(problem.is_err_and(|p| p.contains("conditions")));
    }
}
