//! Runs the fake of Azure's control plane (Resource Manager, the apps' deployment endpoint and
//! their HTTP host) on loopback, so that `updraft plan`, `deploy`, `info`, `invoke` and `remove`
//! can be tried on a `provider.name: azure` service with no Azure account. Blobs (the deploy lock
//! and the deployment container) go to Azurite, which must run beside it:
//!
//! ```sh
//! npx --yes azurite@3.35.0 azurite-blob --inMemoryPersistence --blobPort 10000 &
//! cargo run --example azure_fake -- --port 9200 --blob http://127.0.0.1:10000/devstoreaccount1
//! # then, in another terminal, the variables it prints, and
//! updraft deploy --config serverless.azure.yml
//! ```
//!
//! It prints each request as it comes, and every body that does not fit Azure's published API
//! descriptions. Ctrl-C stops it; it keeps nothing on disk. See `docs/azure.md`.

#[path = "../tests/support/azure_fake.rs"]
mod azure_fake;

fn main() {
    let mut port = 9200u16;
    let mut blob = "http://127.0.0.1:10000/devstoreaccount1".to_string();
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
            "--blob" => match args.next() {
                Some(url) => blob = url,
                None => {
                    eprintln!("error: --blob needs Azurite's blob endpoint URL");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                println!(
                    "usage: azure_fake [--port PORT] [--blob AZURITE_BLOB_URL]\n  \
                     (defaults 9200 and http://127.0.0.1:10000/devstoreaccount1; port 0 picks \
                     a free one)"
                );
                return;
            }
            other => {
                eprintln!("error: unknown argument `{other}` (try --help)");
                std::process::exit(2);
            }
        }
    }
    let fake = azure_fake::AzureFake::start(port, &blob);
    println!("Azure fake listening on {} (blobs at {blob})", fake.url);
    for (name, value) in fake.environment() {
        println!("  export {name}={value}");
    }
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
            println!("refused, not in the published description: {violation}");
        }
        violations_shown = violations.len();
    }
}
