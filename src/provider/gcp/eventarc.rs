//! The event types of Cloud Functions 1st gen, as the Framework's Google plugin writes them
//! (`event: {eventType, resource}`), and the Eventarc types that Cloud Functions 2nd gen
//! triggers on instead, with how each one's `resource` becomes the trigger's topic or filters.

/// Where a 1st-gen `resource` goes in a 2nd-gen trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceTarget {
    /// `projects/P/topics/T`: the trigger's `pubsubTopic`.
    PubsubTopic,
    /// `projects/_/buckets/B` (or just `B`): an event filter `bucket = B`.
    Bucket,
    /// `projects/P/databases/(default)/documents/PATH`: filters `database` and `document`.
    FirestoreDocument,
    /// `projects/_/instances/I/refs/PATH`: filters `instance` and `ref`.
    DatabaseRef,
}

/// One 1st-gen event type and its 2nd-gen counterpart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub first_gen: &'static str,
    pub eventarc: &'static str,
    pub target: ResourceTarget,
}

const fn map(first_gen: &'static str, eventarc: &'static str, target: ResourceTarget) -> Mapping {
    Mapping {
        first_gen,
        eventarc,
        target,
    }
}

/// The 1st-gen types with a 2nd-gen equivalent (both the legacy `providers/...` and the
/// `google.*` spellings). An Eventarc type written directly is taken as it is.
pub const MAPPINGS: &[Mapping] = &[
    map(
        "providers/cloud.pubsub/eventTypes/topic.publish",
        "google.cloud.pubsub.topic.v1.messagePublished",
        ResourceTarget::PubsubTopic,
    ),
    map(
        "google.pubsub.topic.publish",
        "google.cloud.pubsub.topic.v1.messagePublished",
        ResourceTarget::PubsubTopic,
    ),
    map(
        "google.storage.object.finalize",
        "google.cloud.storage.object.v1.finalized",
        ResourceTarget::Bucket,
    ),
    map(
        "google.storage.object.delete",
        "google.cloud.storage.object.v1.deleted",
        ResourceTarget::Bucket,
    ),
    map(
        "google.storage.object.archive",
        "google.cloud.storage.object.v1.archived",
        ResourceTarget::Bucket,
    ),
    map(
        "google.storage.object.metadataUpdate",
        "google.cloud.storage.object.v1.metadataUpdated",
        ResourceTarget::Bucket,
    ),
    map(
        "providers/cloud.firestore/eventTypes/document.create",
        "google.cloud.firestore.document.v1.created",
        ResourceTarget::FirestoreDocument,
    ),
    map(
        "providers/cloud.firestore/eventTypes/document.update",
        "google.cloud.firestore.document.v1.updated",
        ResourceTarget::FirestoreDocument,
    ),
    map(
        "providers/cloud.firestore/eventTypes/document.delete",
        "google.cloud.firestore.document.v1.deleted",
        ResourceTarget::FirestoreDocument,
    ),
    map(
        "providers/cloud.firestore/eventTypes/document.write",
        "google.cloud.firestore.document.v1.written",
        ResourceTarget::FirestoreDocument,
    ),
    map(
        "providers/google.firebase.database/eventTypes/ref.create",
        "google.firebase.database.ref.v1.created",
        ResourceTarget::DatabaseRef,
    ),
    map(
        "providers/google.firebase.database/eventTypes/ref.update",
        "google.firebase.database.ref.v1.updated",
        ResourceTarget::DatabaseRef,
    ),
    map(
        "providers/google.firebase.database/eventTypes/ref.delete",
        "google.firebase.database.ref.v1.deleted",
        ResourceTarget::DatabaseRef,
    ),
    map(
        "providers/google.firebase.database/eventTypes/ref.write",
        "google.firebase.database.ref.v1.written",
        ResourceTarget::DatabaseRef,
    ),
];

