//! The Google example service (`examples/google/serverless.yml`) through the `updraft` binary,
//! as a user without a Google account tries it: the fake of Google's control plane and a Cloud
//! Storage emulator for the lock. A deploy creates the functions, the schedule and the public
//! binding; a second deploy changes nothing and sends only reads (the recorded request log);
//! one function's memory changes that function alone, with one masked PATCH, and waits out
//! another client's operation; `deploy function` sends one function's new code; `info` shows
//! the URLs; `invoke` and `logs` reach the function; `remove` leaves nothing.

mod common;

#[path = "support/gcp_fake.rs"]
mod gcp_fake;

#[path = "support/gcs.rs"]
mod gcs;

use std::path::Path;

use gcp_fake::GcpFake;

/// A copy of the example service's files in a scratch directory (its build output stays there;
/// the build output of a run in the checkout, `.serverless/`, is not copied).
fn example_copy() -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/google");
    let dir = tempfile::tempdir().expect("a scratch directory");
    for entry in std::fs::read_dir(&source).expect("the example directory") {
        let entry = entry.expect("an entry");
        if entry.file_type().is_ok_and(|kind| kind.is_file()) {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("a copy");
        }
    }
    dir
}

struct Session {
    fake: GcpFake,
    dir: tempfile::TempDir,
    project: String,
    storage: String,
}

impl Session {
    fn start(test: &str) -> Session {
        Session {
            fake: GcpFake::start(0),
            dir: example_copy(),
            project: gcs::project_for(test),
            storage: gcs::url(),
        }
    }

    fn run(&self, args: &[&str]) -> common::Run {
        common::updraft(
            self.dir.path(),
            args,
            &[
                ("UPDRAFT_GCP_ENDPOINT", &self.fake.url),
                ("UPDRAFT_GCP_STORAGE_ENDPOINT", &self.storage),
                ("GOOGLE_CLOUD_PROJECT", &self.project),
            ],
        )
    }

    fn succeeds(&self, args: &[&str]) -> common::Run {
        let run = self.run(args);
        assert_eq!(
            run.status,
            Some(0),
            "updraft {args:?} fails:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        run
    }

    /// The request log since the last call, with the project written as PROJECT and the fake's
    /// own address as FAKE.
    fn requests(&self) -> Vec<String> {
        let log = self
            .fake
            .log()
            .iter()
            .map(|request| {
                request
                    .to_string()
                    .replace(&self.project, "PROJECT")
                    .replace(&self.fake.url, "FAKE")
            })
            .collect();
        self.fake.clear_log();
        log
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(
                self.fake.violations(),
                Vec::<String>::new(),
                "bodies Google would refuse"
            );
        }
    }
}

