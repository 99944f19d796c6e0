//! Asks the cloud for several values at once before resolution starts. The Framework resolves
//! all variables concurrently, so twenty `${ssm:...}` parameters cost about one round trip; the
//! engine resolves one property at a time, and would wait for each in turn.
//!
//! Only references every resolution asks for anyway are fetched early: the first source of a
//! variable, written without nested variables (a fallback is asked only when reached, as the
//! Framework does). Answers go to the engine's cache, and an error is reported only where the
//! value is used, as if it had been asked then.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value as Json;

use super::engine::Engine;
use super::syntax::{Operand, PartKind, Source};
use super::{CloudReference, CloudVariables};
use crate::manifest::node::{Node, Value};

/// How many requests may be under way at once.
const PARALLEL_REQUESTS: usize = 8;

impl Engine<'_, '_> {
    /// Fetches, in parallel, the first-choice cloud values of every pending property.
    pub fn prefetch_cloud(&mut self) {
        let Some(cloud) = self.context.cloud else {
            return;
        };
        let region = self.plain_manifest_region();
        let mut references: Vec<CloudReference> = Vec::new();
        for template in self.pending_templates() {
            for part in &template.parts {
                let PartKind::Variable(sources) = &part.kind else {
                    continue;
                };
                let Some(Source::Reference(reference)) = sources.first() else {
                    continue;
                };
                let params: Option<Vec<Option<String>>> = match &reference.params {
                    None => Some(Vec::new()),
                    Some(params) => params.iter().map(plain).collect(),
                };
                let address = reference.address.as_ref().and_then(plain).flatten();
                let (Some(params), Some(address)) = (params, address) else {
                    continue;
                };
                let found = cloud_reference(&reference.kind, &address, &params, &region);
                if let Some(found) = found {
                    if !references.contains(&found) && !self.cloud_answers.contains_key(&found) {
                        references.push(found);
                    }
                }
            }
        }
        if references.len() < 2 {
            return;
        }
        // One reference per service first: a service that cannot be reached is then not asked
        // again for the others (each would wait for its own time-out).
        let service = |reference: &CloudReference| match reference {
            CloudReference::Ssm { region, .. } => ("ssm", region.clone()),
            CloudReference::CloudFormationOutput { region, .. } => ("cf", region.clone()),
            CloudReference::S3Object { .. } => ("s3", None),
            CloudReference::AccountId => ("sts", None),
        };
        let mut probes: Vec<CloudReference> = Vec::new();
        let mut rest: Vec<CloudReference> = Vec::new();
        for reference in references {
            if probes
                .iter()
                .any(|probe| service(probe) == service(&reference))
            {
                rest.push(reference);
            } else {
                probes.push(reference);
            }
        }
        let probed = fetch_all(cloud, &probes);
        let reachable: Vec<_> = probed
            .iter()
            .filter(|(_, answer)| answer.is_ok())
            .map(|(reference, _)| service(reference))
            .collect();
        rest.retain(|reference| reachable.contains(&service(reference)));
        let fetched = fetch_all(cloud, &rest);
        self.cloud_answers.extend(probed);
        self.cloud_answers.extend(fetched);
    }

    /// The region the sources would use by default when it can be told without resolving
    /// anything: `Some(None)` for the cloud client's own default, `None` when `provider.region`
    /// holds variables (references that depend on it are then not fetched early).
    fn plain_manifest_region(&self) -> Option<Option<String>> {
        if let Some(Json::String(region)) = self.context.options.get("region") {
            if !region.is_empty() {
                return Some(None);
            }
        }
        let Some(node) = self.root.get_path(["provider", "region"]) else {
            return Some(None);
        };
        match &node.value {
            Value::String(text) if text.contains('$') => None,
            Value::String(text) if text.is_empty() => Some(None),
            Value::String(text) => Some(Some(text.clone())),
            Value::Null | Value::Bool(false) => Some(None),
            _ => None,
        }
    }
}

/// Asks for every reference, a few at a time.
fn fetch_all(
    cloud: &dyn CloudVariables,
    references: &[CloudReference],
) -> Vec<(CloudReference, Result<Option<Json>, String>)> {
    let next = AtomicUsize::new(0);
    let answers = Mutex::new(Vec::with_capacity(references.len()));
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_REQUESTS.min(references.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(reference) = references.get(index) else {
                    break;
                };
                let answer = cloud.fetch(reference).map_err(|error| error.message);
                if let Ok(mut answers) = answers.lock() {
                    answers.push((reference.clone(), answer));
                }
            });
        }
    });
    answers.into_inner().unwrap_or_default()
}

/// An operand that needs no resolution, as text (`Some(None)` when empty or null); `None` when
/// it holds variables or is not a scalar.
fn plain(operand: &Operand) -> Option<Option<String>> {
    match operand {
        Operand::Template(_) => None,
        Operand::Value(Json::Null) => Some(None),
        Operand::Value(value) => {
            let text = super::sources::scalar_text(&Node::from_json(value, Default::default()))?;
            Some((!text.is_empty()).then_some(text))
        }
    }
}

/// The reference a cloud source asks for, built as the sources build it.
fn cloud_reference(
    kind: &str,
    address: &str,
    params: &[Option<String>],
    region: &Option<Option<String>>,
) -> Option<CloudReference> {
    let param = |index: usize| params.get(index).cloned().flatten();
    let default_region = || region.clone();
    match kind {
        "ssm" => {
            let first = param(0);
            let raw = first.as_deref() == Some("raw") || param(1).as_deref() == Some("raw");
            let region = match first.filter(|p| p != "raw") {
                Some(region) => Some(region),
                None => default_region()?,
            };
            Some(CloudReference::Ssm {
                name: address.to_string(),
                region,
                raw,
            })
        }
        "cf" => {
            let (stack, output) = address.split_once('.')?;
            let region = match param(0) {
                Some(region) => Some(region),
                None => default_region()?,
            };
            Some(CloudReference::CloudFormationOutput {
                stack: stack.to_string(),
                output: output.to_string(),
                region,
            })
        }
        "s3" => {
            let (bucket, key) = address.split_once('/')?;
            Some(CloudReference::S3Object {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        }
        "aws" if address == "accountId" => Some(CloudReference::AccountId),
        _ => None,
    }
}
