//! The Serverless Framework's public Google examples (the `google-*-simple-http-endpoint`
//! services of serverless/examples), in their shape: `provider.name: google` with the
//! `serverless-google-cloudfunctions` plugin, a placeholder project, a key file path, an
//! `http: path` event and the runtime each writes. Their runtimes are the ones Cloud Functions
//! 2nd gen no longer runs (or written as AWS writes them), so `plan` refuses each with the place
//! and the fix; with a current runtime, each deploys to the fake, plans no change and is
//! removed leaving nothing.

mod common;

#[path = "support/gcp_fake.rs"]
mod gcp_fake;

#[path = "support/gcs.rs"]
mod gcs;

use gcp_fake::GcpFake;

struct Example {
    service: &'static str,
    function: &'static str,
    handler: &'static str,
    /// As the example writes it.
    runtime: &'static str,
    /// What `plan` says to do about it.
    fix: &'static str,
    /// A runtime Cloud Functions runs today.
    current: &'static str,
    /// The source at the root, as Google's runtime for it loads it.
    files: &'static [(&'static str, &'static str)],
}

const EXAMPLES: &[Example] = &[
    Example {
        service: "node-simple-http-endpoint",
        function: "helloWorld",
        handler: "http",
        runtime: "nodejs18.x",
        fix: "write `nodejs18`",
        current: "nodejs20",
        files: &[
            ("index.js", "exports.http = (req, res) => res.send('hello');\n"),
            ("package.json", "{\"name\": \"x\", \"main\": \"index.js\"}\n"),
        ],
    },
    Example {
        service: "python-simple-http-endpoint",
        function: "currentTime",
        handler: "endpoint",
        runtime: "python3.7",
        fix: "python312",
        current: "python312",
        files: &[(
            "main.py",
            "import time\n\ndef endpoint(request):\n    return str(time.time())\n",
        )],
    },
    Example {
        service: "golang-simple-http-endpoint",
        function: "hello",
        handler: "Hello",
        runtime: "go111",
        fix: "go122",
        current: "go122",
        files: &[
            ("go.mod", "module example.com/hello\n\ngo 1.22\n"),
            (
                "hello.go",
                "package hello\n\nimport \"net/http\"\n\nfunc Hello(w http.ResponseWriter, r *http.Request) { w.Write([]byte(\"hello\")) }\n",
            ),
        ],
    },
    Example {
        service: "ruby-simple-http-endpoint",
        function: "simpleGet",
        handler: "hello",
        runtime: "ruby2.7",
        fix: "ruby33",
        current: "ruby33",
        files: &[
            ("Gemfile", "source 'https://rubygems.org'\ngem 'functions_framework'\n"),
            (
                "app.rb",
                "require 'functions_framework'\nFunctionsFramework.http('hello') { 'hello' }\n",
            ),
        ],
    },
];

fn manifest(example: &Example, runtime: &str, project: &str) -> String {
    format!(
        "service: {}\nframeworkVersion: \"3\"\n\nprovider:\n  name: google\n  runtime: {runtime}\n  project: {project}\n  credentials: ~/.gcloud/keyfile.json\n\nplugins:\n  - serverless-google-cloudfunctions\n\npackage:\n  exclude:\n    - node_modules/**\n    - .gitignore\n    - .git/**\n\nfunctions:\n  {}:\n    handler: {}\n    events:\n      - http: path\n",
        example.service, example.function, example.handler
    )
}

#[test]
#[ignore = "needs the Cloud Storage emulator: bash scripts/test.sh runs it"]
fn the_frameworks_google_examples_are_refused_for_their_runtime_then_deploy_with_a_current_one() {
    let storage = gcs::url();
    for example in EXAMPLES {
        let fake = GcpFake::start(0);
        let project = gcs::project_for(example.service);
        let dir = tempfile::tempdir().expect("a scratch directory");
        for (name, text) in example.files {
            std::fs::write(dir.path().join(name), text).expect("a source file");
        }
        let environment = [
            ("UPDRAFT_GCP_ENDPOINT", fake.url.as_str()),
            ("UPDRAFT_GCP_STORAGE_ENDPOINT", storage.as_str()),
        ];
        let manifest_path = dir.path().join("serverless.yml");
        std::fs::write(&manifest_path, manifest(example, example.runtime, &project))
            .expect("the manifest");
        let refused = common::updraft(dir.path(), &["plan"], &environment);
        assert_eq!(
            refused.status,
            Some(1),
            "{}: {}",
            example.service,
            refused.stderr
        );
        assert!(
            refused.stderr.contains(example.runtime) && refused.stderr.contains(example.fix),
            "{}: the runtime and its fix are named:\n{}",
            example.service,
            refused.stderr
        );
        assert!(
            fake.log().is_empty(),
            "nothing is asked of Google before that"
        );

        std::fs::write(&manifest_path, manifest(example, example.current, &project))
            .expect("the manifest");
        let run = |args: &[&str]| {
            let run = common::updraft(dir.path(), args, &environment);
            assert_eq!(
                run.status,
                Some(0),
                "{} {args:?}:\n{}\n{}",
                example.service,
                run.stdout,
                run.stderr
            );
        };
        run(&["deploy", "--yes"]);
        let owned = gcs::owned(&fake, example.service, "dev");
        assert_eq!(
            owned.len(),
            2,
            "{}: the function and its public binding: {owned:?}",
            example.service
        );
        run(&["plan", "--detailed-exitcode"]);
        run(&["remove", "--yes"]);
        assert_eq!(
            gcs::owned(&fake, example.service, "dev"),
            Vec::<String>::new(),
            "{}",
            example.service
        );
        assert_eq!(
            fake.violations(),
            Vec::<String>::new(),
            "{}",
            example.service
        );
    }
}