#[test]
#[ignore = "needs the Cloud Storage emulator: bash scripts/test.sh runs it"]
fn the_google_example_deploys_plans_no_op_changes_one_function_and_removes_clean() {
    let session = Session::start("google-example");
    let deployed = session.succeeds(&["deploy", "--yes"]);
    assert!(
        deployed
            .stderr
            .contains("the path `hello` of function `hello`'s http event is not routed"),
        "a path Google does not route is a warning: {}",
        deployed.stderr
    );
    assert!(
        deployed.stderr.contains("updraft-example-dev-hello")
            || deployed.stdout.contains("updraft-example-dev-hello"),
        "{}\n{}",
        deployed.stdout,
        deployed.stderr
    );
    let owned = gcs::owned(&session.fake, "updraft-example", "dev");
    let function = |id: &str| {
        format!(
            "function projects/{}/locations/us-central1/functions/{id}",
            session.project
        )
    };
    for id in [
        "updraft-example-dev-hello",
        "updraft-example-dev-report",
        "updraft-example-dev-worker",
    ] {
        assert!(owned.contains(&function(id)), "{id} in {owned:?}");
    }
    assert_eq!(
        owned.len(),
        5,
        "three functions, the public binding of hello, one job: {owned:?}"
    );
    let hello = session.fake.functions()[&format!(
        "projects/{}/locations/us-central1/functions/updraft-example-dev-hello",
        session.project
    )]
        .clone();
    assert_eq!(hello["serviceConfig"]["availableMemory"], "256Mi");
    assert_eq!(hello["buildConfig"]["entryPoint"], "hello");
    let zip = session
        .fake
        .source_of(hello["name"].as_str().unwrap_or_default())
        .expect("the code was uploaded");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).expect("an entry").name().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["index.js", "main.py", "package.json"]);

    // A second deploy changes nothing, and only reads (the lock is in Cloud Storage).
    session.requests();
    let again = session.succeeds(&["deploy", "--yes"]);
    assert!(
        format!("{}{}", again.stdout, again.stderr).contains("No changes"),
        "{}\n{}",
        again.stdout,
        again.stderr
    );
    // Sorted: the policies are read concurrently, so their order varies.
    let mut requests = session.requests();
    requests.sort();
    insta::assert_snapshot!("no_op_deploy_requests", requests.join("\n"));
    let plan = session.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status, Some(0), "{}\n{}", plan.stdout, plan.stderr);

    // One function's memory: one PATCH of that function, masked to the memory.
    let manifest = session.dir.path().join("serverless.yml");
    let text = std::fs::read_to_string(&manifest).expect("the manifest");
    let changed = text.replacen(
        "    handler: hello\n",
        "    handler: hello\n    memorySize: 1024\n",
        1,
    );
    std::fs::write(&manifest, changed).expect("the manifest is changed");
    let plan = session.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status, Some(2), "{}\n{}", plan.stdout, plan.stderr);
    session.requests();
    session.succeeds(&["deploy", "--yes"]);
    let changes: Vec<String> = session
        .requests()
        .into_iter()
        .filter(|request| !request.starts_with("GET "))
        .collect();
    assert_eq!(
        changes,
        [
            "PATCH /v2/projects/PROJECT/locations/us-central1/functions/updraft-example-dev-hello?updateMask=serviceConfig.availableMemory"
        ]
    );
    let hello = &session.fake.functions()[hello["name"].as_str().unwrap_or_default()];
    assert_eq!(hello["serviceConfig"]["availableMemory"], "1Gi");
    assert_eq!(
        hello["labels"]["team"], "examples",
        "what the mask left out is kept"
    );

    // Another client's operation on the function: the change waits for it (409 "in progress"),
    // then goes through.
    std::fs::write(
        &manifest,
        std::fs::read_to_string(&manifest)
            .expect("the manifest")
            .replace("memorySize: 1024", "memorySize: 512"),
    )
    .expect("the manifest is changed");
    session.fake.block_changes(
        hello["name"].as_str().unwrap_or_default(),
        std::time::Duration::from_millis(1500),
    );
    session.requests();
    session.succeeds(&["deploy", "--yes"]);
    let patches = session
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH "))
        .count();
    assert!(
        patches >= 2,
        "refused while the other operation ran, then applied: {patches} PATCHes"
    );
    let hello = session.fake.functions()[hello["name"].as_str().unwrap_or_default()].clone();
    assert_eq!(hello["serviceConfig"]["availableMemory"], "512Mi");

    // `deploy function -f`: new code for one function goes to that function alone.
    std::fs::write(
        session.dir.path().join("index.js"),
        "exports.hello = (req, res) => res.send('new');\nexports.worker = () => {};\n",
    )
    .expect("new code");
    session.requests();
    session.succeeds(&["deploy", "function", "-f", "hello", "--yes"]);
    let changes: Vec<String> = session
        .requests()
        .into_iter()
        .filter(|request| !request.starts_with("GET "))
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(
        changes[0],
        "POST /v2/projects/PROJECT/locations/us-central1/functions:generateUploadUrl"
    );
    assert!(changes[1].starts_with("PUT /upload/"), "{changes:?}");
    assert_eq!(
        changes[2],
        "PATCH /v2/projects/PROJECT/locations/us-central1/functions/updraft-example-dev-hello?updateMask=buildConfig.source,labels"
    );

    // `info` shows the URL of the HTTP functions.
    let info = session.succeeds(&["info"]);
    let shown = format!("{}{}", info.stdout, info.stderr);
    assert!(
        shown.contains(&format!(
            "{}/fn/updraft-example-dev-hello",
            session.fake.url
        )),
        "{shown}"
    );

    // `invoke`: an HTTP function gets the payload as JSON; an event function gets a CloudEvent
    // of its trigger's type. The fake's URLs are local, so no identity token is sent.
    let invoked = session.succeeds(&["invoke", "-f", "hello", "--data", r#"{"name":"ann"}"#]);
    let answer: serde_json::Value = serde_json::from_str(invoked.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}", invoked.stdout));
    assert_eq!(answer["function"], "updraft-example-dev-hello");
    assert_eq!(answer["body"], serde_json::json!({"name": "ann"}));
    assert_eq!(answer["contentType"], "application/json");
    assert_eq!(answer["cloudEventType"], serde_json::Value::Null);
    let invoked = session.succeeds(&[
        "invoke",
        "-f",
        "worker",
        "--data",
        r#"{"message":{"data":"e30="}}"#,
    ]);
    let answer: serde_json::Value = serde_json::from_str(invoked.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}", invoked.stdout));
    assert_eq!(
        answer["cloudEventType"],
        "google.cloud.pubsub.topic.v1.messagePublished"
    );

    // `logs`: the function's Cloud Logging lines in the window, oldest first, and not another
    // function's.
    let now = chrono::Utc::now();
    let at = |seconds_ago: i64| {
        (now - chrono::Duration::seconds(seconds_ago))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let project = session.project.clone();
    session.fake.add_log_line(
        &project,
        "updraft-example-dev-hello",
        &at(3600),
        "an hour ago",
    );
    session
        .fake
        .add_log_line(&project, "updraft-example-dev-hello", &at(20), "first");
    session.fake.add_log_line(
        &project,
        "updraft-example-dev-report",
        &at(15),
        "not hello's",
    );
    session
        .fake
        .add_log_line(&project, "updraft-example-dev-hello", &at(10), "second");
    let logs = session.succeeds(&["logs", "-f", "hello", "--startTime", "5m"]);
    let lines: Vec<&str> = logs.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", logs.stdout);
    assert!(
        lines[0].ends_with("first") && lines[1].ends_with("second"),
        "{}",
        logs.stdout
    );

    session.succeeds(&["remove", "--yes"]);
    assert_eq!(
        gcs::owned(&session.fake, "updraft-example", "dev"),
        Vec::<String>::new()
    );
}
