//! The variable sources, each answering as the Framework v3's does: `self`, `opt`, `env`,
//! `file`, `sls`, `param`, `strToBool`, `aws`, and the cloud sources `ssm`, `cf` and `s3`
//! (asked through [`super::CloudVariables`]).
//!
//! A source either finds a value, finds nothing (so a fallback applies: a missing key, an unset
//! environment variable, a null value), or fails (a wrong address, no access to AWS), which no
//! fallback hides.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

use super::engine::{Engine, Site, Stop};
use super::CloudReference;
use crate::manifest::node::{Node, Value};
use crate::manifest::normalize::{DEFAULT_REGION, DEFAULT_STAGE};

/// Every source type this resolver knows.
pub const KNOWN: &[&str] = &[
    "self",
    "opt",
    "env",
    "file",
    "sls",
    "param",
    "strToBool",
    "aws",
    "ssm",
    "cf",
    "s3",
];

pub fn is_known(kind: &str) -> bool {
    KNOWN.contains(&kind)
}

/// One use of a source: its resolved parameters and address.
pub(crate) struct Call<'s> {
    pub kind: &'s str,
    pub params: Option<&'s [Node]>,
    pub address: Option<&'s Node>,
    pub site: &'s Site,
    pub range: Option<(usize, usize)>,
}

impl Call<'_> {
    fn param(&self, index: usize) -> Option<&Node> {
        self.params?.get(index).filter(|node| !node.is_null())
    }

    pub(crate) fn label(&self) -> crate::manifest::source::Span {
        self.site.label(self.range)
    }
}

/// What a source found.
pub(crate) enum Lookup {
    Found(Node),
    /// Nothing there: the next fallback applies. `reason` replaces the usual "Value not found"
    /// when this is the last source.
    Missing {
        reason: Option<String>,
        help: Option<String>,
    },
}

impl Lookup {
    fn missing(help: String) -> Self {
        Lookup::Missing {
            reason: None,
            help: Some(help),
        }
    }
}

/// The per-process id `${sls:instanceId}` gives: the start time in milliseconds, as the
/// Framework's `Date.now()`.
fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis().to_string())
            .unwrap_or_else(|_| "0".into())
    })
}

/// A scalar as text (JavaScript's `String()`); `None` for null, maps and lists.
pub(crate) fn scalar_text(node: &Node) -> Option<String> {
    node.scalar_text()
}

/// The fix for a `${self:...}` that finds nothing. The stage and region defaults are applied
/// after resolution, so `provider.stage` and `provider.region` are unset unless written: the
/// sources that know the defaults are the fix there.
fn missing_self_help(path: &str) -> String {
    match path {
        "provider.stage" => {
            "`provider.stage` is not set, and the default stage is applied only \
            after variables are resolved: use ${sls:stage} (--stage, then provider.stage, then dev)"
                .into()
        }
        "provider.region" => "`provider.region` is not set, and the default region is applied \
            only after variables are resolved: use ${aws:region} (--region, then provider.region, \
            then us-east-1)"
            .into(),
        _ => format!(
            "nothing is set at `{path}` (a null value counts as unset): set it, or add a \
             fallback: ${{self:{path}, 'default'}}"
        ),
    }
}

/// JavaScript truthiness of a configuration value, for "this or the default" choices.
fn truthy(node: &Node) -> bool {
    match &node.value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Int(number) => *number != 0,
        Value::Float(number) => *number != 0.0 && !number.is_nan(),
        Value::String(text) => !text.is_empty(),
        Value::Seq(_) | Value::Map(_) => true,
    }
}