/// The 2nd-gen mapping of a 1st-gen (or already 2nd-gen) event type.
pub fn lookup(event_type: &str) -> Option<Mapping> {
    MAPPINGS
        .iter()
        .find(|mapping| mapping.first_gen == event_type || mapping.eventarc == event_type)
        .copied()
}

/// The event filters (attribute, value) or the topic a `resource` gives, for `target`.
pub fn resource_parts(target: ResourceTarget, resource: &str) -> Option<Vec<(String, String)>> {
    let parts: Vec<&str> = resource.split('/').collect();
    let after = |name: &str| -> Option<String> {
        let index = parts.iter().position(|part| *part == name)?;
        parts.get(index + 1).map(|value| value.to_string())
    };
    match target {
        // The trigger takes the topic's full name, so it must name its project.
        ResourceTarget::PubsubTopic => (resource.starts_with("projects/")
            && after("topics").is_some())
        .then(|| vec![("pubsubTopic".into(), resource.to_string())]),
        ResourceTarget::Bucket => {
            let bucket = if resource.contains('/') {
                after("buckets")?
            } else {
                resource.to_string()
            };
            (!bucket.is_empty()).then(|| vec![("bucket".into(), bucket)])
        }
        ResourceTarget::FirestoreDocument => {
            let database = after("databases")?;
            let index = parts.iter().position(|part| *part == "documents")?;
            let document = parts.get(index + 1..)?.join("/");
            (!document.is_empty())
                .then(|| vec![("database".into(), database), ("document".into(), document)])
        }
        ResourceTarget::DatabaseRef => {
            let instance = after("instances")?;
            let index = parts.iter().position(|part| *part == "refs")?;
            let reference = parts.get(index + 1..)?.join("/");
            (!reference.is_empty()).then(|| {
                vec![
                    ("instance".into(), instance),
                    ("ref".into(), format!("/{reference}")),
                ]
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_gen_types_map_to_their_eventarc_types() {
        assert_eq!(
            lookup("providers/cloud.pubsub/eventTypes/topic.publish").map(|m| m.eventarc),
            Some("google.cloud.pubsub.topic.v1.messagePublished")
        );
        assert_eq!(
            lookup("google.storage.object.finalize").map(|m| m.eventarc),
            Some("google.cloud.storage.object.v1.finalized")
        );
        assert_eq!(
            lookup("google.cloud.storage.object.v1.deleted").map(|m| m.first_gen),
            Some("google.storage.object.delete"),
            "a 2nd-gen type is taken as written"
        );
        assert_eq!(
            lookup("providers/cloud.storage/eventTypes/object.change"),
            None
        );
    }

    #[test]
    fn resources_become_topics_and_filters() {
        assert_eq!(
            resource_parts(ResourceTarget::PubsubTopic, "projects/p/topics/orders"),
            Some(vec![(
                "pubsubTopic".into(),
                "projects/p/topics/orders".into()
            )])
        );
        assert_eq!(
            resource_parts(ResourceTarget::PubsubTopic, "orders"),
            None,
            "a topic needs its project"
        );
        assert_eq!(
            resource_parts(ResourceTarget::Bucket, "projects/_/buckets/uploads"),
            Some(vec![("bucket".into(), "uploads".into())])
        );
        assert_eq!(
            resource_parts(ResourceTarget::Bucket, "uploads"),
            Some(vec![("bucket".into(), "uploads".into())])
        );
        assert_eq!(
            resource_parts(
                ResourceTarget::FirestoreDocument,
                "projects/p/databases/(default)/documents/users/{id}"
            ),
            Some(vec![
                ("database".into(), "(default)".into()),
                ("document".into(), "users/{id}".into())
            ])
        );
        assert_eq!(
            resource_parts(
                ResourceTarget::DatabaseRef,
                "projects/_/instances/app/refs/messages/{id}"
            ),
            Some(vec![
                ("instance".into(), "app".into()),
                ("ref".into(), "/messages/{id}".into())
            ])
        );
    }
}
