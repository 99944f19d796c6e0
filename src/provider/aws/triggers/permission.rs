//! The Lambda permissions that let an event source invoke a function: one statement in the
//! function's resource policy per source (the HTTP API, the REST API, a rule, a bucket, a
//! topic), with the source's service as principal and its ARN as the condition, as the
//! Framework writes them.
//!
//! Statements updraft adds for events have ids starting with [`STATEMENT_PREFIX`]; the live
//! reader sees only those, so statements added by hand, by other tools or for function URLs
//! stay. A statement cannot change in place: any change replaces it.

use std::collections::BTreeSet;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::Typed;
use super::super::naming::{self, kind};
use crate::plan::{Action, Desired, Live, Properties, ResourceId, Step};
use crate::provider::ProviderError;

use super::{call_error, concurrently};

/// Marks the statements updraft owns.
pub const STATEMENT_PREFIX: &str = "updraft-event-";

/// Statement ids are at most 100 characters of `[A-Za-z0-9_-]`.
pub fn statement_id(parts: &str) -> String {
    let cleaned: String = format!("{STATEMENT_PREFIX}{parts}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    naming::fit(cleaned, 100)
}

/// One source allowed to invoke one function.
pub struct Grant {
    pub function: ResourceId,
    pub statement_id: String,
    /// `apigateway.amazonaws.com`, `events.amazonaws.com`, `logs.{region}.amazonaws.com`...
    pub principal: String,
    /// A literal ARN or a reference to the source's `source_arn`/`arn` attribute.
    pub source_arn: Json,
    /// The source resource, when updraft creates it.
    pub source: Option<ResourceId>,
}

/// A permission's properties: one statement of a function's resource policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionProperties {
    /// The deployed function's name.
    pub function_name: String,
    pub statement_id: String,
    /// `lambda:InvokeFunction` (a list when written so by hand).
    pub action: Json,
    /// The source's service, `events.amazonaws.com`...
    pub principal: String,
    /// The source's ARN; a reference to the source until apply, null when none.
    pub source_arn: Json,
}

impl Typed for PermissionProperties {}

pub fn name(function_name: &str, statement_id: &str) -> String {
    format!("{function_name}/{statement_id}")
}

pub fn desired(grant: Grant) -> Desired {
    let mut depends_on = BTreeSet::from([grant.function.clone()]);
    depends_on.extend(grant.source);
    let properties = PermissionProperties {
        function_name: grant.function.name.clone(),
        statement_id: grant.statement_id.clone(),
        action: json!("lambda:InvokeFunction"),
        principal: grant.principal,
        source_arn: grant.source_arn,
    }
    .to_properties();
    Desired {
        id: naming::id(
            kind::PERMISSION,
            name(&grant.function.name, &grant.statement_id),
        ),
        replace_when: properties.keys().cloned().collect(),
        properties,
        inputs: Properties::new(),
        depends_on,
    }
}

/// The updraft statements in the policies of `functions` (deployed names), read concurrently:
/// Lambda has no call that lists the policies of many functions.
pub async fn live(
    lambda: &aws_sdk_lambda::Client,
    functions: &[String],
) -> Result<Vec<Live>, ProviderError> {
    let reads = functions.iter().map(|function| {
        let lambda = lambda.clone();
        let function = function.clone();
        async move {
            match lambda.get_policy().function_name(&function).send().await {
                Ok(output) => Ok(statements(&function, output.policy().unwrap_or_default())),
                Err(error) if error.code() == Some("ResourceNotFoundException") => Ok(Vec::new()),
                Err(error) => Err(call_error("lambda:GetPolicy", &function, &error)),
            }
        }
    });
    let mut found = Vec::new();
    for result in concurrently(reads).await {
        found.extend(result?);
    }
    Ok(found)
}

