//! `updraft create` as a new user meets it: the template list (snapshot), a service written
//! from each template that `print`s without a warning and `package`s, the AWS ones answering
//! `invoke local` and deploying to moto (plan no-op after, remove clean), and the refusals
//! (unknown template, a directory that holds files, a name that cannot be a service's). The
//! Rust template builds with the machine's cargo into the target directory the Rust tests share;
//! the Go template with the Go `scripts/test.sh` installs, its aws-lambda-go coming from a module
//! proxy the tests write (`tests/support/go.rs`).

mod common;
#[path = "support/go.rs"]
mod go;
// Only the deploy tests use moto, and not all of what the shared helper offers.
#[allow(dead_code)]
#[path = "deploy_cli/moto.rs"]
mod moto;

use std::path::{Path, PathBuf};

use common::Run;

/// The templates, as `create --list` names them.
fn templates() -> Vec<String> {
    let run = common::updraft(Path::new("."), &["create", "--list"], &[]);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    run.stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// `updraft create --template NAME --path ROOT/DIRECTORY`, which must succeed.
fn create(root: &Path, template: &str, directory: &str) -> PathBuf {
    let run = common::updraft(
        root,
        &["create", "--template", template, "--path", directory],
        &[],
    );
    assert_eq!(run.status, Some(0), "create {template}: {}", run.stderr);
    root.join(directory)
}

/// `updraft ARGS` in a created service, with what cargo needs to build the Rust template
/// (its home and the target directory the Rust tests share, so dependencies build once).
fn run(dir: &Path, args: &[&str], extra: &[(&'static str, String)]) -> Run {
    let mut env = common::cargo_environment();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    common::updraft(dir, args, &env)
}

/// The stderr of a run that must have no warning in it.
fn assert_quiet(run: &Run, what: &str) {
    assert_eq!(
        run.status,
        Some(0),
        "{what}: {}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !run.stderr.contains('⚠') && !run.stderr.to_lowercase().contains("warning"),
        "{what} warns:\n{}",
        run.stderr
    );
}

/// The node_modules with esbuild and TypeScript that scripts/test.sh installs.
fn node_tools() -> PathBuf {
    let dir = std::env::var_os("UPDRAFT_TEST_NODE_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/build-node/node_modules")
        });
    assert!(
        dir.join(".bin/esbuild").exists(),
        "esbuild is not installed in {}: run scripts/test.sh (or set UPDRAFT_TEST_NODE_TOOLS)",
        dir.display()
    );
    dir
}

/// The Go environment for a service made from the aws-go template under `root`, after the
/// template's setup step (`go mod tidy`, which writes go.sum) ran with aws-lambda-go from a module
/// proxy written into `root`.
fn go_setup(test: &str, root: &Path, service: &Path) -> Vec<(&'static str, String)> {
    let proxy = go::write_module_proxy(&root.join("go-proxy"));
    let env = go::environment(test, Some(&proxy));
    go::run(service, &["mod", "tidy"], &env);
    assert!(
        service.join("go.sum").is_file(),
        "go mod tidy writes go.sum"
    );
    env
}

#[test]
fn create_list_names_every_template_in_one_line() {
    insta::assert_snapshot!(common::transcript(
        Path::new("."),
        &["create", "--list"],
        &[]
    ));
}

#[test]
fn create_names_the_service_after_its_directory_and_says_what_to_type_next() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let run = common::updraft(
        root.path(),
        &["create", "--template", "aws-nodejs", "--path", "orders"],
        &[],
    );
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let manifest =
        std::fs::read_to_string(root.path().join("orders/serverless.yml")).expect("written");
    assert!(manifest.contains("\nservice: orders\n"), "{manifest}");
    for step in ["cd orders", "updraft offline", "updraft deploy"] {
        assert!(
            run.stderr.contains(step),
            "`{step}` is suggested:\n{}",
            run.stderr
        );
    }
    assert!(root.path().join("orders/README.md").is_file());

    // --name wins over the directory's name.
    let named = common::updraft(
        root.path(),
        &[
            "create",
            "-t",
            "aws-python",
            "-p",
            "billing",
            "--name",
            "invoices",
        ],
        &[],
    );
    assert_eq!(named.status, Some(0), "{}", named.stderr);
    let manifest =
        std::fs::read_to_string(root.path().join("billing/serverless.yml")).expect("written");
    assert!(manifest.contains("\nservice: invoices\n"), "{manifest}");
}

#[test]
fn create_refuses_a_directory_that_holds_files_unless_forced() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let target = root.path().join("mine");
    std::fs::create_dir(&target).expect("made");
    std::fs::write(target.join("notes.txt"), "keep me").expect("written");
    let refused = common::updraft(
        root.path(),
        &["create", "--template", "aws-nodejs", "--path", "mine"],
        &[],
    );
    assert_eq!(refused.status, Some(1));
    assert!(
        refused.stderr.contains("is not empty"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert!(!target.join("serverless.yml").exists(), "nothing written");

    let forced = common::updraft(
        root.path(),
        &[
            "create",
            "--template",
            "aws-nodejs",
            "--path",
            "mine",
            "--force",
        ],
        &[],
    );
    assert_eq!(forced.status, Some(0), "{}", forced.stderr);
    assert!(target.join("serverless.yml").is_file());
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).expect("kept"),
        "keep me"
    );
}

