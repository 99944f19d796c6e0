//! `s3` events: Lambda notifications on a bucket, plus the permission for S3 to invoke the
//! function. A bucket the service names without `existing: true` is created (tagged as the
//! service's), as the Framework creates it; an existing bucket is only given notifications.
//!
//! A bucket has one notification configuration, shared with whoever else uses the bucket, so
//! the notification resource (one per bucket) holds only the configurations whose ids start
//! with the service's prefix, and applying it keeps every other one. Notifications are read
//! on the buckets the service created (found by tag) and on the buckets its functions' S3
//! permissions name, so a notification on an existing bucket is found after the event is
//! removed from the manifest, and deleted.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_bucket_notification_configuration::{
    GetBucketNotificationConfigurationError, GetBucketNotificationConfigurationOutput,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Event, FilterRule, FilterRuleName,
    LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
    S3KeyFilter, Tag, Tagging,
};
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::super::kinds::{TagsOnly, Typed};

use super::super::naming::{self, kind};
use super::permission::{self, Grant};
use super::{call_error, concurrently, invalid, EventContext, FunctionEvent, Site};
use crate::manifest::model::Trigger;
use crate::plan::{Action, Desired, Live, Properties, Step};
use crate::provider::aws::call::raw_body;
use crate::provider::aws::context::Context;
use crate::provider::aws::live::LiveContext;
use crate::provider::ProviderError;

/// A bucket created for `s3` events (not the deployment bucket).
pub const BUCKET: &str = "aws.s3.event-bucket";

/// Notification configuration ids of the service start with this.
pub fn configuration_prefix(service: &str, stage: &str) -> String {
    format!("updraft-{}-", naming::prefix(service, stage))
}

pub fn statement_id(bucket: &str) -> String {
    permission::statement_id(&format!("s3-{bucket}"))
}

/// A bucket's notification: the service's own Lambda configurations on it (those whose ids
/// start with its prefix); everything else on the bucket is someone else's and left as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationProperties {
    /// Sorted by id.
    pub lambda_configurations: Vec<LambdaConfiguration>,
}

impl Typed for NotificationProperties {}

/// One Lambda configuration of a bucket's notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaConfiguration {
    pub id: Option<String>,
    /// The function's ARN; a reference to it until apply.
    pub function_arn: Json,
    /// `s3:ObjectCreated:*`...
    pub events: Vec<String>,
    pub filter: Vec<KeyFilter>,
}

/// A key name filter rule: `prefix` or `suffix`, and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyFilter {
    pub name: Option<String>,
    pub value: Json,
}

pub fn desired(
    context: &Context<'_>,
    events: &[FunctionEvent],
) -> Result<Vec<Desired>, ProviderError> {
    let prefix = configuration_prefix(&context.service.name, &context.stage);
    let mut resources = Vec::new();
    // Bucket -> (configurations, what the notification waits for).
    let mut notifications: BTreeMap<
        String,
        (Vec<LambdaConfiguration>, BTreeSet<crate::plan::ResourceId>),
    > = BTreeMap::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut permitted: BTreeSet<(String, String)> = BTreeSet::new();
    for FunctionEvent {
        function,
        event,
        number,
    } in events
    {
        let Trigger::Storage {
            bucket,
            events: kinds,
            rules,
            existing,
        } = &event.trigger
        else {
            continue;
        };
        let Some(bucket) = bucket.as_str().filter(|b| !b.is_empty()) else {
            return Err(invalid(
                function,
                event,
                format!("the bucket {bucket} is not a bucket name"),
                "name the bucket (`bucket: photos`); references to other resources are not \
                 supported yet",
            ));
        };
        if let Err(why) = naming::check_bucket_name(bucket) {
            return Err(invalid(
                function,
                event,
                format!("`{bucket}` is not a valid S3 bucket name: {why}"),
                "name the bucket with 3 to 63 lower-case letters, digits, `-` and `.` (a \
                 placeholder such as `<your-bucket-name>` must be replaced)",
            ));
        }
        let function_id = context.function_id(function)?;
        let entry = notifications.entry(bucket.to_string()).or_default();
        if !existing && created.insert(bucket.to_string()) {
            resources.push(Desired {
                id: naming::id(BUCKET, bucket),
                properties: TagsOnly {
                    tags: context.tags.clone(),
                }
                .to_properties(),
                inputs: Properties::from([("region".to_string(), json!(context.region))]),
                depends_on: BTreeSet::new(),
                replace_when: BTreeSet::new(),
            });
        }
        if !existing {
            entry.1.insert(naming::id(BUCKET, bucket));
        }
        let statement = statement_id(bucket);
        if permitted.insert((function_id.name.clone(), statement.clone())) {
            let grant = permission::desired(Grant {
                function: function_id.clone(),
                statement_id: statement,
                principal: "s3.amazonaws.com".into(),
                source_arn: json!(format!("arn:{}:s3:::{bucket}", context.partition)),
                source: (!existing).then(|| naming::id(BUCKET, bucket)),
            });
            entry.1.insert(grant.id.clone());
            resources.push(grant);
        }
        entry.1.insert(function_id.clone());
        let mut kinds = kinds.clone();
        if kinds.is_empty() {
            kinds.push("s3:ObjectCreated:*".to_string());
        }
        let filter: Vec<KeyFilter> = rules
            .iter()
            .flat_map(|rule| rule.as_object().into_iter().flatten())
            .map(|(name, value)| KeyFilter {
                name: Some(name.to_ascii_lowercase()),
                value: value.clone(),
            })
            .collect();
        entry.0.push(LambdaConfiguration {
            id: Some(format!("{prefix}{}-{number}", function.key)),
            function_arn: context.function_arn(function)?,
            events: kinds,
            filter,
        });
    }
    for (bucket, (mut configurations, depends_on)) in notifications {
        configurations.sort_by(|a, b| a.id.cmp(&b.id));
        resources.push(Desired {
            id: naming::id(kind::BUCKET_NOTIFICATION, &bucket),
            properties: NotificationProperties {
                lambda_configurations: configurations,
            }
            .to_properties(),
            inputs: Properties::from([("prefix".to_string(), json!(prefix))]),
            depends_on,
            replace_when: BTreeSet::new(),
        });
    }
    Ok(resources)
}

