//! CloudFormation intrinsics in the manifest (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, the
//! pseudo parameters `AWS::AccountId`, `AWS::Region`, `AWS::Partition`, `AWS::URLSuffix`,
//! `AWS::StackName`) turned into plan values.
//!
//! A `Ref` or `Fn::GetAtt` that stands alone becomes a plan reference to the resource's
//! attribute (so the plan shows "known after apply" on a first deploy and orders the resource
//! first). Inside `Fn::Join` or `Fn::Sub` a reference cannot stand inside a string, so the
//! attribute must be known before the resource exists (names and ARNs are); the resource is
//! still a dependency. Anything else (`Fn::ImportValue`, `Fn::If`, a `Ref` to a resource the
//! manifest does not define) is an error naming the place.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::context::Context;
use super::stack_template::{attribute_output, ref_output, value_output};
use crate::manifest::source::Span;
use crate::plan::{Reference, ResourceId};
use crate::provider::ProviderError;

/// A value with its intrinsics replaced, and the resources it refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub value: Json,
    pub depends_on: BTreeSet<ResourceId>,
}

/// Where a value is, for messages.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// `functions.enqueue.environment.QUEUE_URL`.
    pub path: &'a str,
    pub span: Option<Span>,
}

impl Context<'_> {
    /// Replaces every intrinsic in `value`.
    pub fn resolve(&self, value: &Json, place: Place<'_>) -> Result<Resolved, ProviderError> {
        let mut depends_on = BTreeSet::new();
        let value = self.walk(value, place, &mut depends_on)?;
        Ok(Resolved { value, depends_on })
    }

    /// Like [`Self::resolve`], for a place that needs a string known before apply.
    pub fn resolve_text(&self, value: &Json, place: Place<'_>) -> Result<Resolved, ProviderError> {
        let mut depends_on = BTreeSet::new();
        let value = Json::String(self.text(value, place, &mut depends_on)?);
        Ok(Resolved { value, depends_on })
    }

    fn walk(
        &self,
        value: &Json,
        place: Place<'_>,
        depends_on: &mut BTreeSet<ResourceId>,
    ) -> Result<Json, ProviderError> {
        match value {
            Json::Array(items) => items
                .iter()
                .map(|item| self.walk(item, place, depends_on))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(map) if map.len() == 1 => {
                let Some((key, argument)) = map.iter().next() else {
                    return Ok(value.clone());
                };
                match key.as_str() {
                    "Ref" => {
                        let name = argument
                            .as_str()
                            .ok_or_else(|| invalid(place, "`Ref` takes a name"))?;
                        if let Some(known) = self.pseudo(name) {
                            return Ok(Json::String(known));
                        }
                        if self.stack.holds(name) {
                            let output = Resolved {
                                value: value.clone(),
                                depends_on: BTreeSet::new(),
                            };
                            return Ok(self.stack_output(ref_output(name), output, depends_on));
                        }
                        let logical = self.logical_named(name, place)?;
                        depends_on.insert(logical.id.clone());
                        Ok(Reference::new(logical.id.clone(), logical.reference).to_json())
                    }
                    "Fn::GetAtt" => {
                        let (name, attribute) = get_att(argument, place)?;
                        if self.stack.resources.contains_key(&name) {
                            let output = Resolved {
                                value: value.clone(),
                                depends_on: BTreeSet::new(),
                            };
                            let key = attribute_output(&name, &attribute);
                            return Ok(self.stack_output(key, output, depends_on));
                        }
                        let logical = self.logical_named(&name, place)?;
                        let Some(attribute) = logical.attributes.get(attribute.as_str()) else {
                            return Err(unsupported(
                                place,
                                &format!("`Fn::GetAtt` attribute `{attribute}` of `{name}`"),
                            ));
                        };
                        depends_on.insert(logical.id.clone());
                        Ok(Reference::new(logical.id.clone(), *attribute).to_json())
                    }
                    "Fn::Join" | "Fn::Sub" if !self.mentions_stack(value) => {
                        Ok(Json::String(self.text(value, place, depends_on)?))
                    }
                    // CloudFormation evaluates these (and joins of the stack's values): the
                    // value comes from a stack output.
                    "Fn::Join" | "Fn::Sub" | "Fn::ImportValue" | "Fn::Select" | "Fn::If"
                    | "Fn::FindInMap" | "Fn::Base64" => {
                        let output = self.stack_expression(value, place)?;
                        let key = value_output(&output.value);
                        Ok(self.stack_output(key, output, depends_on))
                    }
                    other if other.starts_with("Fn::") || other == "Condition" => Err(unsupported(
                        place,
                        &format!("the CloudFormation function `{other}`"),
                    )),
                    _ => Ok(Json::Object(
                        map.iter()
                            .map(|(k, v)| Ok((k.clone(), self.walk(v, place, depends_on)?)))
                            .collect::<Result<_, ProviderError>>()?,
                    )),
                }
            }
            Json::Object(map) => Ok(Json::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.walk(v, place, depends_on)?)))
                    .collect::<Result<_, ProviderError>>()?,
            )),
            other => Ok(other.clone()),
        }
    }

    /// Records an output the stack must give, and refers to it.
    fn stack_output(
        &self,
        key: String,
        output: Resolved,
        depends_on: &mut BTreeSet<ResourceId>,
    ) -> Json {
        depends_on.insert(self.stack.id.clone());
        self.stack_outputs.borrow_mut().insert(key.clone(), output);
        Reference::new(self.stack.id.clone(), key).to_json()
    }

    /// Whether CloudFormation must evaluate `value`: it names a stack resource or parameter, or
    /// uses a function other than `Ref`, `Fn::GetAtt`, `Fn::Join` and `Fn::Sub`.
    fn mentions_stack(&self, value: &Json) -> bool {
        match value {
            Json::Array(items) => items.iter().any(|item| self.mentions_stack(item)),
            Json::Object(map) if map.len() == 1 => {
                let Some((key, argument)) = map.iter().next() else {
                    return false;
                };
                match key.as_str() {
                    "Ref" => argument.as_str().is_some_and(|name| self.stack.holds(name)),
                    "Fn::GetAtt" => match argument {
                        Json::Array(parts) => parts
                            .first()
                            .and_then(Json::as_str)
                            .is_some_and(|name| self.stack.holds(name)),
                        Json::String(dotted) => {
                            self.stack.holds(dotted.split('.').next().unwrap_or(""))
                        }
                        _ => false,
                    },
                    "Fn::Sub" => {
                        let (template, variables) = match argument {
                            Json::Array(parts) => (parts.first(), parts.get(1)),
                            other => (Some(other), None),
                        };
                        template
                            .and_then(Json::as_str)
                            .is_some_and(|t| sub_names(t).iter().any(|n| self.stack.holds(n)))
                            || variables.is_some_and(|v| self.mentions_stack(v))
                    }
                    "Fn::Join" => self.mentions_stack(argument),
                    other if other.starts_with("Fn::") => true,
                    _ => self.mentions_stack(argument),
                }
            }
            Json::Object(map) => map.values().any(|item| self.mentions_stack(item)),
            _ => false,
        }
    }

    /// `value` as the stack's template holds it: what names the stack's own resources,
    /// parameters and pseudo parameters stays for CloudFormation; a `Ref` or `Fn::GetAtt` of
    /// a resource updraft deploys itself (a function, a queue) becomes its value or a
    /// reference to it, and `${Name}` of one inside `Fn::Sub` its known name or ARN.
    pub fn stack_expression(
        &self,
        value: &Json,
        place: Place<'_>,
    ) -> Result<Resolved, ProviderError> {
        let mut depends_on = BTreeSet::new();
        let value = self.in_stack(value, place, &mut depends_on)?;
        Ok(Resolved { value, depends_on })
    }

    fn in_stack(
        &self,
        value: &Json,
        place: Place<'_>,
        depends_on: &mut BTreeSet<ResourceId>,
    ) -> Result<Json, ProviderError> {
        let recurse = |map: &serde_json::Map<String, Json>,
                       depends_on: &mut BTreeSet<ResourceId>|
         -> Result<Json, ProviderError> {
            Ok(Json::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.in_stack(v, place, depends_on)?)))
                    .collect::<Result<_, ProviderError>>()?,
            ))
        };
        match value {
            Json::Array(items) => items
                .iter()
                .map(|item| self.in_stack(item, place, depends_on))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(map) if map.len() == 1 => {
                let Some((key, argument)) = map.iter().next() else {
                    return Ok(value.clone());
                };
                match key.as_str() {
                    "Ref" => {
                        let name = argument
                            .as_str()
                            .ok_or_else(|| invalid(place, "`Ref` takes a name"))?;
                        if name.starts_with("AWS::") || self.stack.holds(name) {
                            return Ok(value.clone());
                        }
                        self.walk(value, place, depends_on)
                    }
                    "Fn::GetAtt" => {
                        let (name, _) = get_att(argument, place)?;
                        if self.stack.holds(&name) {
                            return Ok(value.clone());
                        }
                        self.walk(value, place, depends_on)
                    }
                    "Fn::Sub" => {
                        let (template, variables) = sub_argument(argument, place)?;
                        let mut written = template.to_string();
                        for name in sub_names(template) {
                            let given = variables.is_some_and(|v| v.contains_key(&name));
                            let (logical, attribute) = match name.split_once('.') {
                                Some((logical, attribute)) => (logical, Some(attribute)),
                                None => (name.as_str(), None),
                            };
                            if given || logical.starts_with("AWS::") || self.stack.holds(logical) {
                                continue;
                            }
                            let found = self.logical_named(logical, place)?;
                            let attribute = match attribute {
                                Some(attribute) => {
                                    *found.attributes.get(attribute).ok_or_else(|| {
                                        unsupported(place, &format!("`${{{name}}}` in `Fn::Sub`"))
                                    })?
                                }
                                None => found.reference,
                            };
                            let known = self.known(logical, attribute, place, depends_on)?;
                            written = written.replace(&format!("${{{name}}}"), &known);
                        }
                        match variables {
                            Some(variables) => Ok(json!({"Fn::Sub": [
                                written,
                                recurse(variables, depends_on)?,
                            ]})),
                            None => Ok(json!({ "Fn::Sub": written })),
                        }
                    }
                    _ => recurse(map, depends_on),
                }
            }
            Json::Object(map) => recurse(map, depends_on),
            other => Ok(other.clone()),
        }
    }

    /// A value that must become a string now: scalars, pseudo parameters, known attributes,
    /// joins and substitutions of those.
    fn text(
        &self,
        value: &Json,
        place: Place<'_>,
        depends_on: &mut BTreeSet<ResourceId>,
    ) -> Result<String, ProviderError> {
        let single = value
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next());
        match (value, single) {
            (Json::String(text), _) => Ok(text.clone()),
            (Json::Number(number), _) => Ok(number.to_string()),
            (Json::Bool(flag), _) => Ok(flag.to_string()),
            (_, Some((key, argument))) if key == "Ref" => {
                let name = argument
                    .as_str()
                    .ok_or_else(|| invalid(place, "`Ref` takes a name"))?;
                if let Some(known) = self.pseudo(name) {
                    return Ok(known);
                }
                let logical = self.logical_named(name, place)?;
                self.known(name, logical.reference, place, depends_on)
            }
            (_, Some((key, argument))) if key == "Fn::GetAtt" => {
                let (name, attribute) = get_att(argument, place)?;
                let logical = self.logical_named(&name, place)?;
                let Some(attribute) = logical.attributes.get(attribute.as_str()) else {
                    return Err(unsupported(
                        place,
                        &format!("`Fn::GetAtt` attribute `{attribute}` of `{name}`"),
                    ));
                };
                self.known(&name, attribute, place, depends_on)
            }
            (_, Some((key, argument))) if key == "Fn::Join" => {
                let parts = argument.as_array().filter(|a| a.len() == 2);
                let (Some(separator), Some(items)) = (
                    parts.and_then(|p| p.first()).and_then(Json::as_str),
                    parts.and_then(|p| p.get(1)).and_then(Json::as_array),
                ) else {
                    return Err(invalid(place, "`Fn::Join` takes a separator and a list"));
                };
                let texts = items
                    .iter()
                    .map(|item| self.text(item, place, depends_on))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(texts.join(separator))
            }
            (_, Some((key, argument))) if key == "Fn::Sub" => {
                let (template, variables) = sub_argument(argument, place)?;
                self.substitute(template, variables, place, depends_on)
            }
            (_, Some((key, _))) if key.starts_with("Fn::") => Err(unsupported(
                place,
                &format!("the CloudFormation function `{key}`"),
            )),
            _ => Err(invalid(place, "a text value is needed here")),
        }
    }

    fn substitute(
        &self,
        template: &str,
        variables: Option<&serde_json::Map<String, Json>>,
        place: Place<'_>,
        depends_on: &mut BTreeSet<ResourceId>,
    ) -> Result<String, ProviderError> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            // `${!Literal}` stays as `${Literal}`.
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                return Err(invalid(place, "`Fn::Sub` has a `${` without its `}`"));
            };
            let name = &after[..end];
            let value = if let Some(given) = variables.and_then(|v| v.get(name)) {
                self.text(given, place, depends_on)?
            } else if let Some(known) = self.pseudo(name) {
                known
            } else if let Some((logical, attribute)) = name.split_once('.') {
                let found = self.logical_named(logical, place)?;
                let Some(attribute) = found.attributes.get(attribute) else {
                    return Err(unsupported(place, &format!("`${{{name}}}` in `Fn::Sub`")));
                };
                self.known(logical, attribute, place, depends_on)?
            } else {
                let found = self.logical_named(name, place)?;
                self.known(name, found.reference, place, depends_on)?
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn known(
        &self,
        name: &str,
        attribute: &str,
        place: Place<'_>,
        depends_on: &mut BTreeSet<ResourceId>,
    ) -> Result<String, ProviderError> {
        let logical = self.logical_named(name, place)?;
        let Some(value) = logical.known.get(attribute) else {
            return Err(unsupported(
                place,
                &format!("the `{attribute}` of `{name}` inside `Fn::Join` or `Fn::Sub` (it is only known once `{name}` exists)"),
            ));
        };
        depends_on.insert(logical.id.clone());
        Ok(value.clone())
    }

    fn logical_named(
        &self,
        name: &str,
        place: Place<'_>,
    ) -> Result<&super::context::Logical, ProviderError> {
        self.logical.get(name).ok_or_else(|| ProviderError::Invalid {
            message: format!("`{}` refers to `{name}`, which the service does not define", place.path),
            span: place.span,
            help: "define it under `resources.Resources` (updraft deploys AWS::SQS::Queue there), or refer to a function as `{Key}LambdaFunction` and a layer of `layers:` as `{Key}LambdaLayer`".into(),
        })
    }

    fn pseudo(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::AccountId" => self.account.clone(),
            "AWS::Region" => self.region.clone(),
            "AWS::Partition" => self.partition.clone(),
            "AWS::URLSuffix" if self.region.starts_with("cn-") => "amazonaws.com.cn".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            "AWS::StackName" => self.stack.name.clone(),
            _ => return None,
        })
    }
}

