//! The moto server every AWS test shares: found through `UPDRAFT_TEST_MOTO_URL` (set by
//! `scripts/test.sh`, which starts it), taken by one test at a time (its state is global),
//! reset, and set to run Lambda without Docker. Each test binary wraps this in its own
//! `moto.rs` with what its tests need besides.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

static MOTO_LOCK: Mutex<()> = Mutex::new(());

/// moto, reset and held for one test.
pub struct Taken {
    pub url: String,
    pub serial: MutexGuard<'static, ()>,
}

/// Takes moto for `test`. The tests that need it are `#[ignore]`d, so a plain `cargo test`
/// lists them as ignored; `scripts/test.sh` starts moto and runs them with `--include-ignored`.
/// Panics when `UPDRAFT_TEST_MOTO_URL` is unset or moto does not answer: a test that asked for
/// the emulator never passes without it.
pub fn take(test: &str) -> Taken {
    let Some(url) = std::env::var("UPDRAFT_TEST_MOTO_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        panic!(
            "{test} needs the moto emulator, and UPDRAFT_TEST_MOTO_URL is not set: run \
             `bash scripts/test.sh`, which starts moto and runs this test"
        );
    };
    let url = url.trim_end_matches('/').to_string();
    let serial = MOTO_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let post = |path: &str, body: &str| {
        ureq::post(&format!("{url}{path}"))
            .timeout(Duration::from_secs(10))
            .set("Content-Type", "application/json")
            .send_string(body)
            .map(|_| ())
            .map_err(|error| error.to_string())
    };
    if let Err(error) = post("/moto-api/reset", "") {
        panic!("UPDRAFT_TEST_MOTO_URL is {url}, but moto does not answer POST /moto-api/reset: {error}");
    }
    // Lambda without Docker: functions are stored and Invoke echoes its payload.
    if let Err(error) = post("/moto-api/config", r#"{"lambda":{"use_docker":false}}"#) {
        panic!("moto at {url} refused its Lambda configuration: {error}");
    }
    Taken { url, serial }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// SDK configuration that talks to moto directly, for seeding and checking independently of
/// the code under test.
pub fn sdk_config(runtime: &tokio::runtime::Runtime, url: &str, region: &str) -> SdkConfig {
    let credentials = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test");
    runtime.block_on(
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(url)
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials)
            .load(),
    )
}

/// Every resource carrying updraft's ownership tags for `service` and `stage`, read with the
/// emulator's own APIs (not updraft's): the tagging index, less functions Lambda no longer
/// lists (the index keeps deleted ones for a while), plus IAM roles (which it does not list).
// Not every test binary that includes this file looks at what is owned.
#[allow(dead_code)]
pub fn owned(
    runtime: &tokio::runtime::Runtime,
    config: &SdkConfig,
    service: &str,
    stage: &str,
) -> Vec<String> {
    let tagging = aws_sdk_resourcegroupstagging::Client::new(config);
    let iam = aws_sdk_iam::Client::new(config);
    let lambda = aws_sdk_lambda::Client::new(config);
    let filter = |key: &str, value: &str| {
        aws_sdk_resourcegroupstagging::types::TagFilter::builder()
            .key(key)
            .values(value)
            .build()
    };
    runtime.block_on(async {
        let mut owned: Vec<String> = tagging
            .get_resources()
            .tag_filters(filter("updraft:service", service))
            .tag_filters(filter("updraft:stage", stage))
            .send()
            .await
            .expect("the tagging index")
            .resource_tag_mapping_list()
            .iter()
            .filter_map(|m| m.resource_arn().map(str::to_string))
            .collect();
        let functions: Vec<String> = lambda
            .list_functions()
            .send()
            .await
            .expect("the functions")
            .functions()
            .iter()
            .filter_map(|f| f.function_arn().map(str::to_string))
            .collect();
        owned.retain(|arn| !arn.contains(":lambda:") || functions.contains(arn));
        for role in iam.list_roles().send().await.expect("the roles").roles() {
            let tags = iam
                .list_role_tags()
                .role_name(role.role_name())
                .send()
                .await
                .expect("a role's tags");
            let has = |key: &str, value: &str| {
                tags.tags()
                    .iter()
                    .any(|t| t.key() == key && t.value() == value)
            };
            if has("updraft:service", service) && has("updraft:stage", stage) {
                owned.push(role.arn().to_string());
            }
        }
        owned.sort();
        owned
    })
}