/// The buckets the service created, by the tagging API's answer (their ARNs).
pub fn bucket_lives(arns: &[(String, BTreeMap<String, String>)]) -> Vec<Live> {
    arns.iter()
        .filter_map(|(arn, tags)| {
            let name = arn.strip_prefix("arn:aws:s3:::")?;
            Some(Live {
                id: naming::id(BUCKET, name),
                properties: TagsOnly { tags: tags.clone() }.to_properties(),
                attributes: Properties::from([
                    ("arn".to_string(), json!(arn)),
                    ("name".to_string(), json!(name)),
                ]),
                depends_on: BTreeSet::new(),
            })
        })
        .collect()
}

/// The service's notifications on `buckets`. A bucket whose configuration cannot be read is
/// reported to `live` as unread, and the others are still read.
pub async fn live(live: &LiveContext, site: &Site, buckets: BTreeSet<String>) -> Vec<Live> {
    let prefix = configuration_prefix(&site.service, &site.stage);
    let reads = buckets.into_iter().map(|bucket| {
        let client = live.aws.s3.clone();
        let prefix = prefix.clone();
        async move {
            let output = match notification_configuration(&client, &bucket).await {
                Ok(output) => output,
                Err(e) if e.code() == Some("NoSuchBucket") => return Ok(None),
                Err(e) => {
                    return Err((
                        bucket.clone(),
                        call_error("s3:GetBucketNotificationConfiguration", &bucket, &e),
                    ))
                }
            };
            let mut depends_on = BTreeSet::new();
            let mut configurations: Vec<LambdaConfiguration> = output
                .lambda_function_configurations()
                .iter()
                .filter(|c| c.id().is_some_and(|id| id.starts_with(&prefix)))
                .map(|c| {
                    if let Some(function) = super::function_name_of(c.lambda_function_arn()) {
                        depends_on.insert(naming::id(kind::FUNCTION, function));
                        depends_on.insert(naming::id(
                            kind::PERMISSION,
                            permission::name(function, &statement_id(&bucket)),
                        ));
                    }
                    let filter: Vec<KeyFilter> = c
                        .filter()
                        .and_then(|f| f.key())
                        .map(|k| k.filter_rules())
                        .unwrap_or_default()
                        .iter()
                        .map(|r| KeyFilter {
                            name: r.name().map(|n| n.as_str().to_ascii_lowercase()),
                            value: json!(r.value()),
                        })
                        .collect();
                    LambdaConfiguration {
                        id: c.id().map(str::to_string),
                        function_arn: json!(c.lambda_function_arn()),
                        events: c.events().iter().map(|e| e.as_str().to_string()).collect(),
                        filter,
                    }
                })
                .collect();
            if configurations.is_empty() {
                return Ok(None);
            }
            configurations.sort_by(|a, b| a.id.cmp(&b.id));
            depends_on.insert(naming::id(BUCKET, &bucket));
            Ok(Some(Live {
                id: naming::id(kind::BUCKET_NOTIFICATION, &bucket),
                properties: NotificationProperties {
                    lambda_configurations: configurations,
                }
                .to_properties(),
                attributes: Properties::new(),
                depends_on,
            }))
        }
    });
    let mut found = Vec::new();
    for result in concurrently(reads).await {
        match result {
            Ok(notification) => found.extend(notification),
            Err((bucket, error)) => {
                live.report_unread(format!("{} {bucket}", kind::BUCKET_NOTIFICATION), &error)
            }
        }
    }
    found
}

