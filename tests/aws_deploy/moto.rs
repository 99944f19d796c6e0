//! The moto emulator for the deploy tests, behind the recording proxy: found through
//! `UPDRAFT_TEST_MOTO_URL`, taken by one test at a time (its state is shared), reset and set to
//! run Lambda without Docker. The code under test reaches it through `AWS_ENDPOINT_URL`, set
//! to the proxy, as a user would point updraft at an emulator.

use std::sync::{MutexGuard, OnceLock};

use aws_config::SdkConfig;

use super::proxy::Proxy;

#[path = "../support/moto.rs"]
mod support;
// Not every test binary that includes this file starts a runtime of its own.
#[allow(unused_imports)]
pub use support::{owned, runtime};

static PROXY: OnceLock<Proxy> = OnceLock::new();

pub struct Moto {
    pub url: String,
    pub proxy: &'static Proxy,
    _serial: MutexGuard<'static, ()>,
}

/// moto for one test, reset; panics when it is not configured or does not answer.
pub fn moto(test: &str) -> Moto {
    let taken = support::take(test);
    let proxy = PROXY.get_or_init(|| {
        let proxy = Proxy::start(&taken.url);
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
    Moto {
        url: taken.url,
        proxy,
        _serial: taken.serial,
    }
}

/// SDK configuration that talks to moto directly (not through the proxy), for seeding and
/// checking independently of the code under test.
pub fn direct_config(runtime: &tokio::runtime::Runtime, moto: &Moto) -> SdkConfig {
    support::sdk_config(runtime, &moto.url, "us-east-1")
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
