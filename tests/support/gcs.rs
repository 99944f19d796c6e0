//! What the Google Cloud tests share: the Cloud Storage emulator that holds the deploy lock
//! (started by `bash scripts/test.sh`, found through `UPDRAFT_TEST_GCS_URL`), a project id of
//! each test's own (so a bucket of its own), and what a service owns in the fake, read with
//! the fake's own view rather than through updraft.

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

use super::gcp_fake::GcpFake;

/// The variable that names the running Cloud Storage emulator.
pub const GCS_URL_VARIABLE: &str = "UPDRAFT_TEST_GCS_URL";

/// The emulator's URL. A test that needs it fails, saying how to get it, when it is not there.
pub fn url() -> String {
    match std::env::var(GCS_URL_VARIABLE) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{GCS_URL_VARIABLE} is not set: these tests need the Cloud Storage emulator; run them \
             with `bash scripts/test.sh`, which starts it (scripts/gcs_emulator.py)"
        ),
    }
}

/// A project id for one test: unique per test and run, within Google's rules (6 to 30
/// lowercase letters, digits and hyphens, starting with a letter).
pub fn project_for(test: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    test.hash(&mut hasher);
    std::process::id().hash(&mut hasher);
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .hash(&mut hasher);
    format!("test-{:016x}", hasher.finish())
}

/// Everything in the fake that carries the ownership marks of `service` and `stage`: functions
/// by their labels, scheduler jobs by their id prefix, and public-invoker bindings of the
/// functions' services. One entry per resource.
pub fn owned(fake: &GcpFake, service: &str, stage: &str) -> Vec<String> {
    let mut owned = Vec::new();
    for (name, function) in fake.functions() {
        let label = |key: &str| {
            function
                .pointer(&format!("/labels/{key}"))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        if label("updraft-service").as_deref() == Some(service)
            && label("updraft-stage").as_deref() == Some(stage)
        {
            owned.push(format!("function {name}"));
            let service_name = function
                .pointer("/serviceConfig/service")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let public = fake.policy(service_name).is_some_and(|policy| {
                policy["bindings"].as_array().is_some_and(|bindings| {
                    bindings.iter().any(|binding| {
                        binding["role"] == "roles/run.invoker"
                            && binding["members"]
                                .as_array()
                                .is_some_and(|m| m.iter().any(|m| m == "allUsers"))
                    })
                })
            });
            if public {
                owned.push(format!("public invoker {service_name}"));
            }
        }
    }
    let prefix = format!("updraft_{service}_{stage}_");
    for name in fake.jobs().keys() {
        if name
            .rsplit('/')
            .next()
            .is_some_and(|id| id.starts_with(&prefix))
        {
            owned.push(format!("job {name}"));
        }
    }
    owned
}
