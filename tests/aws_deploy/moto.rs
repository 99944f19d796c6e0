//! The moto emulator for the deploy tests, behind the recording proxy: found through
//! `UPDRAFT_TEST_MOTO_URL`, taken by one test at a time (its state is shared), reset and set to
//! run Lambda without Docker. The code under test reaches it through `AWS_ENDPOINT_URL`, set
//! to the proxy, as a user would point updraft at an emulator.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::proxy::Proxy;

static MOTO_LOCK: Mutex<()> = Mutex::new(());
static PROXY: OnceLock<Proxy> = OnceLock::new();

pub struct Moto {
    pub url: String,
    pub proxy: &'static Proxy,
    _serial: MutexGuard<'static, ()>,
}

/// moto for one test, reset; `None` (after saying so) when `UPDRAFT_TEST_MOTO_URL` is unset.
/// Panics when it is set and moto does not answer.
pub fn moto(test: &str) -> Option<Moto> {
    let Some(url) = std::env::var("UPDRAFT_TEST_MOTO_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "{test}: SKIPPED: UPDRAFT_TEST_MOTO_URL is not set; run `bash scripts/test.sh` to \
             run the AWS tests against a local moto"
        );
        return None;
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
    // Lambda without Docker: functions are stored and "run" by echoing; no container needed.
    post("/moto-api/config", r#"{"lambda":{"use_docker":false}}"#)
        .expect("moto takes its Lambda configuration");
    let proxy = PROXY.get_or_init(|| {
        let proxy = Proxy::start(&url);
        // The code under test reads its endpoint and credentials from the environment, as it
        // does for users; set once, under the lock, before any test touches the SDK.
        std::env::set_var("AWS_ENDPOINT_URL", &proxy.url);
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
        proxy
    });
    proxy.clear();
    Some(Moto {
        url,
        proxy,
        _serial: serial,
    })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// SDK configuration that talks to moto directly (not through the proxy), for seeding and
/// checking independently of the code under test.
pub fn direct_config(runtime: &tokio::runtime::Runtime, moto: &Moto) -> SdkConfig {
    let credentials = aws_sdk_ssm::config::Credentials::new("test", "test", None, None, "test");
    runtime.block_on(
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&moto.url)
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials)
            .load(),
    )
}

pub fn lambda(runtime: &tokio::runtime::Runtime, moto: &Moto) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&direct_config(runtime, moto))
}

pub fn logs(runtime: &tokio::runtime::Runtime, moto: &Moto) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&direct_config(runtime, moto))
}

pub fn iam(runtime: &tokio::runtime::Runtime, moto: &Moto) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&direct_config(runtime, moto))
}