/// Applies a bucket or notification step.
pub async fn apply(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let bucket = step.id.name.clone();
    if step.id.kind == BUCKET {
        return apply_bucket(client, site, step, properties).await;
    }
    let prefix = configuration_prefix(&site.service, &site.stage);
    let current = match notification_configuration(client, &bucket).await {
        Ok(current) => current,
        Err(e) if step.action == Action::Delete && e.code() == Some("NoSuchBucket") => {
            return Ok(Properties::new())
        }
        Err(e) => {
            return Err(call_error(
                "s3:GetBucketNotificationConfiguration",
                &bucket,
                &e,
            ))
        }
    };
    let mut lambda: Vec<LambdaFunctionConfiguration> = current
        .lambda_function_configurations()
        .iter()
        .filter(|c| !c.id().is_some_and(|id| id.starts_with(&prefix)))
        .cloned()
        .collect();
    if step.action != Action::Delete {
        let wanted = NotificationProperties::from_properties(properties, &step.id)?;
        for configuration in &wanted.lambda_configurations {
            lambda.push(lambda_configuration(configuration).map_err(|message| {
                ProviderError::Internal {
                    resource: step.id.clone(),
                    message,
                }
            })?);
        }
    }
    let configuration = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(lambda))
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
        .build();
    client
        .put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(configuration)
        .send()
        .await
        .map_err(|e| call_error("s3:PutBucketNotificationConfiguration", &bucket, &e))?;
    Ok(Properties::new())
}

/// A bucket's notification configuration. Some S3-compatible servers (moto among them) answer
/// a bucket with no notifications with an empty `<GetBucketNotificationResponse/>` instead of an
/// empty `<NotificationConfiguration/>`; that answer means "no notifications", not a failure.
async fn notification_configuration(
    client: &Client,
    bucket: &str,
) -> Result<
    GetBucketNotificationConfigurationOutput,
    SdkError<GetBucketNotificationConfigurationError, HttpResponse>,
> {
    match client
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Err(error)
            if error.code().is_none()
                && raw_body(&error).is_some_and(|body| is_empty_notification_answer(&body)) =>
        {
            Ok(GetBucketNotificationConfigurationOutput::builder().build())
        }
        other => other,
    }
}

/// `<GetBucketNotificationResponse .../>` with nothing inside.
fn is_empty_notification_answer(body: &str) -> bool {
    let body = body.trim();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, after)| after).trim(),
        None => body,
    };
    body.starts_with("<GetBucketNotificationResponse")
        && (body.ends_with("/>") && body.matches('<').count() == 1
            || body.ends_with("</GetBucketNotificationResponse>") && body.matches('<').count() == 2)
}

fn lambda_configuration(
    configuration: &LambdaConfiguration,
) -> Result<LambdaFunctionConfiguration, String> {
    let rules: Vec<FilterRule> = configuration
        .filter
        .iter()
        .map(|rule| {
            FilterRule::builder()
                .set_name(rule.name.as_deref().map(FilterRuleName::from))
                .set_value(rule.value.as_str().map(str::to_string))
                .build()
        })
        .collect();
    let filter = (!rules.is_empty()).then(|| {
        NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    });
    LambdaFunctionConfiguration::builder()
        .set_id(configuration.id.clone())
        .lambda_function_arn(configuration.function_arn.as_str().unwrap_or_default())
        .set_events(Some(
            configuration
                .events
                .iter()
                .map(|event| Event::from(event.as_str()))
                .collect(),
        ))
        .set_filter(filter)
        .build()
        .map_err(|e| e.to_string())
}