/// The live permissions in one function's policy document.
pub fn statements(function: &str, policy: &str) -> Vec<Live> {
    let Ok(document) = serde_json::from_str::<Json>(policy) else {
        return Vec::new();
    };
    let statements = match document.get("Statement") {
        Some(Json::Array(items)) => items.clone(),
        Some(single @ Json::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .filter_map(|statement| {
            let sid = statement.get("Sid")?.as_str()?;
            if !sid.starts_with(STATEMENT_PREFIX) {
                return None;
            }
            let principal = match statement.get("Principal") {
                Some(Json::String(text)) => text.clone(),
                Some(object) => object.get("Service")?.as_str()?.to_string(),
                None => return None,
            };
            let source_arn = statement
                .get("Condition")
                .and_then(|c| c.get("ArnLike"))
                .and_then(|c| c.get("AWS:SourceArn"))
                .cloned()
                .unwrap_or(Json::Null);
            let action = statement.get("Action").cloned().unwrap_or(Json::Null);
            let id = naming::id(kind::PERMISSION, name(function, sid));
            Some(Live {
                id,
                properties: PermissionProperties {
                    function_name: function.to_string(),
                    statement_id: sid.to_string(),
                    action,
                    principal,
                    source_arn,
                }
                .to_properties(),
                attributes: Properties::new(),
                depends_on: BTreeSet::from([naming::id(kind::FUNCTION, function)]),
            })
        })
        .collect()
}

/// Applies one permission step: a statement is removed and added again for any change.
pub async fn apply(
    lambda: &aws_sdk_lambda::Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    if let Some(live) = step.live.as_ref().filter(|_| step.action != Action::Create) {
        let current = PermissionProperties::from_properties(&live.properties, &step.id)?;
        delete(lambda, &current.function_name, &current.statement_id).await?;
    }
    if step.action == Action::Delete {
        return Ok(Properties::new());
    }
    let token = step
        .desired
        .as_ref()
        .and_then(|d| d.inputs.get("event_source_token"))
        .and_then(Json::as_str);
    create(
        lambda,
        &PermissionProperties::from_properties(properties, &step.id)?,
        token,
    )
    .await
}

/// Adds the statement (replacing one left with the same id by an interrupted deploy), limited
/// to `event_source_token` when given (an Alexa skill's id).
pub async fn create(
    lambda: &aws_sdk_lambda::Client,
    wanted: &PermissionProperties,
    event_source_token: Option<&str>,
) -> Result<Properties, ProviderError> {
    let function = &wanted.function_name;
    let statement = &wanted.statement_id;
    let action = match &wanted.action {
        Json::String(action) => action.clone(),
        _ => "lambda:InvokeFunction".to_string(),
    };
    let add = || {
        lambda
            .add_permission()
            .function_name(function)
            .statement_id(statement)
            .action(&action)
            .principal(&wanted.principal)
            .set_source_arn(wanted.source_arn.as_str().map(str::to_string))
            .set_event_source_token(event_source_token.map(str::to_string))
            .send()
    };
    match add().await {
        Ok(_) => {}
        Err(error) if error.code() == Some("ResourceConflictException") => {
            delete(lambda, function, statement).await?;
            add()
                .await
                .map_err(|e| call_error("lambda:AddPermission", function, &e))?;
        }
        Err(error) => return Err(call_error("lambda:AddPermission", function, &error)),
    }
    Ok(Properties::new())
}

pub async fn delete(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    statement: &str,
) -> Result<(), ProviderError> {
    match lambda
        .remove_permission()
        .function_name(function)
        .statement_id(statement)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.code() == Some("ResourceNotFoundException") => Ok(()),
        Err(error) => Err(call_error("lambda:RemovePermission", function, &error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_updraft_statements_are_read_with_their_source() {
        let policy = json!({"Statement": [
            {"Sid": "updraft-event-http-api", "Effect": "Allow", "Action": "lambda:InvokeFunction",
             "Principal": {"Service": "apigateway.amazonaws.com"},
             "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:1:abc/*"}}},
            {"Sid": "added-by-hand", "Principal": {"Service": "sns.amazonaws.com"}}
        ]});
        let live = statements("svc-dev-hello", &policy.to_string());
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].id.name, "svc-dev-hello/updraft-event-http-api");
        assert_eq!(
            live[0].properties["source_arn"],
            json!("arn:aws:execute-api:us-east-1:1:abc/*")
        );
        assert_eq!(
            live[0].properties["principal"],
            json!("apigateway.amazonaws.com")
        );
    }

    #[test]
    fn statement_ids_keep_to_the_allowed_characters_and_length() {
        assert_eq!(statement_id("s3-my.bucket"), "updraft-event-s3-my_bucket");
        assert!(statement_id(&"t".repeat(300)).len() <= 100);
    }
}
