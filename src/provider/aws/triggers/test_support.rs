//! Building the desired trigger resources of a manifest written as JSON, for the kinds' unit
//! tests.

use serde_json::Value as Json;

use crate::manifest::model::Service;
use crate::manifest::node::Node;
use crate::manifest::source::Span;
use crate::plan::Desired;
use crate::provider::aws::context::Context;
use crate::provider::ProviderError;

pub struct Fixture {
    pub service: Service,
}

impl Fixture {
    pub fn new(manifest: Json) -> Fixture {
        let root = Node::from_json(&manifest, Span::default());
        match Service::from_tree(&root) {
            Ok(service) => Fixture { service },
            Err(error) => panic!("{error}"),
        }
    }

    /// The service `shop` in us-east-1 with one function `key` (handler `h.handler`) and these
    /// events.
    pub fn one_function(key: &str, events: Json) -> Fixture {
        Fixture::new(serde_json::json!({
            "service": "shop",
            "provider": {"name": "aws", "region": "us-east-1"},
            "functions": {key: {"handler": "h.handler", "events": events}},
        }))
    }

    pub fn desired(&self) -> Result<Vec<Desired>, ProviderError> {
        self.desired_with_exports(&[])
    }

    /// The desired resources when the region's CloudFormation exports are these.
    pub fn desired_with_exports(
        &self,
        exports: &[(&str, &str)],
    ) -> Result<Vec<Desired>, ProviderError> {
        let mut context = Context::new(&self.service, &[], "123456789012", "aws", "deployments");
        context.exports = exports
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        super::desired(&context)
    }
}

/// The one resource of `kind` named `name`.
pub fn find<'a>(resources: &'a [Desired], kind: &str, name: &str) -> &'a Desired {
    match resources
        .iter()
        .find(|r| r.id.kind == kind && r.id.name == name)
    {
        Some(found) => found,
        None => panic!(
            "no {kind} {name} among {:?}",
            resources
                .iter()
                .map(|r| r.id.to_string())
                .collect::<Vec<_>>()
        ),
    }
}

pub fn names(resources: &[Desired], kind: &str) -> Vec<String> {
    resources
        .iter()
        .filter(|r| r.id.kind == kind)
        .map(|r| r.id.name.clone())
        .collect()
}
