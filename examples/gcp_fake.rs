//! Runs the fake of Google Cloud's control plane (Cloud Functions v2, Cloud Scheduler v1 and
//! Cloud Run IAM) on loopback, so that `updraft plan`, `deploy`, `info` and `remove` can be tried
//! on a `provider.name: google` service with no Google account:
//!
//! ```sh
//! cargo run --example gcp_fake -- --port 9100
//! # in another terminal, with a Cloud Storage emulator for the deploy lock on port 9023
//! # (`python scripts/gcs_emulator.py 9023` in the test environment):
//! UPDRAFT_GCP_ENDPOINT=http://127.0.0.1:9100 UPDRAFT_GCP_STORAGE_ENDPOINT=http://127.0.0.1:9023 \
//!     updraft deploy --config serverless.google.yml
//! ```
//!
//! It prints each request as it comes, and every body that does not fit Google's published
//! API descriptions. Ctrl-C stops it; it keeps nothing on disk. See `docs/gcp.md`.

#[path = "../tests/support/gcp_fake.rs"]
mod gcp_fake;

fn main() {
    let mut port = 9100u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("error: --port needs a port number");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                println!("usage: gcp_fake [--port PORT]   (default 9100; 0 picks a free one)");
                return;
            }
            other => {
                eprintln!("error: unknown argument `{other}` (try --help)");
                std::process::exit(2);
            }
        }
    }
    let fake = gcp_fake::GcpFake::start(port);
    println!("Google Cloud fake listening on {}", fake.url);
    println!("  export UPDRAFT_GCP_ENDPOINT={}", fake.url);
    let mut shown = 0;
    let mut violations_shown = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let log = fake.log();
        for request in &log[shown.min(log.len())..] {
            println!("{request}");
        }
        shown = log.len();
        let violations = fake.violations();
        for violation in &violations[violations_shown.min(violations.len())..] {
            println!("refused, not in the published schema: {violation}");
        }
        violations_shown = violations.len();
    }
}