#[test]
fn create_with_an_unknown_template_names_the_closest() {
    let root = tempfile::tempdir().expect("a temporary directory");
    insta::assert_snapshot!(common::transcript(
        root.path(),
        &["create", "--template", "aws-nodjs", "--path", "x"],
        &[]
    ));
    assert!(!root.path().join("x").exists(), "nothing written");
}

#[test]
fn create_refuses_a_name_that_cannot_be_a_service_name() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let run = common::updraft(
        root.path(),
        &["create", "-t", "aws-nodejs", "-p", "9lives"],
        &[],
    );
    assert_eq!(run.status, Some(1));
    assert!(
        run.stderr.contains("`9lives` cannot be a service name"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--name"), "{}", run.stderr);
}

#[test]
#[ignore = "needs esbuild from npm and Go (scripts/test.sh installs both) and builds the Rust and Go templates"]
fn every_template_prints_without_a_warning_and_packages() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let names = templates();
    assert!(names.len() >= 7, "{names:?}");
    for template in &names {
        let service = create(root.path(), template, template);
        if service.join("package.json").is_file() && service.join("tsconfig.json").is_file() {
            common::link_tree(&node_tools(), &service.join("node_modules"));
        }
        // A Go service is built with the Go the tests were given, after its setup step.
        let env = if service.join("go.mod").is_file() {
            go_setup(
                "every_template_prints_without_a_warning_and_packages",
                root.path(),
                &service,
            )
        } else {
            Vec::new()
        };
        assert_quiet(&run(&service, &["print"], &env), template);
        let packaged = run(&service, &["package"], &env);
        assert_quiet(&packaged, &format!("package {template}"));
        let artifacts: Vec<_> = std::fs::read_dir(service.join(".serverless"))
            .expect("package writes .serverless")
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|e| e == "zip"))
            .collect();
        assert!(!artifacts.is_empty(), "{template}: no zip in .serverless");
    }
}

#[test]
#[ignore = "needs esbuild from npm: scripts/test.sh installs it"]
fn aws_templates_answer_invoke_local_as_written() {
    let root = tempfile::tempdir().expect("a temporary directory");
    for template in [
        "aws-nodejs",
        "aws-python",
        "aws-nodejs-typescript",
        "aws-rust",
    ] {
        let service = create(root.path(), template, "shop");
        if template == "aws-nodejs-typescript" {
            common::link_tree(&node_tools(), &service.join("node_modules"));
        }
        let invoked = run(&service, &["invoke", "local", "-f", "hello"], &[]);
        assert_eq!(invoked.status, Some(0), "{template}: {}", invoked.stderr);
        assert!(
            invoked.stdout.contains("hello from shop (dev)"),
            "{template}: {}",
            invoked.stdout
        );
        std::fs::remove_dir_all(&service).expect("cleared for the next template");
    }
}

#[test]
#[ignore = "needs the moto emulator: bash scripts/test.sh runs it"]
fn aws_templates_deploy_plan_no_change_and_remove_clean() {
    for template in ["aws-nodejs", "aws-python", "aws-rust"] {
        let moto = moto::moto("aws_templates_deploy_plan_no_change_and_remove_clean");
        let root = tempfile::tempdir().expect("a temporary directory");
        let service = create(root.path(), template, "shop");
        deploy_plan_remove(template, &service, &moto.env());
    }
}

