//! The Serverless Framework's public Azure examples (the `azure-*` services of
//! serverless/examples, branch v3), rebuilt in their shape with handlers of their own:
//! `azure-node-simple-http-endpoint`, `azure-node-typescript-servicebus-trigger-endpoint` and
//! `azure-node-line-bot` (whose serverless.yml `azure-node-telegram-bot` shares). Each manifest
//! is written as the example writes it: `provider.name: azure` with the
//! `serverless-azure-functions` plugin, `http: true` events with `x-azure-settings`
//! (`authLevel`, `methods`, `route`), a `serviceBus` event with `queueName` and `connection`.
//!
//! What Flex Consumption cannot run as written, `plan` refuses before asking Azure anything,
//! naming the place and the fix: no runtime or `nodejs18.x`, `${opt:env}` with nothing to fill
//! it, the object form of `service`, and TypeScript handlers that only the `serverless-webpack`
//! plugin (which updraft does not run) would have compiled. With those fixed, each service
//! deploys to the fake of Azure's control plane (blobs in Azurite) with the bindings the example
//! asks for (an HTTP output written as a second `http` event is its output binding),
//! plans no change, deploys again changing nothing, and is removed leaving nothing but a
//! resource group it names.

mod common;

#[path = "support/azure_fake.rs"]
mod azure_fake;

#[path = "support/azurite.rs"]
mod azurite;

use serde_json::{json, Value as Json};

use azure_fake::{AzureFake, SUBSCRIPTION};

/// One example in a scratch directory, with the fake. The examples' service names are their
/// own, so each has its own lock blob in the Azurite the tests share.
struct Session {
    fake: AzureFake,
    dir: tempfile::TempDir,
    service: &'static str,
}

impl Session {
    fn start(service: &'static str, manifest: &str, files: &[(&str, &str)]) -> Session {
        let session = Session {
            fake: AzureFake::start(0, &azurite::url()),
            dir: tempfile::tempdir().expect("a scratch directory"),
            service,
        };
        session.write("serverless.yml", manifest);
        for (name, text) in files {
            session.write(name, text);
        }
        session
    }

    fn app(&self) -> String {
        format!("{}-dev", self.service)
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("a file");
    }

    /// Rewrites `from` as `to` in the manifest, which must hold it.
    fn edit(&self, from: &str, to: &str) {
        let path = self.dir.path().join("serverless.yml");
        let text = std::fs::read_to_string(&path).expect("the manifest");
        assert!(text.contains(from), "the manifest has no {from:?}:\n{text}");
        std::fs::write(path, text.replace(from, to)).expect("the manifest is edited");
    }

    fn run(&self, args: &[&str]) -> common::Run {
        let environment = self.fake.environment();
        let env: Vec<(&str, &str)> = environment
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        common::updraft(self.dir.path(), args, &env)
    }

    fn succeeds(&self, args: &[&str]) -> common::Run {
        let run = self.run(args);
        assert_eq!(
            run.status,
            Some(0),
            "{}: updraft {args:?} fails:\n{}\n{}",
            self.service,
            run.stdout,
            run.stderr
        );
        run
    }