impl Engine<'_, '_> {
    pub(crate) fn source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        match call.kind {
            "self" => self.self_source(call),
            "opt" => self.opt_source(call),
            "env" => self.env_source(call),
            "file" => self.file_source(call),
            "sls" => self.sls_source(call),
            "param" => self.param_source(call),
            "strToBool" => self.str_to_bool(call),
            "aws" => self.aws_source(call),
            "ssm" => self.ssm_source(call),
            "cf" => self.cf_source(call),
            "s3" => self.s3_source(call),
            other => Err(self.fail(
                call.site,
                call.range,
                format!("Unrecognized configuration variable source \"{other}\""),
                None,
            )),
        }
    }

    /// The address as text; `None` when absent or empty.
    fn address(&mut self, call: &Call) -> Result<Option<String>, Stop> {
        let Some(address) = call.address else {
            return Ok(None);
        };
        if address.is_null() {
            return Ok(None);
        }
        match scalar_text(address) {
            Some(text) if text.is_empty() => Ok(None),
            Some(text) => Ok(Some(text)),
            None => Err(self.fail(
                call.site,
                call.range,
                format!(
                    "Non-string address argument in variable \"{}\" source: {}",
                    call.kind,
                    address.to_json()
                ),
                None,
            )),
        }
    }

    fn required_address(&mut self, call: &Call) -> Result<String, Stop> {
        match self.address(call)? {
            Some(address) => Ok(address),
            None => Err(self.fail(
                call.site,
                call.range,
                format!(
                    "Missing address argument in variable \"{}\" source",
                    call.kind
                ),
                Some(format!(
                    "write an address after the colon: ${{{}:...}}",
                    call.kind
                )),
            )),
        }
    }

    fn unsupported_address(&mut self, call: &Call, address: &str, expected: &str) -> Stop {
        self.fail(
            call.site,
            call.range,
            format!(
                "Unsupported \"{address}\" address argument in variable \"{}\" source{expected}",
                call.kind
            ),
            None,
        )
    }

    fn self_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let keys: Vec<String> = match self.address(call)? {
            Some(address) => address.split('.').map(str::to_string).collect(),
            None => Vec::new(),
        };
        Ok(match self.config_value(&keys, call.site)? {
            Some(node) => Lookup::Found(node),
            None => Lookup::missing(missing_self_help(&keys.join("."))),
        })
    }

    fn opt_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let span = call.label();
        let Some(name) = self.address(call)? else {
            let options = Json::Object(self.context.options.clone().into_iter().collect());
            return Ok(Lookup::Found(Node::from_json(&options, span)));
        };
        Ok(match self.context.options.get(&name) {
            Some(value) if !value.is_null() => Lookup::Found(Node::from_json(value, span)),
            // A name the command has no flag for cannot be passed: say what can be.
            _ if !self.context.options.contains_key(&name) => Lookup::missing(format!(
                "updraft has no --{name} option: add a fallback (${{opt:{name}, 'default'}}), or \
                 write ${{param:{name}}} and pass --param {name}=VALUE"
            )),
            _ => Lookup::missing(format!(
                "pass --{name} on the command line, or add a fallback: ${{opt:{name}, 'default'}}"
            )),
        })
    }

    fn env_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let name = self.required_address(call)?;
        Ok(match (self.context.env)(&name) {
            Some(value) => Lookup::Found(Node::string(value, call.label())),
            None => Lookup::missing(format!(
                "set {name} in the environment, or add a fallback: ${{env:{name}, 'default'}}"
            )),
        })
    }

    /// The stage: `--stage`, then `provider.stage`, then `dev`.
    pub(crate) fn effective_stage(&mut self, site: &Site) -> Result<String, Stop> {
        self.option_or_config("stage", &["provider", "stage"], DEFAULT_STAGE, site)
    }

    fn option_or_config(
        &mut self,
        option: &str,
        keys: &[&str],
        default: &str,
        site: &Site,
    ) -> Result<String, Stop> {
        if let Some(Json::String(value)) = self.context.options.get(option) {
            if !value.is_empty() {
                return Ok(value.clone());
            }
        }
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        Ok(self
            .config_value(&keys, site)?
            .filter(truthy)
            .and_then(|node| scalar_text(&node))
            .unwrap_or_else(|| default.to_string()))
    }

    fn sls_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let address = self.required_address(call)?;
        let span = call.label();
        match address.as_str() {
            "instanceId" => Ok(Lookup::Found(Node::string(instance_id(), span))),
            "stage" => Ok(Lookup::Found(Node::string(
                self.effective_stage(call.site)?,
                span,
            ))),
            _ => Err(self.unsupported_address(call, &address, "")),
        }
    }

    fn param_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let name = self.required_address(call)?;
        let span = call.label();
        // `--param` wins (the last one given), then `params.<stage>`, then `params.default`.
        if let Some((_, value)) = self
            .context
            .params
            .iter()
            .rev()
            .find(|(key, _)| *key == name)
        {
            return Ok(Lookup::Found(Node::string(value.trim_end(), span)));
        }
        let stage = self.effective_stage(call.site)?;
        for section in [stage.as_str(), "default"] {
            let keys = ["params".to_string(), section.to_string(), name.clone()];
            if let Some(node) = self.config_value(&keys, call.site)? {
                return Ok(Lookup::Found(node));
            }
        }
        Ok(Lookup::Missing {
            reason: Some(format!(
                "The param \"{name}\" cannot be resolved from CLI options or stage params. If you \
                 are using Serverless Framework Compose, make sure to run commands via Compose so \
                 that all parameters can be resolved"
            )),
            help: Some(format!(
                "pass --param \"{name}=value\", set params.{stage}.{name} or params.default.{name}, \
                 or add a fallback: ${{param:{name}, 'default'}}"
            )),
        })
    }

    fn str_to_bool(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let Some(input) = call.param(0).cloned() else {
            return Err(self.fail(
                call.site,
                call.range,
                "Missing \"strToBool\" input",
                Some("write the value to convert in the parentheses: ${strToBool(true)}".into()),
            ));
        };
        let Some(text) = scalar_text(&input) else {
            return Err(self.fail(
                call.site,
                call.range,
                format!(
                    "Non-string \"strToBool\" input. Received: {}",
                    input.to_json()
                ),
                None,
            ));
        };
        match text.trim().to_lowercase().as_str() {
            "true" | "1" => Ok(Lookup::Found(Node::new(Value::Bool(true), call.label()))),
            "false" | "0" => Ok(Lookup::Found(Node::new(Value::Bool(false), call.label()))),
            _ => Err(self.fail(
                call.site,
                call.range,
                format!(
                    "Invalid \"strToBool\" input: Expected either \"true\", \"false\", \"0\", or \
                     \"1\". Received: {text}"
                ),
                None,
            )),
        }
    }

    fn aws_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let address = self.required_address(call)?;
        match address.as_str() {
            "region" => {
                let region = self.option_or_config(
                    "region",
                    &["provider", "region"],
                    DEFAULT_REGION,
                    call.site,
                )?;
                Ok(Lookup::Found(Node::string(region, call.label())))
            }
            "accountId" => self.cloud(call, CloudReference::AccountId, false),
            _ => Err(self.unsupported_address(call, &address, "")),
        }
    }

    fn ssm_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let name = self.required_address(call)?;
        let first = call.param(0).and_then(scalar_text);
        let second = call.param(1).and_then(scalar_text);
        let raw = first.as_deref() == Some("raw") || second.as_deref() == Some("raw");
        let region = match first.filter(|p| p != "raw" && !p.is_empty()) {
            Some(region) => Some(region),
            None => self.manifest_region(call)?,
        };
        self.cloud(call, CloudReference::Ssm { name, region, raw }, true)
    }

    fn cf_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let address = self.required_address(call)?;
        let Some((stack, output)) = address.split_once('.') else {
            let expected = ". Expected \"<stack-name>.<output-id>\" format";
            return Err(self.unsupported_address(call, &address, expected));
        };
        let region = match call
            .param(0)
            .and_then(scalar_text)
            .filter(|r| !r.is_empty())
        {
            Some(region) => Some(region),
            None => self.manifest_region(call)?,
        };
        let reference = CloudReference::CloudFormationOutput {
            stack: stack.to_string(),
            output: output.to_string(),
            region,
        };
        self.cloud(call, reference, false)
    }

    /// `provider.region` when it decides the region (no `--region`): the Framework asks SSM and
    /// CloudFormation in the service's region. Otherwise the cloud client's own default applies
    /// (`--region`, then the environment, then us-east-1).
    fn manifest_region(&mut self, call: &Call) -> Result<Option<String>, Stop> {
        if let Some(Json::String(region)) = self.context.options.get("region") {
            if !region.is_empty() {
                return Ok(None);
            }
        }
        let keys = ["provider".to_string(), "region".to_string()];
        Ok(self
            .config_value(&keys, call.site)?
            .filter(truthy)
            .and_then(|node| scalar_text(&node)))
    }

    fn s3_source(&mut self, call: &Call) -> Result<Lookup, Stop> {
        let address = self.required_address(call)?;
        let Some((bucket, key)) = address.split_once('/') else {
            let expected = ". Expected \"<bucket-name>/<key>\" format";
            return Err(self.unsupported_address(call, &address, expected));
        };
        let reference = CloudReference::S3Object {
            bucket: bucket.to_string(),
            key: key.to_string(),
        };
        self.cloud(call, reference, true)
    }

    /// Asks the cloud once per distinct reference; secret values are remembered for redaction.
    fn cloud(
        &mut self,
        call: &Call,
        reference: CloudReference,
        secret: bool,
    ) -> Result<Lookup, Stop> {
        let Some(cloud) = self.context.cloud else {
            return Err(self.fail(
                call.site,
                call.range,
                format!(
                    "Variable source \"{}\" reads from AWS, and no AWS access is available here",
                    call.kind
                ),
                Some("run with AWS credentials, or replace this variable with a value".into()),
            ));
        };
        let answer = match self.cloud_answers.get(&reference) {
            Some(answer) => answer.clone(),
            None => {
                let answer = cloud.fetch(&reference).map_err(|error| error.message);
                self.cloud_answers.insert(reference, answer.clone());
                answer
            }
        };
        match answer {
            Ok(Some(value)) => {
                if secret {
                    remember_secrets(&value, &mut self.secrets);
                }
                Ok(Lookup::Found(Node::from_json(&value, call.label())))
            }
            Ok(None) => Ok(Lookup::Missing {
                reason: None,
                help: Some(format!(
                    "AWS answered that this {} value does not exist: create it, fix the name, or \
                     add a fallback",
                    call.kind
                )),
            }),
            Err(message) => Err(self.fail(
                call.site,
                call.range,
                message,
                Some(
                    "updraft could not ask AWS for this value (a fallback does not apply when AWS \
                     cannot be reached): check credentials, region and network access"
                        .into(),
                ),
            )),
        }
    }
}

/// Every text form of a secret value, so no output shows any part of it.
fn remember_secrets(value: &Json, secrets: &mut Vec<String>) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Json::String(text) if !text.is_empty() => {
                if !secrets.contains(text) {
                    secrets.push(text.clone());
                }
            }
            Json::Array(items) => stack.extend(items),
            Json::Object(map) => stack.extend(map.values()),
            Json::Number(_) | Json::Bool(_) | Json::Null | Json::String(_) => {}
        }
    }
    if !value.is_string() {
        let text = value.to_string();
        if !secrets.contains(&text) {
            secrets.push(text);
        }
    }
}