/// `Fn::Sub`'s variables map.
type SubVariables = serde_json::Map<String, Json>;

/// `Fn::Sub`'s template and its variables, if given.
fn sub_argument<'v>(
    argument: &'v Json,
    place: Place<'_>,
) -> Result<(&'v str, Option<&'v SubVariables>), ProviderError> {
    match argument {
        Json::String(template) => Ok((template.as_str(), None)),
        Json::Array(parts) if parts.len() == 2 => Ok((
            parts
                .first()
                .and_then(Json::as_str)
                .ok_or_else(|| invalid(place, "`Fn::Sub` takes a string"))?,
            parts.get(1).and_then(Json::as_object),
        )),
        _ => Err(invalid(
            place,
            "`Fn::Sub` takes a string, or a string and a map",
        )),
    }
}

/// The names `${...}` in an `Fn::Sub` template refers to (not `${!Literal}`).
pub fn sub_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        if !after.starts_with('!') {
            names.push(after[..end].to_string());
        }
        rest = &after[end + 1..];
    }
    names
}

fn get_att(argument: &Json, place: Place<'_>) -> Result<(String, String), ProviderError> {
    match argument {
        Json::Array(parts) if parts.len() == 2 => match (parts[0].as_str(), parts[1].as_str()) {
            (Some(name), Some(attribute)) => Ok((name.to_string(), attribute.to_string())),
            _ => Err(invalid(
                place,
                "`Fn::GetAtt` takes a resource and an attribute name",
            )),
        },
        Json::String(dotted) => match dotted.split_once('.') {
            Some((name, attribute)) => Ok((name.to_string(), attribute.to_string())),
            None => Err(invalid(place, "`Fn::GetAtt` takes `Resource.Attribute`")),
        },
        _ => Err(invalid(
            place,
            "`Fn::GetAtt` takes a resource and an attribute name",
        )),
    }
}

fn invalid(place: Place<'_>, message: &str) -> ProviderError {
    ProviderError::Invalid {
        message: format!("`{}`: {message}", place.path),
        span: place.span,
        help: "write the value as CloudFormation documents it".into(),
    }
}

pub fn unsupported(place: Place<'_>, what: &str) -> ProviderError {
    ProviderError::Unsupported {
        what: format!("{what} (at `{}`)", place.path),
        span: place.span,
        help: "write the value out, or deploy this service with the Serverless Framework until updraft supports it".into(),
    }
}
