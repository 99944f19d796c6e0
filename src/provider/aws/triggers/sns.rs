//! `sns` events: a Lambda subscription to a topic, plus the permission for SNS to invoke the
//! function. A topic given by name is created (tagged as the service's), as the Framework
//! creates it; a topic given by ARN or as a reference to a `resources:` topic is only
//! subscribed to.
//!
//! Topics the service created are found by tag; subscriptions by one `ListSubscriptions`
//! listing, kept when their endpoint is one of the service's functions. A subscription's filter
//! policy is read only for those.

use std::collections::BTreeSet;

use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::Tag;
use aws_sdk_sns::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::{TagChange, TagsOnly, Typed};
use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{
    arn_name, attribute, call_error, concurrently, function_name_of, invalid, EventContext,
    FunctionEvent,
};
use crate::manifest::model::Trigger;
use crate::plan::{Action, Desired, Live, Properties, Reference, ResourceId, Step};
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

pub fn subscription_name(function_name: &str, topic_name: &str) -> String {
    format!("{function_name}/{topic_name}")
}

pub fn statement_id(topic_name: &str) -> String {
    permission::statement_id(&format!("sns-{topic_name}"))
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let mut resources = Vec::new();
    let mut topics: BTreeSet<String> = BTreeSet::new();
    let mut permitted: BTreeSet<(String, String)> = BTreeSet::new();
    for FunctionEvent {
        function, event, ..
    } in events
    {
        let Trigger::Topic {
            topic,
            filter_policy,
        } = &event.trigger
        else {
            continue;
        };
        let function_id = context.function_id(function)?;
        let (resolved, refers_to) = context.resolve_event(topic, function, event)?;
        let mut depends_on = BTreeSet::from([function_id.clone()]);
        depends_on.extend(refers_to);
        let (topic_arn, topic_name, source): (Json, String, Option<ResourceId>) =
            match (&resolved, Reference::from_json(&resolved)) {
                (_, Some(reference)) => {
                    depends_on.insert(reference.resource.clone());
                    let name = reference.resource.name.clone();
                    (resolved.clone(), name, Some(reference.resource))
                }
                (Json::String(arn), None) if arn.starts_with("arn:") => {
                    (json!(arn), arn_name(arn).to_string(), None)
                }
                (Json::String(name), None) if !name.is_empty() => {
                    let id = naming::id(kind::TOPIC, name);
                    if topics.insert(name.clone()) {
                        resources.push(Desired {
                            id: id.clone(),
                            properties: TagsOnly {
                                tags: context.tags.clone(),
                            }
                            .to_properties(),
                            inputs: Properties::new(),
                            depends_on: BTreeSet::new(),
                            replace_when: BTreeSet::new(),
                        });
                    }
                    depends_on.insert(id.clone());
                    (
                        Reference::new(id.clone(), "arn").to_json(),
                        name.clone(),
                        Some(id),
                    )
                }
                _ => {
                    return Err(invalid(
                        function,
                        event,
                        format!("the topic {topic} is neither a name nor an ARN"),
                        "give the topic's name (updraft creates it) or its ARN",
                    ))
                }
            };
        let statement = statement_id(&topic_name);
        if permitted.insert((function_id.name.clone(), statement.clone())) {
            resources.push(permission::desired(Grant {
                function: function_id.clone(),
                statement_id: statement,
                principal: "sns.amazonaws.com".into(),
                source_arn: topic_arn.clone(),
                source: source.clone(),
            }));
        }
        let properties = SubscriptionProperties {
            topic_arn,
            protocol: "lambda".to_string(),
            endpoint: context.function_arn(function)?,
            filter_policy: filter_policy.clone().unwrap_or(Json::Null),
        }
        .to_properties();
        resources.push(Desired {
            id: naming::id(
                kind::SUBSCRIPTION,
                subscription_name(&function_id.name, &topic_name),
            ),
            // A subscription cannot change in place.
            replace_when: properties.keys().cloned().collect(),
            properties,
            inputs: Properties::new(),
            depends_on,
        });
    }
    Ok(resources)
}