/// Deploy, a plan right after that changes nothing, remove, and a plan that has everything to
/// create again.
fn deploy_plan_remove(template: &str, service: &Path, env: &[(&'static str, String)]) {
    let deploy = run(service, &["deploy", "--yes"], env);
    assert_eq!(deploy.status, Some(0), "{template}: {}", deploy.stderr);
    let plan = run(service, &["plan", "--detailed-exitcode"], env);
    assert_eq!(
        plan.status,
        Some(0),
        "{template}: a plan right after deploy changes nothing:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
    let remove = run(service, &["remove", "--yes"], env);
    assert_eq!(remove.status, Some(0), "{template}: {}", remove.stderr);
    let after = run(service, &["plan", "--detailed-exitcode"], env);
    assert_eq!(
        after.status,
        Some(2),
        "{template}: after remove everything is to create again:\n{}",
        after.stdout
    );
}

#[test]
#[ignore = "needs Go: scripts/test.sh installs it"]
fn aws_go_template_packages_an_executable_bootstrap_and_answers_invoke_local() {
    let test = "aws_go_template_packages_an_executable_bootstrap_and_answers_invoke_local";
    let root = tempfile::tempdir().expect("a temporary directory");
    let service = create(root.path(), "aws-go", "shop");
    let env = go_setup(test, root.path(), &service);
    let module = std::fs::read_to_string(service.join("go.mod")).expect("go.mod");
    assert!(module.contains("\nmodule shop\n"), "{module}");

    assert_quiet(&run(&service, &["print"], &env), "print aws-go");
    assert_quiet(&run(&service, &["package"], &env), "package aws-go");
    let zip = service.join(".serverless/hello.zip");
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&zip).expect("hello.zip")).expect("a zip");
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    assert_eq!(names, ["bootstrap"], "only the program");
    let mut entry = archive.by_name("bootstrap").expect("bootstrap");
    let mode = entry.unix_mode().expect("a Unix mode");
    assert_eq!(mode & 0o777, 0o755, "executable by anyone: {mode:o}");
    let mut program = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut program).expect("read");
    assert_eq!(program.get(..4), Some(&b"\x7fELF"[..]), "a Linux program");
    assert_eq!(program.get(18..20), Some(&[0x3e, 0][..]), "for x86_64");

    // Unzipped, it is aws-lambda-go's program: outside Lambda it says what it misses.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        use std::os::unix::fs::PermissionsExt;
        let unzipped = root.path().join("unzipped/bootstrap");
        std::fs::create_dir_all(unzipped.parent().expect("a folder")).expect("folder");
        std::fs::write(&unzipped, &program).expect("unzipped");
        std::fs::set_permissions(&unzipped, std::fs::Permissions::from_mode(mode))
            .expect("the zip's mode");
        let ran = common::clean_command(&unzipped, root.path())
            .output()
            .expect("the bootstrap runs");
        assert_eq!(ran.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(
            stderr.contains("expected AWS Lambda environment variables"),
            "{stderr}"
        );
    }

    let invoked = run(&service, &["invoke", "local", "-f", "hello"], &env);
    let (status, body) = response(&invoked);
    assert_eq!(status, 200, "{}", invoked.stdout);
    assert_eq!(
        body["message"], "hello from shop (dev)",
        "{}",
        invoked.stdout
    );
    assert_eq!(body["path"], "/");
    let with_path = run(
        &service,
        &[
            "invoke",
            "local",
            "-f",
            "hello",
            "--data",
            r#"{"rawPath": "/orders"}"#,
        ],
        &env,
    );
    assert_eq!(response(&with_path).1["path"], "/orders");
}

#[test]
#[ignore = "needs Go and the moto emulator: bash scripts/test.sh installs and starts them"]
fn aws_go_template_deploys_plans_no_change_and_removes_clean() {
    let test = "aws_go_template_deploys_plans_no_change_and_removes_clean";
    let root = tempfile::tempdir().expect("a temporary directory");
    let service = create(root.path(), "aws-go", "shop");
    let mut env = go_setup(test, root.path(), &service);
    let moto = moto::moto(test);
    env.extend(moto.env());
    // The plan changes nothing only if the Go build is reproducible.
    deploy_plan_remove("aws-go", &service, &env);
}

/// The response `invoke local` printed: its status and its body parsed.
fn response(run: &Run) -> (u64, serde_json::Value) {
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", run.stdout));
    let body = answer["body"]
        .as_str()
        .map(|body| serde_json::from_str(body).expect("a JSON body"))
        .unwrap_or(serde_json::Value::Null);
    (answer["statusCode"].as_u64().unwrap_or(0), body)
}

#[test]
#[ignore = "needs the moto emulator and boto3: bash scripts/test.sh provides both"]
fn http_api_dynamodb_template_deploys_its_table_and_its_functions_use_it() {
    let moto = moto::moto("http_api_dynamodb_template_deploys_its_table_and_its_functions_use_it");
    let mut env = moto.env();
    env.push((
        "UPDRAFT_PYTHON",
        common::python_with_boto3().display().to_string(),
    ));
    let root = tempfile::tempdir().expect("a temporary directory");
    let service = create(root.path(), "aws-http-api-dynamodb", "pantry");
    let deploy = run(&service, &["deploy", "--yes"], &env);
    assert_eq!(deploy.status, Some(0), "{}", deploy.stderr);
    let plan = run(&service, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(plan.status, Some(0), "{}\n{}", plan.stdout, plan.stderr);

    // The functions, run locally, read and write the table deployed to moto.
    let invoke = |function: &str, event: &str| {
        run(
            &service,
            &["invoke", "local", "-f", function, "--data", event],
            &env,
        )
    };
    let (status, item) = response(&invoke(
        "create",
        r#"{"body": "{\"id\": \"a1\", \"name\": \"tea\"}"}"#,
    ));
    assert_eq!(status, 201, "{item}");
    let (status, found) = response(&invoke("get", r#"{"pathParameters": {"id": "a1"}}"#));
    assert_eq!((status, found["name"].as_str()), (200, Some("tea")));
    let (_, listed) = response(&invoke("list", "{}"));
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let (status, _) = response(&invoke("delete", r#"{"pathParameters": {"id": "a1"}}"#));
    assert_eq!(status, 204);
    let (status, _) = response(&invoke("get", r#"{"pathParameters": {"id": "a1"}}"#));
    assert_eq!(status, 404);

    let remove = run(&service, &["remove", "--yes"], &env);
    assert_eq!(remove.status, Some(0), "{}", remove.stderr);
}
