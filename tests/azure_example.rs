//! The Azure example service (`examples/azure/serverless.yml`) through the `updraft` binary, as
//! a user without an Azure account tries it: the fake of Azure's control plane and Azurite for
//! the blobs. A deploy creates the resource group, storage account, Flex Consumption plan and
//! Function App and publishes the package; a second deploy changes nothing and sends only reads
//! (the recorded request log; the lock is in Azurite); one app setting changes with one PUT of
//! the settings, keeping a setting set in the portal, and waits out a 409 and a 429; `deploy
//! function` publishes the package alone; `info` shows the URLs; `invoke` reaches HTTP and
//! queue functions with the right keys; `remove` leaves nothing.

mod common;

#[path = "support/azure_fake.rs"]
mod azure_fake;

#[path = "support/azurite.rs"]
mod azurite;

use std::path::Path;

use azure_fake::{AzureFake, SUBSCRIPTION};

/// A copy of the example service in a scratch directory, under a service name of its own (so
/// its own lock blob in the Azurite the tests share).
fn example_copy(service: &str) -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/azure");
    let dir = tempfile::tempdir().expect("a scratch directory");
    std::fs::create_dir(dir.path().join("handlers")).expect("the handlers directory");
    for name in [
        "serverless.yml",
        "package.json",
        "handlers/http.js",
        "handlers/jobs.js",
    ] {
        std::fs::copy(source.join(name), dir.path().join(name)).expect("a copy");
    }
    let manifest = dir.path().join("serverless.yml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    std::fs::write(
        &manifest,
        text.replace(
            "service: updraft-example\n",
            &format!("service: {service}\n"),
        ),
    )
    .expect("the manifest is renamed");
    dir
}

struct Session {
    fake: AzureFake,
    dir: tempfile::TempDir,
    app: String,
}

impl Session {
    fn start(service: &str) -> Session {
        Session {
            fake: AzureFake::start(0, &azurite::url()),
            dir: example_copy(service),
            app: format!("{service}-dev"),
        }
    }

    fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> common::Run {
        let environment = self.fake.environment();
        let mut env: Vec<(&str, &str)> = environment
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        env.extend_from_slice(extra);
        common::updraft(self.dir.path(), args, &env)
    }

    fn run(&self, args: &[&str]) -> common::Run {
        self.run_with(args, &[])
    }

    fn succeeds_with(&self, args: &[&str], extra: &[(&str, &str)]) -> common::Run {
        let run = self.run_with(args, extra);
        assert_eq!(
            run.status,
            Some(0),
            "updraft {args:?} fails:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        run
    }

    fn succeeds(&self, args: &[&str]) -> common::Run {
        self.succeeds_with(args, &[])
    }

    /// The request log since the last call, with the subscription written as SUB.
    fn requests(&self) -> Vec<String> {
        let log = self
            .fake
            .log()
            .iter()
            .map(|request| request.to_string().replace(SUBSCRIPTION, "SUB"))
            .collect();
        self.fake.clear_log();
        log
    }

    /// The requests since the last call that change something.
    fn changes(&self) -> Vec<String> {
        let changes = self
            .fake
            .log()
            .iter()
            .filter(|request| !request.is_read())
            .map(|request| request.to_string().replace(SUBSCRIPTION, "SUB"))
            .collect();
        self.fake.clear_log();
        changes
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(
                self.fake.violations(),
                Vec::<String>::new(),
                "bodies Azure would refuse"
            );
        }
    }
}

fn zip_names(zip: Vec<u8>) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).expect("an entry").name().to_string())
        .collect();
    names.sort();
    names
}