/// The topics the service created, from the tagging API's answer (ARN and tags).
pub fn topic_lives(tagged: &[(String, std::collections::BTreeMap<String, String>)]) -> Vec<Live> {
    tagged
        .iter()
        .map(|(arn, tags)| Live {
            id: naming::id(kind::TOPIC, arn_name(arn)),
            properties: TagsOnly { tags: tags.clone() }.to_properties(),
            attributes: Properties::from([("arn".to_string(), json!(arn))]),
            depends_on: BTreeSet::new(),
        })
        .collect()
}

/// The subscriptions of `functions` (the service's deployed function names).
pub async fn live(
    client: &Client,
    functions: &BTreeSet<String>,
) -> Result<Vec<Live>, ProviderError> {
    let mut ours = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_subscriptions()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| call_error("sns:ListSubscriptions", "subscriptions", &e))?;
        for subscription in page.subscriptions() {
            let (Some(arn), Some(topic), Some(endpoint)) = (
                subscription.subscription_arn(),
                subscription.topic_arn(),
                subscription.endpoint(),
            ) else {
                continue;
            };
            let Some(function) = function_name_of(endpoint) else {
                continue;
            };
            if subscription.protocol() == Some("lambda") && functions.contains(function) {
                ours.push((
                    arn.to_string(),
                    topic.to_string(),
                    endpoint.to_string(),
                    function.to_string(),
                ));
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let reads = ours.into_iter().map(|(arn, topic, endpoint, function)| {
        let client = client.clone();
        async move {
            let attributes = client
                .get_subscription_attributes()
                .subscription_arn(&arn)
                .send()
                .await
                .map_err(|e| call_error("sns:GetSubscriptionAttributes", &arn, &e))?;
            let filter_policy = attributes
                .attributes()
                .and_then(|a| a.get("FilterPolicy"))
                .filter(|p| !p.is_empty())
                .and_then(|p| serde_json::from_str::<Json>(p).ok())
                .unwrap_or(Json::Null);
            let topic_name = arn_name(&topic).to_string();
            Ok::<Live, ProviderError>(Live {
                id: naming::id(
                    kind::SUBSCRIPTION,
                    subscription_name(&function, &topic_name),
                ),
                properties: SubscriptionProperties {
                    topic_arn: json!(topic),
                    protocol: "lambda".to_string(),
                    endpoint: json!(endpoint),
                    filter_policy,
                }
                .to_properties(),
                attributes: Properties::from([("arn".to_string(), json!(arn))]),
                depends_on: BTreeSet::from([
                    naming::id(kind::FUNCTION, &function),
                    naming::id(kind::TOPIC, &topic_name),
                ]),
            })
        }
    });
    concurrently(reads).await.into_iter().collect()
}

/// A subscription's properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionProperties {
    /// The topic's ARN; a reference to a topic the service creates until apply.
    pub topic_arn: Json,
    /// `lambda`.
    pub protocol: String,
    /// The function's ARN; a reference to it until apply.
    pub endpoint: Json,
    /// Null when none.
    pub filter_policy: Json,
}

impl Typed for SubscriptionProperties {}