    /// `plan` stops with exit code 1 and a message mentioning each of `mentions`, having asked
    /// Azure nothing.
    fn refused(&self, mentions: &[&str]) {
        let plan = self.run(&["plan"]);
        assert_eq!(
            plan.status,
            Some(1),
            "{}: plan is refused:\n{}\n{}",
            self.service,
            plan.stdout,
            plan.stderr
        );
        // The report wraps long lines: read it as one line.
        let said = plan
            .stderr
            .lines()
            .map(|line| line.trim().trim_start_matches('│').trim())
            .collect::<Vec<_>>()
            .join(" ");
        for mention in mentions {
            assert!(
                said.contains(mention),
                "{}: the refusal mentions {mention:?}:\n{}",
                self.service,
                plan.stderr
            );
        }
        assert_eq!(
            self.fake.log().len(),
            0,
            "{}: nothing is asked of Azure before that",
            self.service
        );
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

    /// What the service owns, as `type name`, the storage account (named by a hash) by its type.
    fn owned(&self) -> Vec<String> {
        self.fake
            .owned(self.service, "dev")
            .into_iter()
            .map(|owned| match owned.split_once(' ') {
                Some((kind @ "Microsoft.Storage/storageAccounts", _)) => kind.to_string(),
                _ => owned,
            })
            .collect()
    }

    /// `plan` shows changes; `deploy` makes `owned`; then `plan` shows none and a second
    /// `deploy` says so, changing nothing.
    fn deploys_then_plans_no_change(&self, owned: &[String]) {
        let plan = self.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.status,
            Some(2),
            "{}: the first plan has changes:\n{}\n{}",
            self.service,
            plan.stdout,
            plan.stderr
        );
        assert!(plan.stdout.contains(&self.app()), "{}", plan.stdout);
        self.succeeds(&["deploy", "--yes"]);
        assert_eq!(self.owned(), owned, "{}", self.service);
        let plan = self.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.status,
            Some(0),
            "{}: no change after the deploy:\n{}\n{}",
            self.service,
            plan.stdout,
            plan.stderr
        );
        self.changes();
        let again = self.succeeds(&["deploy", "--yes"]);
        assert!(
            format!("{}{}", again.stdout, again.stderr).contains("No changes"),
            "{}: {}\n{}",
            self.service,
            again.stdout,
            again.stderr
        );
        assert_eq!(self.changes(), Vec::<String>::new(), "{}", self.service);
    }

    /// `remove` deletes what the service owns, leaving `kept` (ids) standing.
    fn removes_leaving(&self, kept: &[String]) {
        self.succeeds(&["remove", "--yes"]);
        assert_eq!(self.owned(), Vec::<String>::new(), "{}", self.service);
        assert_eq!(self.fake.resource_ids(), kept, "{}", self.service);
    }

    fn site(&self) -> Json {
        self.fake
            .resource(&format!("/sites/{}", self.app()))
            .expect("the Function App")
    }

    /// The published package's file names, sorted.
    fn packaged(&self) -> Vec<String> {
        let archive = self.archive();
        let mut names: Vec<String> = archive.file_names().map(str::to_string).collect();
        names.sort();
        names
    }

    /// `function/function.json` of the published package.
    fn function_json(&self, function: &str) -> Json {
        let mut archive = self.archive();
        let file = archive
            .by_name(&format!("{function}/function.json"))
            .expect("the function's function.json");
        serde_json::from_reader(file).expect("function.json is JSON")
    }

    fn archive(&self) -> zip::ZipArchive<std::io::Cursor<Vec<u8>>> {
        let zip = self
            .fake
            .package_of(&self.app())
            .expect("the package was published");
        zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip")
    }

    /// `invoke -f function`: what the app's host was sent, as the fake answers.
    fn invoked(&self, function: &str, data: Option<&str>) -> Json {
        let mut args = vec!["invoke", "-f", function];
        if let Some(data) = data {
            args.extend(["--data", data]);
        }
        let run = self.succeeds(&args);
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
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

/// What a service updraft gives its own resource group owns.
fn owns_everything(service: &str) -> Vec<String> {
    vec![
        format!("Microsoft.Resources/resourceGroups {service}-dev-rg"),
        "Microsoft.Storage/storageAccounts".to_string(),
        format!("Microsoft.Web/serverfarms {service}-dev-plan"),
        format!("Microsoft.Web/sites {service}-dev"),
    ]
}

/// An HTTP trigger's bindings as updraft writes them, with its `http` output.
fn http_bindings(trigger: Json) -> Json {
    json!({"bindings": [trigger, {"type": "http", "direction": "out", "name": "res"}]})
}

/// `azure-node-simple-http-endpoint`: one anonymous `http: true` function, the region written
/// as `location`, and no runtime.
const SIMPLE_HTTP: &str = r#"service: azfx-node-http

frameworkVersion: "3"

provider:
  name: azure
  location: West US

plugins:
  - serverless-azure-functions

package:
  exclude:
    - node_modules/**
    - .gitignore
    - package.json
    - .git/**

functions:
  hello:
     handler: handler.hello
     events:
       - http: true
         x-azure-settings:
           authLevel: anonymous
"#;

#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn the_simple_http_endpoint_example_is_refused_without_a_runtime_then_deploys_and_removes() {
    let session = Session::start(
        "azfx-node-http",
        SIMPLE_HTTP,
        &[
            (
                "handler.js",
                "module.exports.hello = async function (context, req) {\n  const name = req.query.name || (req.body && req.body.name);\n  context.res = name ? { body: `Hello ${name}` } : { status: 400, body: 'Pass a name' };\n};\n",
            ),
            (
                "package.json",
                "{\"name\": \"azure-node-simple-http-endpoint\", \"version\": \"0.1.0\"}\n",
            ),
        ],
    );
    // No runtime: the error names the setting and the runtimes to choose from. The region is
    // read from `location`, as the plugin wrote it then.
    session.refused(&["the service has no runtime", "provider.runtime", "nodejs20"]);
    session.edit(
        "  location: West US\n",
        "  location: West US\n  runtime: nodejs20\n",
    );

    session.deploys_then_plans_no_change(&owns_everything("azfx-node-http"));
    let site = session.site();
    assert_eq!(site["location"], "westus");
    assert_eq!(
        site["properties"]["functionAppConfig"]["runtime"],
        json!({"name": "node", "version": "20"})
    );
    assert_eq!(
        session.packaged(),
        ["handler.js", "hello/function.json", "host.json"],
        "package.exclude leaves package.json out"
    );
    let mut function = session.function_json("hello");
    assert_eq!(function["scriptFile"], "../handler.js");
    assert_eq!(function["entryPoint"], "hello");
    function
        .as_object_mut()
        .expect("an object")
        .retain(|key, _| key == "bindings");
    assert_eq!(
        function,
        http_bindings(
            json!({"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"})
        )
    );
    let answer = session.invoked("hello", None);
    assert_eq!(answer["function"], "hello");
    assert_eq!(answer["authorized"], false);

    session.removes_leaving(&[]);
}

/// `azure-node-typescript-servicebus-trigger-endpoint`, its placeholders filled in: a POST
/// endpoint at `api/v3/send` and a Service Bus queue trigger whose connection is an app setting,
/// in a resource group the manifest names, built by `serverless-webpack` from TypeScript.
fn service_bus_manifest() -> String {
    format!(
        r#"service:
    name: service-bus-trigger-example

frameworkVersion: "3"

plugins:
    - serverless-azure-functions
    - serverless-webpack
    - serverless-dotenv-plugin

provider:
    name: azure
    stage: ${{opt:env}}
    runtime: nodejs18.x
    region: West Europe
    type: premium
    subscriptionId: '{SUBSCRIPTION}'
    resourceGroup: 'messaging-rg'
    environment:
        SERVICE_BUS_CONNECTION_STRING: 'Endpoint=sb://updraft-example.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=placeholder'


functions:
    sendMessage:
        handler: src/controller/messageSenderController.sendMessage
        events:
            - http:
              x-azure-settings:
                name: req
                methods:
                    - post
                route: api/v3/send
                authLevel: anonymous

    sampleHandler:
        handler: src/controller/triggerFunctionController.sampleHandler
        events:
            - serviceBus:
              x-azure-settings:
                name: req
                queueName: myqueuename
                accessRights: manage
                connection: SERVICE_BUS_CONNECTION_STRING
"#
    )
}

#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn the_service_bus_example_is_refused_where_it_cannot_run_then_deploys_into_its_group() {
    let session = Session::start(
        "service-bus-trigger-example",
        &service_bus_manifest(),
        &[
            (
                "src/controller/messageSenderController.ts",
                "import { Context, HttpRequest } from '@azure/functions';\n\nexport async function sendMessage(context: Context, req: HttpRequest): Promise<void> {\n  context.res = { status: 202, body: { queued: req.body } };\n}\n",
            ),
            (
                "src/controller/triggerFunctionController.ts",
                "import { Context } from '@azure/functions';\n\nexport async function sampleHandler(context: Context, message: unknown): Promise<void> {\n  context.log('received', message);\n}\n",
            ),
        ],
    );
    let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/messaging-rg");
    session.fake.insert(
        &group,
        json!({"name": "messaging-rg", "location": "westeurope", "tags": {"owner": "messaging"}}),
    );

    // The stage comes from `--env`, which updraft has no flag for: the variable is named with
    // its place, and the fallback it suggests is the fix.
    session.refused(&[
        "provider.stage",
        "${opt:env}",
        "serverless.yml:13:12",
        "updraft has no --env option",
        "--param env=VALUE",
    ]);
    session.edit("${opt:env}", "${opt:env, 'dev'}");
    // `service: {name: ...}` is Framework v2's.
    session.refused(&[
        "object form",
        "serverless.yml:2:5",
        "write `service: service-bus-trigger-example`",
    ]);
    session.edit(
        "service:\n    name: service-bus-trigger-example\n",
        "service: service-bus-trigger-example\n",
    );
    // Node.js 18 is not a Flex Consumption runtime.
    session.refused(&[
        "runtime `nodejs18.x` is not one Azure Functions (Flex Consumption) runs",
        "serverless.yml:13:14",
        "nodejs20",
        "unknown key `type`",
        "unknown key `accessRights`",
    ]);
    session.edit("runtime: nodejs18.x", "runtime: nodejs20");
    // The handlers are TypeScript, which serverless-webpack compiled: updraft runs no plugins,
    // so the JavaScript the handler names is missing.
    session.refused(&[
        "plugins are not run by updraft",
        "serverless-webpack",
        "the handler `src/controller/messageSenderController.sendMessage` of function `sendMessage` needs `src/controller/messageSenderController.js`",
    ]);
    session.write(
        "src/controller/messageSenderController.js",
        "module.exports.sendMessage = async function (context, req) {\n  context.res = { status: 202, body: { queued: req.body } };\n};\n",
    );
    session.write(
        "src/controller/triggerFunctionController.js",
        "module.exports.sampleHandler = async function (context, message) {\n  context.log('received', message);\n};\n",
    );

    session.deploys_then_plans_no_change(&[
        "Microsoft.Storage/storageAccounts".to_string(),
        "Microsoft.Web/serverfarms service-bus-trigger-example-dev-plan".to_string(),
        "Microsoft.Web/sites service-bus-trigger-example-dev".to_string(),
    ]);
    let app = session.app();
    assert!(session
        .fake
        .resource(&format!(
            "/resourceGroups/messaging-rg/providers/Microsoft.Web/sites/{app}"
        ))
        .is_some());
    assert_eq!(session.site()["location"], "westeurope");
    let settings = session.fake.app_settings(&app).expect("the settings");
    assert!(
        settings["SERVICE_BUS_CONNECTION_STRING"].starts_with("Endpoint=sb://"),
        "the trigger's connection is an app setting"
    );
    let mut send = session.function_json("sendMessage");
    assert_eq!(
        send["scriptFile"],
        "../src/controller/messageSenderController.js"
    );
    assert_eq!(send["entryPoint"], "sendMessage");
    send.as_object_mut()
        .expect("an object")
        .retain(|key, _| key == "bindings");
    assert_eq!(
        send,
        http_bindings(
            json!({"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous", "methods": ["post"], "route": "api/v3/send"})
        )
    );
    assert_eq!(
        session.function_json("sampleHandler")["bindings"],
        json!([{"type": "serviceBusTrigger", "direction": "in", "name": "req", "queueName": "myqueuename", "connection": "SERVICE_BUS_CONNECTION_STRING"}])
    );
    let answer = session.invoked("sendMessage", Some(r#"{"asset":"pump-1"}"#));
    assert_eq!(answer["function"], "sendMessage");
    assert_eq!(answer["method"], "POST");
    assert_eq!(answer["body"], json!({"asset": "pump-1"}));

    // The group is someone else's: updraft leaves it, untagged.
    session.removes_leaving(std::slice::from_ref(&group));
    let kept = session.fake.resource(&group).expect("the group is kept");
    assert_eq!(kept["tags"], json!({"owner": "messaging"}));
}

/// `azure-node-line-bot` (and `azure-node-telegram-bot`, the same but for the name): one
/// webhook function whose HTTP output is written as a second `http` event, `direction: out`,
/// the region as `location`, and no runtime.
const LINE_BOT: &str = r#"service: azure-line-bot-example

frameworkVersion: "3"

provider:
  name: azure
  location: West US

plugins:
  - serverless-azure-functions

functions:
  hello:
    handler: handler.hello
    events:
      - http: true
        x-azure-settings:
          authLevel : anonymous
      - http: true
        x-azure-settings:
          direction: out
          name: res
"#;

#[test]
#[ignore = "needs Azurite: bash scripts/test.sh runs it"]
fn the_line_bot_example_is_refused_without_a_runtime_then_deploys_with_one_trigger() {
    let session = Session::start(
        "azure-line-bot-example",
        LINE_BOT,
        &[(
            "handler.js",
            "'use strict';\n\nmodule.exports.hello = async function (context, req) {\n  const events = (req.body && req.body.events) || [];\n  context.res = { body: events.map((event) => ({ type: 'text', text: event.message && event.message.text })) };\n};\n",
        )],
    );
    session.refused(&["the service has no runtime", "provider.runtime", "nodejs20"]);
    session.edit(
        "  location: West US\n",
        "  location: West US\n  runtime: nodejs20\n",
    );
    // The second `http` event, `direction: out`, is the HTTP output binding: the function has
    // one trigger and one output.
    session.deploys_then_plans_no_change(&owns_everything("azure-line-bot-example"));
    let mut function = session.function_json("hello");
    assert_eq!(function["scriptFile"], "../handler.js");
    function
        .as_object_mut()
        .expect("an object")
        .retain(|key, _| key == "bindings");
    assert_eq!(
        function,
        http_bindings(
            json!({"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"})
        )
    );
    let answer = session.invoked("hello", Some(r#"{"events":[]}"#));
    assert_eq!(answer["function"], "hello");

    session.removes_leaving(&[]);
}