#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn the_azure_example_deploys_plans_no_op_changes_one_setting_and_removes_clean() {
    let session = Session::start("azex");
    let app = session.app.clone();
    session.succeeds(&["deploy", "--yes"]);
    assert_eq!(
        session.fake.owned("azex", "dev"),
        [
            "Microsoft.Resources/resourceGroups azex-dev-rg".to_string(),
            format!(
                "Microsoft.Storage/storageAccounts {}",
                storage_name(&session)
            ),
            "Microsoft.Web/serverfarms azex-dev-plan".to_string(),
            "Microsoft.Web/sites azex-dev".to_string(),
        ]
    );
    let site = session
        .fake
        .resource(&format!("/sites/{app}"))
        .expect("the app");
    assert_eq!(site["kind"], "functionapp,linux");
    assert_eq!(
        site["properties"]["functionAppConfig"]["runtime"],
        serde_json::json!({"name": "node", "version": "20"})
    );
    assert_eq!(
        site["properties"]["functionAppConfig"]["scaleAndConcurrency"]["instanceMemoryMB"],
        2048
    );
    assert_eq!(site["tags"]["team"], "examples");
    let settings = session.fake.app_settings(&app).expect("the settings");
    assert_eq!(settings["GREETING"], "hello");
    assert_eq!(settings["STAGE"], "dev");
    assert!(settings.contains_key("AzureWebJobsStorage"));
    assert_eq!(
        zip_names(
            session
                .fake
                .package_of(&app)
                .expect("the package was published")
        ),
        [
            "handlers/http.js",
            "handlers/jobs.js",
            "hello/function.json",
            "host.json",
            "package.json",
            "report/function.json",
            "shout/function.json",
            "worker/function.json",
        ]
    );

    // A second deploy changes nothing, and only reads (the lock is in Azurite).
    session.requests();
    let again = session.succeeds(&["deploy", "--yes"]);
    assert!(
        format!("{}{}", again.stdout, again.stderr).contains("No changes"),
        "{}\n{}",
        again.stdout,
        again.stderr
    );
    // Sorted: the resources are read concurrently, so their order varies.
    let mut requests = session.requests();
    requests.sort();
    insta::assert_snapshot!("no_op_deploy_requests", requests.join("\n"));
    let plan = session.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status, Some(0), "{}\n{}", plan.stdout, plan.stderr);

    // One app setting: one PUT of the settings map, which keeps what the portal set; a 409
    // (another operation on the app) is waited out, a 429 retried.
    session
        .fake
        .set_app_setting(&app, "FROM_THE_PORTAL", "kept");
    let plan = session.run_with(&["plan", "--detailed-exitcode"], &[("GREETING", "hi")]);
    assert_eq!(plan.status, Some(2), "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(r#"appSettings.GREETING: "hello" -> "hi""#),
        "{}",
        plan.stdout
    );
    session.fake.fail_next("PUT", "/config/appsettings", 409, 1);
    session.fake.fail_next("GET", "/sites/", 429, 1);
    session.requests();
    session.succeeds_with(&["deploy", "--yes"], &[("GREETING", "hi")]);
    let settings_path = format!(
        "PUT /subscriptions/SUB/resourceGroups/azex-dev-rg/providers/Microsoft.Web/sites/{app}/config/appsettings?api-version=2024-04-01"
    );
    assert_eq!(
        session.changes(),
        [settings_path.clone(), settings_path],
        "refused once with 409, then applied; nothing else changes"
    );
    let settings = session.fake.app_settings(&app).expect("the settings");
    assert_eq!(settings["GREETING"], "hi");
    assert_eq!(settings["FROM_THE_PORTAL"], "kept");
    let plan = session.run_with(&["plan", "--detailed-exitcode"], &[("GREETING", "hi")]);
    assert_eq!(plan.status, Some(0), "{}\n{}", plan.stdout, plan.stderr);

    // `deploy function -f`: the app's package goes again (Flex Consumption deploys an app's
    // functions together), then the code hash goes on the app's tags.
    std::fs::write(
        session.dir.path().join("handlers/jobs.js"),
        "module.exports.worker = async () => {};\nmodule.exports.report = async () => {};\n",
    )
    .expect("new code");
    session.requests();
    session.succeeds_with(
        &["deploy", "function", "-f", "worker", "--yes"],
        &[("GREETING", "hi")],
    );
    let changes = session.changes();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        changes[0].starts_with(&format!("POST /scm/{app}/api/publish")),
        "{changes:?}"
    );
    assert!(
        changes[1].contains("/providers/Microsoft.Resources/tags/default"),
        "{changes:?}"
    );

    // `info` shows the HTTP functions' URLs.
    let info = session.succeeds(&["info"]);
    let shown = format!("{}{}", info.stdout, info.stderr);
    assert!(
        shown.contains(&format!("{}/functions/{app}/api/shout", session.fake.url)),
        "{shown}"
    );

    // `invoke`: the open function without a key, the keyed one with the function key, the
    // queue worker through the admin endpoint (202, no answer to wait for).
    let invoked = session.succeeds(&["invoke", "-f", "hello"]);
    let answer: serde_json::Value = serde_json::from_str(invoked.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}", invoked.stdout));
    assert_eq!(answer["function"], "hello");
    assert_eq!(answer["method"], "GET");
    assert_eq!(answer["authorized"], false);
    let invoked = session.succeeds(&["invoke", "-f", "shout", "--data", r#"{"name":"ann"}"#]);
    let answer: serde_json::Value = serde_json::from_str(invoked.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}", invoked.stdout));
    assert_eq!(answer["function"], "shout");
    assert_eq!(answer["authorized"], true);
    assert_eq!(answer["body"], serde_json::json!({"name": "ann"}));
    session.requests();
    session.succeeds(&["invoke", "-f", "worker", "--data", r#"{"job":1}"#]);
    assert!(
        session
            .requests()
            .contains(&format!("POST /functions/{app}/admin/functions/worker")),
        "the worker is started through the admin endpoint"
    );

    session.succeeds(&["remove", "--yes"]);
    assert_eq!(session.fake.owned("azex", "dev"), Vec::<String>::new());
    assert_eq!(session.fake.resource_ids(), Vec::<String>::new());
}

fn storage_name(session: &Session) -> String {
    session
        .fake
        .resource_ids()
        .iter()
        .find_map(|id| id.split("/storageAccounts/").nth(1).map(str::to_string))
        .expect("a storage account")
}

/// A resource group the manifest names is someone else's: updraft deploys into it, never tags
/// it, and `remove` leaves it standing.
#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn remove_never_deletes_a_resource_group_updraft_did_not_create() {
    let session = Session::start("azgroup");
    let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/shared-rg");
    session.fake.insert(
        &group,
        serde_json::json!({"name": "shared-rg", "location": "westeurope", "tags": {"owner": "platform"}}),
    );
    let manifest = session.dir.path().join("serverless.yml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    std::fs::write(
        &manifest,
        text.replace(
            "  runtime: nodejs20\n",
            "  runtime: nodejs20\n  resourceGroup: shared-rg\n",
        ),
    )
    .expect("the manifest names the group");
    session.succeeds(&["deploy", "--yes"]);
    assert!(session
        .fake
        .resource(&format!(
            "shared-rg/providers/Microsoft.Web/sites/{}",
            session.app
        ))
        .is_some());
    session.succeeds(&["remove", "--yes"]);
    let kept = session.fake.resource(&group).expect("the group is kept");
    assert_eq!(kept["tags"], serde_json::json!({"owner": "platform"}));
    assert_eq!(session.fake.resource_ids(), [group]);
}

/// A Function App of the same name that updraft did not create is not adopted: the plan stops
/// and names it, and the app is not touched (the lock's storage account is made first, as on
/// any deploy).
#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn an_app_of_the_same_name_without_the_ownership_tags_is_not_adopted() {
    let session = Session::start("azother");
    let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/azother-dev-rg");
    session.fake.insert(
        &group,
        serde_json::json!({"name": "azother-dev-rg", "location": "westeurope", "tags": {"updraft-service": "azother", "updraft-stage": "dev"}}),
    );
    session.fake.insert(
        &format!("{group}/providers/Microsoft.Web/sites/azother-dev"),
        serde_json::json!({"name": "azother-dev", "type": "Microsoft.Web/sites", "location": "westeurope", "kind": "functionapp,linux", "tags": {}, "properties": {}}),
    );
    session.requests();
    let plan = session.run(&["deploy", "--yes"]);
    assert_eq!(plan.status, Some(1), "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("azother-dev"), "{}", plan.stderr);
    let changes = session.changes();
    assert!(
        changes.iter().all(|change| !change.contains("/sites/")),
        "{changes:?}"
    );
    let site = session
        .fake
        .resource("/sites/azother-dev")
        .expect("the app");
    assert_eq!(site["tags"], serde_json::json!({}));
    assert!(
        plan.stderr
            .contains("does not take over what it did not create"),
        "{}",
        plan.stderr
    );
}

/// `logs` reads a function's lines from Application Insights: with none (`appInsights` not
/// set) it says how to turn it on; once on, the app's settings carry its connection string and
/// `logs -f` shows that function's lines in the window, oldest first, and `--filter` narrows
/// them.
#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn logs_read_one_functions_application_insights_lines_in_the_window() {
    let session = Session::start("azlogs");
    session.succeeds(&["deploy", "--yes"]);
    let refused = session.run(&["logs", "-f", "hello"]);
    assert_eq!(refused.status, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("provider.appInsights: true"),
        "{}",
        refused.stderr
    );

    let manifest = session.dir.path().join("serverless.yml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    std::fs::write(
        &manifest,
        text.replace(
            "  runtime: nodejs20\n",
            "  runtime: nodejs20\n  appInsights: true\n",
        ),
    )
    .expect("the manifest asks for Application Insights");
    session.succeeds(&["deploy", "--yes"]);
    assert!(session
        .fake
        .owned("azlogs", "dev")
        .contains(&"Microsoft.Insights/components azlogs-dev-insights".to_string()));
    let settings = session
        .fake
        .app_settings(&session.app)
        .expect("the settings");
    assert!(
        settings
            .get("APPLICATIONINSIGHTS_CONNECTION_STRING")
            .is_some_and(|s| s.starts_with("InstrumentationKey=")),
        "{settings:?}"
    );

    let now = chrono::Utc::now();
    let at = |seconds_ago: i64| {
        (now - chrono::Duration::seconds(seconds_ago))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    session.fake.add_trace("hello", &at(3600), "an hour ago");
    session.fake.add_trace("hello", &at(20), "first");
    session.fake.add_trace("report", &at(15), "not hello's");
    session.fake.add_trace("hello", &at(10), "second");
    let logs = session.succeeds(&["logs", "-f", "hello", "--startTime", "5m"]);
    let lines: Vec<&str> = logs.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", logs.stdout);
    assert!(
        lines[0].ends_with("first") && lines[1].ends_with("second"),
        "{}",
        logs.stdout
    );
    let filtered = session.succeeds(&[
        "logs",
        "-f",
        "hello",
        "--startTime",
        "5m",
        "--filter",
        "sec",
    ]);
    assert_eq!(filtered.stdout.lines().count(), 1, "{}", filtered.stdout);

    session.succeeds(&["remove", "--yes"]);
    assert_eq!(session.fake.resource_ids(), Vec::<String>::new());
}