pub async fn apply(
    client: &Client,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let live = step.live.as_ref();
    let resource = step.id.to_string();
    match step.id.kind.as_str() {
        kind::TOPIC => match step.action {
            Action::Delete => {
                let arn = attribute(live, "arn").unwrap_or_default();
                match client.delete_topic().topic_arn(&arn).send().await {
                    Ok(_) => Ok(Properties::new()),
                    Err(e) if e.code() == Some("NotFound") => Ok(Properties::new()),
                    Err(e) => Err(call_error("sns:DeleteTopic", &resource, &e)),
                }
            }
            Action::Update => {
                let arn = attribute(live, "arn").unwrap_or_default();
                let current = TagsOnly::live_of(step)?.map(|c| c.tags).unwrap_or_default();
                let wanted = TagsOnly::from_properties(properties, &step.id)?;
                let (topic, resource) = (&arn, &resource);
                TagChange::between(&current, &wanted.tags)
                    .send(
                        |remove| async move {
                            client
                                .untag_resource()
                                .resource_arn(topic)
                                .set_tag_keys(Some(remove))
                                .send()
                                .await
                                .map(|_| ())
                                .map_err(|e| call_error("sns:UntagResource", resource, &e))
                        },
                        |set| async move {
                            client
                                .tag_resource()
                                .resource_arn(topic)
                                .set_tags(Some(tags(set.into_iter())))
                                .send()
                                .await
                                .map(|_| ())
                                .map_err(|e| call_error("sns:TagResource", resource, &e))
                        },
                    )
                    .await?;
                Ok(Properties::from([("arn".to_string(), json!(arn))]))
            }
            _ => {
                // CreateTopic returns the existing topic for the same name and tags.
                let created = client
                    .create_topic()
                    .name(&step.id.name)
                    .set_tags(Some(tags(
                        TagsOnly::from_properties(properties, &step.id)?
                            .tags
                            .into_iter(),
                    )))
                    .send()
                    .await
                    .map_err(|e| call_error("sns:CreateTopic", &resource, &e))?;
                Ok(Properties::from([(
                    "arn".to_string(),
                    json!(created.topic_arn()),
                )]))
            }
        },
        _ => {
            if matches!(step.action, Action::Delete | Action::Replace) {
                let arn = attribute(live, "arn").unwrap_or_default();
                match client.unsubscribe().subscription_arn(&arn).send().await {
                    Ok(_) => {}
                    Err(e) if e.code() == Some("NotFound") => {}
                    Err(e) => return Err(call_error("sns:Unsubscribe", &resource, &e)),
                }
                if step.action == Action::Delete {
                    return Ok(Properties::new());
                }
            }
            let wanted = SubscriptionProperties::from_properties(properties, &step.id)?;
            let mut subscribe = client
                .subscribe()
                .set_topic_arn(wanted.topic_arn.as_str().map(str::to_string))
                .protocol(&wanted.protocol)
                .set_endpoint(wanted.endpoint.as_str().map(str::to_string))
                .return_subscription_arn(true);
            if !wanted.filter_policy.is_null() {
                subscribe = subscribe.attributes("FilterPolicy", wanted.filter_policy.to_string());
            }
            let created = subscribe
                .send()
                .await
                .map_err(|e| call_error("sns:Subscribe", &resource, &e))?;
            Ok(Properties::from([(
                "arn".to_string(),
                json!(created.subscription_arn()),
            )]))
        }
    }
}

fn tags(pairs: impl Iterator<Item = (String, String)>) -> Vec<Tag> {
    pairs
        .filter_map(|(key, value)| Tag::builder().key(key).value(value).build().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, names, Fixture};

    #[test]
    fn a_topic_by_name_is_created_and_one_by_arn_is_only_subscribed_to() {
        let fixture = Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"notify": {"handler": "h.notify", "events": [
                {"sns": "orders"},
                {"sns": {"arn": "arn:aws:sns:us-east-1:123456789012:billing",
                         "filterPolicy": {"kind": ["invoice"]}}},
            ]}},
        }));
        let resources = fixture.desired().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&resources, kind::TOPIC), ["orders"]);
        let created = find(&resources, kind::SUBSCRIPTION, "shop-dev-notify/orders");
        assert_eq!(
            created.properties["topic_arn"],
            Reference::new(naming::id(kind::TOPIC, "orders"), "arn").to_json()
        );
        let given = find(&resources, kind::SUBSCRIPTION, "shop-dev-notify/billing");
        assert_eq!(
            given.properties["topic_arn"],
            json!("arn:aws:sns:us-east-1:123456789012:billing")
        );
        assert_eq!(
            given.properties["filter_policy"],
            json!({"kind": ["invoice"]})
        );
        let grant = find(
            &resources,
            kind::PERMISSION,
            "shop-dev-notify/updraft-event-sns-billing",
        );
        assert_eq!(grant.properties["principal"], json!("sns.amazonaws.com"));
    }
}