async fn apply_bucket(
    client: &Client,
    site: &Site,
    step: &Step,
    properties: &Properties,
) -> Result<Properties, ProviderError> {
    let bucket = step.id.name.clone();
    if step.action == Action::Delete {
        return match client.delete_bucket().bucket(&bucket).send().await {
            Ok(_) => Ok(Properties::new()),
            Err(e) if e.code() == Some("NoSuchBucket") => Ok(Properties::new()),
            Err(e) if e.code() == Some("BucketNotEmpty") => Err(ProviderError::Call {
                operation: "s3:DeleteBucket".to_string(),
                resource: bucket.clone(),
                message: "the bucket still holds objects".to_string(),
                help: format!(
                    "empty it (`aws s3 rm s3://{bucket} --recursive`) and run the command again"
                ),
            }),
            Err(e) => Err(call_error("s3:DeleteBucket", &bucket, &e)),
        };
    }
    if step.action == Action::Create {
        let mut create = client.create_bucket().bucket(&bucket);
        if site.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(site.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) if e.code() == Some("BucketAlreadyExists") => {
                return Err(ProviderError::Call {
                    operation: "s3:CreateBucket".to_string(),
                    resource: bucket.clone(),
                    message: "another AWS account owns a bucket with this name".to_string(),
                    help: "bucket names are global: choose another name, or set `existing: true` \
                           if the bucket is yours"
                        .to_string(),
                })
            }
            Err(e) => return Err(call_error("s3:CreateBucket", &bucket, &e)),
        }
    }
    let tags: Vec<Tag> = TagsOnly::from_properties(properties, &step.id)?
        .tags
        .into_iter()
        .filter_map(|(key, value)| Tag::builder().key(key).value(value).build().ok())
        .collect();
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .map_err(|e| ProviderError::Internal {
            resource: step.id.clone(),
            message: e.to_string(),
        })?;
    client
        .put_bucket_tagging()
        .bucket(&bucket)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| call_error("s3:PutBucketTagging", &bucket, &e))?;
    Ok(Properties::from([
        ("arn".to_string(), json!(format!("arn:aws:s3:::{bucket}"))),
        ("name".to_string(), json!(bucket)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::triggers::test_support::{find, names, Fixture};

    fn fixture(events: Json) -> Fixture {
        Fixture::new(json!({
            "service": "shop",
            "provider": {"name": "aws"},
            "functions": {"resize": {"handler": "h.resize", "events": events}},
        }))
    }

    #[test]
    fn an_empty_get_bucket_notification_response_reads_as_no_notifications() {
        assert!(is_empty_notification_answer(
            r#"<?xml version="1.0" encoding="utf-8"?>
<GetBucketNotificationResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#
        ));
        assert!(is_empty_notification_answer(
            "<GetBucketNotificationResponse></GetBucketNotificationResponse>"
        ));
        assert!(!is_empty_notification_answer(
            "<Error><Code>X</Code></Error>"
        ));
        assert!(!is_empty_notification_answer(
            "<GetBucketNotificationResponse><CloudFunctionConfiguration/></GetBucketNotificationResponse>"
        ));
    }

    #[test]
    fn a_new_bucket_is_created_tagged_and_its_notification_waits_for_the_permission() {
        let resources = fixture(json!([
            {"s3": {"bucket": "photos", "event": "s3:ObjectCreated:Put",
                    "rules": [{"prefix": "uploads/"}, {"suffix": ".jpg"}]}}
        ]))
        .desired()
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&resources, BUCKET), ["photos"]);
        let bucket = find(&resources, BUCKET, "photos");
        assert_eq!(
            bucket.properties["tags"][naming::SERVICE_TAG],
            json!("shop")
        );
        let notification = find(&resources, kind::BUCKET_NOTIFICATION, "photos");
        let configuration = &notification.properties["lambda_configurations"][0];
        assert_eq!(configuration["id"], json!("updraft-shop-dev-resize-1"));
        assert_eq!(configuration["events"], json!(["s3:ObjectCreated:Put"]));
        assert_eq!(
            configuration["filter"],
            json!([{"name": "prefix", "value": "uploads/"}, {"name": "suffix", "value": ".jpg"}])
        );
        let grant = find(
            &resources,
            kind::PERMISSION,
            "shop-dev-resize/updraft-event-s3-photos",
        );
        assert_eq!(grant.properties["source_arn"], json!("arn:aws:s3:::photos"));
        assert!(notification.depends_on.contains(&grant.id));
        assert!(notification.depends_on.contains(&bucket.id));
    }

    #[test]
    fn an_existing_bucket_is_not_created() {
        let resources = fixture(json!([{"s3": {"bucket": "legacy", "existing": true}}]))
            .desired()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(names(&resources, BUCKET).is_empty());
        let notification = find(&resources, kind::BUCKET_NOTIFICATION, "legacy");
        assert_eq!(
            notification.properties["lambda_configurations"][0]["events"],
            json!(["s3:ObjectCreated:*"])
        );
    }
}
