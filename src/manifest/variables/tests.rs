//! Resolution of whole trees (built from JSON) through [`resolve`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::*;
use crate::manifest::source::{SourceFile, Span};

struct Setup {
    env: Vec<(String, String)>,
    options: IndexMap<String, Json>,
    params: Vec<(String, String)>,
    service_dir: PathBuf,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            env: Vec::new(),
            options: IndexMap::new(),
            params: Vec::new(),
            service_dir: std::env::temp_dir(),
        }
    }
}

impl Setup {
    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn option(mut self, name: &str, value: &str) -> Self {
        self.options.insert(name.into(), json!(value));
        self
    }

    fn run(&self, config: Json) -> Result<Json, VariablesError> {
        self.run_with(config, None).map(|(json, _)| json)
    }

    fn run_with(
        &self,
        config: Json,
        cloud: Option<&dyn CloudVariables>,
    ) -> Result<(Json, Resolution), VariablesError> {
        let text = serde_json::to_string_pretty(&config).unwrap();
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new(
            "serverless.yml".into(),
            "serverless.yml".into(),
            Arc::<str>::from(text.as_str()),
        ));
        let mut root = Node::from_json(&config, Span::new(file, 0, text.len()));
        let env = |name: &str| {
            self.env
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let context = Context {
            service_dir: self.service_dir.clone(),
            options: self.options.clone(),
            params: self.params.clone(),
            env: &env,
            cloud,
        };
        let resolution = resolve(&mut root, &mut sources, &context)?;
        Ok((root.to_json(), resolution))
    }
}

fn custom(config: Json) -> Json {
    config["custom"].clone()
}

fn reasons(error: &VariablesError) -> Vec<String> {
    error.failures.iter().map(|f| f.message.clone()).collect()
}

#[test]
fn self_references_follow_paths_and_list_indexes() {
    let out = Setup::default()
        .run(json!({
            "service": "vec",
            "custom": {
                "a": {"b": {"c": "deep"}},
                "list": ["zero", "one"],
                "objs": [{"name": "first"}, {"name": "second"}],
                "out": "${self:custom.a.b.c}",
                "obj": "${self:custom.a.b}",
                "second": "${self:custom.list.1}",
                "nested": "${self:custom.objs.1.name}",
                "svc": "${self:service}",
            }
        }))
        .unwrap();
    let custom = custom(out);
    assert_eq!(custom["out"], json!("deep"));
    assert_eq!(custom["obj"], json!({"c": "deep"}));
    assert_eq!(custom["second"], json!("one"));
    assert_eq!(custom["nested"], json!("second"));
    assert_eq!(custom["svc"], json!("vec"));
}

#[test]
fn whole_values_keep_their_type_and_interpolation_makes_text() {
    let out = Setup::default()
        .env("NUM", "42")
        .run(json!({"custom": {
            "num": 42, "flt": 1.5, "on": true,
            "n": "${self:custom.num}", "f": "${self:custom.flt}", "b": "${self:custom.on}",
            "e": "${env:NUM}",
            "url": "http://localhost:${self:custom.num}/x-${self:custom.on}-${self:custom.flt}",
            "lit": "${env:NOPE, 0x10}", "litStr": "port-${env:NOPE, 8080}",
        }}))
        .unwrap();
    let custom = custom(out);
    assert_eq!(custom["n"], json!(42));
    assert_eq!(custom["f"], json!(1.5));
    assert_eq!(custom["b"], json!(true));
    assert_eq!(custom["e"], json!("42"));
    assert_eq!(custom["url"], json!("http://localhost:42/x-true-1.5"));
    assert_eq!(custom["lit"], json!(16));
    assert_eq!(custom["litStr"], json!("port-8080"));
}

#[test]
fn null_targets_count_as_not_found_but_empty_strings_are_found() {
    let out = Setup::default()
        .env("EMPTY", "")
        .run(json!({"custom": {
            "n": null, "e": "",
            "a": "${self:custom.n, 'fb'}",
            "b": "${self:custom.e, 'unused'}",
            "c": "${env:EMPTY, 'unused'}",
            "d": "${env:NOPE, null}",
        }}))
        .unwrap();
    let custom = custom(out);
    assert_eq!(custom["a"], json!("fb"));
    assert_eq!(custom["b"], json!(""));
    assert_eq!(custom["c"], json!(""));
    assert_eq!(custom["d"], json!(null));
    let error = Setup::default()
        .run(json!({"custom": {"n": null, "plain": "${self:custom.n}"}}))
        .unwrap_err();
    assert!(reasons(&error)[0].ends_with("Value not found at \"self\" source"));
}

#[test]
fn fallback_chains_try_each_source_in_turn() {
    let out = Setup::default()
        .env("B_SET", "from-b")
        .option("stage", "prod")
        .run(json!({"custom": {
            "x": "from-self",
            "byStage": {"prod": "prod-value"},
            "a": "${env:A_UNSET, env:B_SET, opt:c, 'last'}",
            "b": "${env:A_UNSET, opt:nope, 'last'}",
            "c": "${env:NOPE, self:custom.byStage.${opt:stage}}",
            "d": "${self:custom.missing, self:custom.x}",
            "e": "${self:custom.byStage.${opt:nope, 'qa'}, 'no-qa'}",
        }}))
        .unwrap();
    let custom = custom(out);
    assert_eq!(custom["a"], json!("from-b"));
    assert_eq!(custom["b"], json!("last"));
    assert_eq!(custom["c"], json!("prod-value"));
    assert_eq!(custom["d"], json!("from-self"));
    assert_eq!(custom["e"], json!("no-qa"));
}

#[test]
fn resolved_values_are_read_again_up_to_ten_times() {
    let mut setup = Setup::default().env("TRICKY", "${self:service}-${opt:stage}");
    setup = setup.option("stage", "prod");
    let out = setup
        .run(
            json!({"service": "vec", "custom": {"v": "${env:TRICKY}", "s": "x-${env:TRICKY}",
            "lit": "${env:NOPE, '${self:service}'}", "foreign": "${env:NOPE, '${not.a.var}'}"}}),
        )
        .unwrap();
    let custom = custom(out);
    assert_eq!(custom["v"], json!("vec-prod"));
    assert_eq!(custom["s"], json!("x-vec-prod"));
    assert_eq!(custom["lit"], json!("vec"));
    assert_eq!(custom["foreign"], json!("${not.a.var}"));

    let chain = |length: usize| {
        let mut setup = Setup::default();
        for index in 1..length {
            setup = setup.env(&format!("E{index}"), &format!("${{env:E{}}}", index + 1));
        }
        setup
            .env(&format!("E{length}"), "done")
            .run(json!({"custom": {"x": "${env:E1}"}}))
    };
    assert_eq!(custom_value(chain(11).unwrap(), "x"), json!("done"));
    let error = chain(12).unwrap_err();
    assert!(reasons(&error)[0].ends_with("Excessive property variables nest depth"));
}

fn custom_value(config: Json, key: &str) -> Json {
    config["custom"][key].clone()
}

#[test]
fn escapes_give_literal_variable_text_even_from_the_environment() {
    let out = Setup::default()
        .env("ESCAPED", r"\${self:service}")
        .env("FOREIGN", "arn:${AWS::Region}")
        .run(json!({"service": "vec", "custom": {
            "esc": r"\${self:service}",
            "dbl": r"\\${self:service}",
            "lone": r"a\b",
            "env": "${env:ESCAPED}",
            "foreign": "${env:FOREIGN}",
            "dollars": "a$${self:service}b",
            "afterDollar": r"$\${self:service}",
            "mixed": "${AWS::Region}-${self:service}",
        }}))
        .unwrap();
    let custom = custom(out);
    assert_eq!(custom["esc"], json!("${self:service}"));
    assert_eq!(custom["dbl"], json!("\\vec"));
    assert_eq!(custom["lone"], json!("a\\b"));
    assert_eq!(custom["env"], json!("${self:service}"));
    assert_eq!(custom["foreign"], json!("arn:${AWS::Region}"));
    assert_eq!(custom["dollars"], json!("avecb"));
    assert_eq!(custom["afterDollar"], json!("$\\vec"));
    assert_eq!(custom["mixed"], json!("${AWS::Region}-vec"));
}

#[test]
fn copies_of_maps_are_resolved_and_keys_never_are() {
    let out = Setup::default()
        .option("stage", "prod")
        .run(json!({"service": "vec", "custom": {
            "tmpl": {"name": "svc-${sls:stage}", "inner": {"svc": "${self:service}"}},
            "copy": "${self:custom.tmpl}",
            "${opt:stage}": "value",
        }}))
        .unwrap();
    let custom = custom(out);
    assert_eq!(
        custom["copy"],
        json!({"name": "svc-prod", "inner": {"svc": "vec"}})
    );
    assert_eq!(custom["${opt:stage}"], json!("value"));
}

#[test]
fn stage_and_region_come_from_options_then_provider_then_defaults() {
    let config = json!({"provider": {"stage": "${env:STAGE, 'dev'}", "region": "eu-north-1"},
        "custom": {"s": "${sls:stage}", "r": "${aws:region}", "p": "${self:provider.stage}"}});
    let out = Setup::default()
        .env("STAGE", "qa")
        .run(config.clone())
        .unwrap();
    assert_eq!(
        out["custom"],
        json!({"s": "qa", "r": "eu-north-1", "p": "qa"})
    );
    let out = Setup::default()
        .option("stage", "prod")
        .option("region", "eu-west-1")
        .run(config)
        .unwrap();
    assert_eq!(
        out["custom"],
        json!({"s": "prod", "r": "eu-west-1", "p": "dev"})
    );
    let out = Setup::default()
        .run(json!({"custom": {"s": "${sls:stage}", "r": "${aws:region}"}}))
        .unwrap();
    assert_eq!(out["custom"], json!({"s": "dev", "r": "us-east-1"}));
}

#[test]
fn params_prefer_the_command_line_then_the_stage_then_default() {
    let mut setup = Setup::default().option("stage", "prod");
    setup.params = vec![("domain".into(), "cli.example.com".into())];
    let out = setup
        .run(json!({
            "params": {"prod": {"domain": "prod.example.com", "only": "prod-only"},
                       "default": {"domain": "default.example.com", "dflt": "from-default"}},
            "custom": {"domain": "${param:domain}", "only": "${param:only}",
                       "dflt": "${param:dflt}", "fb": "${param:nope, 'fb'}"}
        }))
        .unwrap();
    assert_eq!(
        out["custom"],
        json!({"domain": "cli.example.com", "only": "prod-only", "dflt": "from-default", "fb": "fb"})
    );
    let error = Setup::default()
        .run(json!({"custom": {"x": "${param:nope}"}}))
        .unwrap_err();
    assert!(reasons(&error)[0].contains("Serverless Framework Compose"));
}

#[test]
fn str_to_bool_reads_true_false_one_and_zero() {
    let out = Setup::default()
        .env("FLAG", "1")
        .run(json!({"custom": {
            "t": "${strToBool(true)}", "upper": "${strToBool('TRUE')}",
            "spaced": "${strToBool(' 1 ')}", "zero": "${strToBool(0)}",
            "f": "${strToBool(false)}", "env": "${strToBool(${env:FLAG})}",
        }}))
        .unwrap();
    assert_eq!(
        out["custom"],
        json!({"t": true, "upper": true, "spaced": true, "zero": false, "f": false, "env": true})
    );
    let error = Setup::default()
        .run(json!({"custom": {"x": "${strToBool(yes)}"}}))
        .unwrap_err();
    assert!(reasons(&error)[0].contains("Received: yes"));
}

#[test]
fn cycles_are_reported_with_the_chain_and_places() {
    let error = Setup::default()
        .run(json!({"custom": {"a": "${self:custom.a}"}}))
        .unwrap_err();
    assert!(reasons(&error)[0].contains("\"custom.a\" refers to itself"));
    let error = Setup::default()
        .run(
            json!({"custom": {"a": "x-${self:custom.b}", "b": "y-${self:custom.c}",
            "c": "z-${self:custom.a}"}}),
        )
        .unwrap_err();
    assert_eq!(
        error.failures.len(),
        1,
        "one cycle, reported once: {error:?}"
    );
    let message = &error.failures[0].message;
    assert!(message.contains("custom.a (serverless.yml:"), "{message}");
    assert!(
        message.contains("-> custom.b (serverless.yml:"),
        "{message}"
    );
    assert!(message.ends_with("-> custom.a"), "{message}");
    let error = Setup::default()
        .run(json!({"custom": {"root": "${self:}"}}))
        .unwrap_err();
    assert!(reasons(&error)[0].contains("refers to itself"));
}

#[test]
fn long_self_chains_resolve_without_recursion() {
    let mut custom = serde_json::Map::new();
    for index in 1..5000 {
        custom.insert(
            format!("v{index}"),
            json!(format!("${{self:custom.v{}}}", index + 1)),
        );
    }
    custom.insert("v5000".into(), json!("end"));
    let out = Setup::default().run(json!({"custom": custom})).unwrap();
    assert_eq!(out["custom"]["v1"], json!("end"));
}

#[test]
fn every_failure_is_reported_at_once_with_its_place() {
    let error = Setup::default()
        .run(json!({"custom": {
            "a": "${env:MISSING_ONE}",
            "b": "${opt:nope}",
            "c": "x-${self:custom.obj}", "obj": {"k": 1},
            "d": "${env:NOPE, 'a', 'b'}",
        }}))
        .unwrap_err();
    let reasons = reasons(&error);
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].starts_with("Cannot resolve variable at \"custom.a\" (serverless.yml:"));
    assert!(reasons[0].ends_with("Value not found at \"env\" source"));
    assert!(reasons[2].contains("non-string value"));
    assert!(reasons[3].starts_with("Variable syntax error at \"custom.d\""));
    let help = error.failures[0].help.as_deref().unwrap_or_default();
    assert!(help.contains("${env:MISSING_ONE, 'default'}"), "{help}");
    assert!(error.message.contains("4 variables could not be resolved"));
}

#[test]
fn an_unknown_source_is_an_error_that_a_fallback_does_not_hide() {
    let error = Setup::default()
        .run(json!({"custom": {"x": "${slf:bar, 'fb'}"}}))
        .unwrap_err();
    assert!(reasons(&error)[0].contains("Unrecognized configuration variable source \"slf\""));
    let help = error.failures[0].help.as_deref().unwrap_or_default();
    assert!(help.contains("did you mean \"self\""), "{help}");
    assert!(error
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("strToBool"));
    assert!(
        error
            .message
            .ends_with("Unrecognized configuration variable sources: \"slf\""),
        "{}",
        error.message
    );
}

/// Answers from a fixed table; counts the calls.
struct FakeCloud {
    calls: AtomicUsize,
}

impl CloudVariables for FakeCloud {
    fn fetch(&self, reference: &CloudReference) -> Result<Option<Json>, CloudError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match reference {
            CloudReference::Ssm { name, .. } if name == "/secret" => Ok(Some(json!("s3cr3t"))),
            CloudReference::Ssm { name, .. } if name == "/down" => Err(CloudError {
                message: "Inaccessible host: ssm.us-east-1.amazonaws.com".into(),
            }),
            CloudReference::CloudFormationOutput {
                stack,
                output,
                region,
            } => Ok(Some(json!(format!(
                "{stack}/{output}/{}",
                region.as_deref().unwrap_or("-")
            )))),
            _ => Ok(None),
        }
    }
}

#[test]
fn cloud_sources_fall_back_only_when_the_value_does_not_exist() {
    let cloud = FakeCloud {
        calls: AtomicUsize::new(0),
    };
    let (out, resolution) = Setup::default()
        .run_with(
            json!({"custom": {
                "secret": "${ssm:/secret}", "again": "pre-${ssm:/secret}",
                "missing": "${ssm:/absent, 'fb'}",
                "cf": "${cf(eu-west-1):stack.Out}",
            }}),
            Some(&cloud),
        )
        .unwrap();
    assert_eq!(out["custom"]["secret"], json!("s3cr3t"));
    assert_eq!(out["custom"]["again"], json!("pre-s3cr3t"));
    assert_eq!(out["custom"]["missing"], json!("fb"));
    assert_eq!(out["custom"]["cf"], json!("stack/Out/eu-west-1"));
    assert_eq!(resolution.secrets, vec!["s3cr3t".to_string()]);
    assert_eq!(
        cloud.calls.load(Ordering::SeqCst),
        3,
        "each reference is asked once"
    );

    let error = Setup::default()
        .run_with(json!({"custom": {"x": "${ssm:/down, 'fb'}"}}), Some(&cloud))
        .unwrap_err();
    assert!(error.failures[0].message.contains("Inaccessible host"));
}

#[test]
fn cloud_addresses_are_checked_before_asking() {
    let cloud = FakeCloud {
        calls: AtomicUsize::new(0),
    };
    let error = Setup::default()
        .run_with(json!({"custom": {"x": "${cf:nodot}"}}), Some(&cloud))
        .unwrap_err();
    assert!(error.failures[0]
        .message
        .contains("Expected \"<stack-name>.<output-id>\" format"));
    assert_eq!(cloud.calls.load(Ordering::SeqCst), 0);
    let error = Setup::default()
        .run_with(json!({"custom": {"x": "${aws:accountId}"}}), None)
        .unwrap_err();
    assert!(error.failures[0].message.contains("no AWS access"));
}

#[test]
fn text_files_are_read_whole_and_javascript_files_are_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("message.txt"), "hello from text\n").unwrap();
    std::fs::write(
        dir.path().join("config.js"),
        "module.exports = { plain: 'p', fn: ({ options }) => `fn-${options.stage}` }",
    )
    .unwrap();
    let setup = Setup {
        service_dir: dir.path().to_path_buf(),
        ..Setup::default()
    }
    .option("stage", "qa");
    let out = setup
        .run(json!({"custom": {
            "msg": "${file(./message.txt)}", "inStr": "[${file(message.txt)}]",
            "missing": "${file(./nope.yml), 'fallback'}",
            "plain": "${file(./config.js):plain}", "fn": "${file(./config.js):fn}",
            "absent": "${file(./config.js):nothing, 'none'}",
        }}))
        .unwrap();
    assert_eq!(
        out["custom"],
        json!({"msg": "hello from text\n", "inStr": "[hello from text\n]", "missing": "fallback",
               "plain": "p", "fn": "fn-qa", "absent": "none"})
    );
}

/// A function's `resolveVariable` that needs a property resolved later makes the engine
/// resolve that one first and run the function again.
#[test]
fn a_javascript_function_waits_for_the_properties_it_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.js"),
        "module.exports = async ({ resolveVariable, resolveConfigurationProperty }) => ({ \
           variable: await resolveVariable('self:custom.later'), \
           property: await resolveConfigurationProperty(['custom', 'later']) })",
    )
    .unwrap();
    let setup = Setup {
        service_dir: dir.path().to_path_buf(),
        ..Setup::default()
    }
    .env("LATER", "from-env");
    let out = setup
        .run(json!({"custom": {"js": "${file(./config.js)}", "later": "${env:LATER}"}}))
        .unwrap();
    assert_eq!(
        out["custom"]["js"],
        json!({"variable": "from-env", "property": "from-env"})
    );
}

#[test]
fn a_manifest_of_200_functions_resolves_quickly() {
    let mut functions = serde_json::Map::new();
    for index in 0..200 {
        functions.insert(
            format!("function{index}"),
            json!({
                "handler": "src/handler.main",
                "name": "${self:service}-${sls:stage}-function",
                "memorySize": "${self:custom.memory.${sls:stage}}",
                "environment": {"TABLE": "${self:custom.table}", "STAGE": "${opt:stage, 'dev'}"},
                "events": [{"http": {"path": "/f/${sls:stage}", "method": "get"}}],
            }),
        );
    }
    let config = json!({"service": "svc", "provider": {"stage": "${opt:stage, 'dev'}"},
        "custom": {"memory": {"dev": 128}, "table": "${self:service}-${sls:stage}"},
        "functions": functions});
    let start = std::time::Instant::now();
    let out = Setup::default().run(config).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(out["functions"]["function199"]["memorySize"], json!(128));
    // Generous for unoptimised test builds; release builds take a few milliseconds.
    assert!(elapsed.as_millis() < 1000, "took {elapsed:?}");
}

#[test]
fn copies_that_nest_ever_deeper_are_refused() {
    let mut custom = serde_json::Map::new();
    for index in 1..2000 {
        custom.insert(
            format!("v{index}"),
            json!({"inner": format!("${{self:custom.v{}}}", index + 1)}),
        );
    }
    custom.insert("v2000".into(), json!("end"));
    let error = Setup::default().run(json!({"custom": custom})).unwrap_err();
    assert!(
        error.failures[0].message.contains("levels deep"),
        "{}",
        error.failures[0].message
    );
}

#[test]
fn copies_that_double_each_time_are_refused() {
    let mut custom = serde_json::Map::new();
    custom.insert("v0".into(), json!(["x", "x", "x", "x"]));
    for index in 1..30 {
        let previous = format!("${{self:custom.v{}}}", index - 1);
        custom.insert(format!("v{index}"), json!([previous, previous]));
    }
    let start = std::time::Instant::now();
    let error = Setup::default().run(json!({"custom": custom})).unwrap_err();
    assert!(
        error
            .failures
            .iter()
            .any(|f| f.message.contains("copy more than")),
        "{error:?}"
    );
    assert!(start.elapsed().as_secs() < 10);
}

#[test]
fn ssm_and_cf_are_asked_in_the_region_of_the_service() {
    let cloud = FakeCloud {
        calls: AtomicUsize::new(0),
    };
    let config = json!({"provider": {"region": "eu-west-1"}, "custom": {
        "cf": "${cf:stack.Out}", "explicit": "${cf(us-west-2):stack.Out}"}});
    let (out, _) = Setup::default()
        .run_with(config.clone(), Some(&cloud))
        .unwrap();
    assert_eq!(out["custom"]["cf"], json!("stack/Out/eu-west-1"));
    assert_eq!(out["custom"]["explicit"], json!("stack/Out/us-west-2"));
    // `--region` is the cloud client's own: the reference leaves it to the client.
    let (out, _) = Setup::default()
        .option("region", "ap-south-1")
        .run_with(config, Some(&cloud))
        .unwrap();
    assert_eq!(out["custom"]["cf"], json!("stack/Out/-"));
}

#[test]
fn file_addresses_walk_through_strings_that_hold_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stages.txt"), "${self:custom.byStage}").unwrap();
    let setup = Setup {
        service_dir: dir.path().to_path_buf(),
        ..Setup::default()
    };
    let out = setup
        .run(json!({"custom": {
            "byStage": {"dev": {"size": 1}},
            "size": "${file(./stages.txt):dev.size}",
            "missing": "${file(./stages.txt):prod.size, 'none'}",
        }}))
        .unwrap();
    assert_eq!(out["custom"]["size"], json!(1));
    assert_eq!(out["custom"]["missing"], json!("none"));
}

/// Answers after a delay, tracking how many requests are under way at once.
struct SlowCloud {
    active: AtomicUsize,
    most: AtomicUsize,
    calls: AtomicUsize,
}

impl CloudVariables for SlowCloud {
    fn fetch(&self, reference: &CloudReference) -> Result<Option<Json>, CloudError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(50));
        self.active.fetch_sub(1, Ordering::SeqCst);
        match reference {
            CloudReference::Ssm { name, .. } => Ok(Some(json!(format!("value of {name}")))),
            _ => Ok(None),
        }
    }
}

#[test]
fn first_choice_cloud_values_are_asked_in_parallel_and_fallbacks_only_when_reached() {
    let cloud = SlowCloud {
        active: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
    };
    let mut custom = serde_json::Map::new();
    for index in 0..16 {
        custom.insert(
            format!("p{index}"),
            json!(format!("${{ssm:/param/{index}}}")),
        );
    }
    custom.insert("unreached".into(), json!("${env:SET, ssm:/never}"));
    let (out, resolution) = Setup::default()
        .env("SET", "yes")
        .run_with(json!({ "custom": custom }), Some(&cloud))
        .unwrap();
    assert_eq!(out["custom"]["p15"], json!("value of /param/15"));
    assert_eq!(out["custom"]["unreached"], json!("yes"));
    assert_eq!(
        cloud.calls.load(Ordering::SeqCst),
        16,
        "each value once, /never not at all"
    );
    assert!(cloud.most.load(Ordering::SeqCst) > 1, "requests overlap");
    assert_eq!(resolution.secrets.len(), 16);
}

#[test]
fn unset_provider_stage_points_at_sls_stage() {
    let error = Setup::default()
        .run(json!({"provider": {"name": "aws"}, "custom": {"stage": "${self:provider.stage}"}}))
        .unwrap_err();
    let help = error.failures[0].help.clone().unwrap_or_default();
    assert!(help.contains("${sls:stage}"), "{help}");
}

#[test]
fn file_reads_of_devices_fifos_directories_and_huge_files_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let sparse = std::fs::File::create(dir.path().join("huge.txt")).unwrap();
    sparse.set_len(2 * 1024 * 1024 * 1024).unwrap();
    let fifo = dir.path().join("pipe.txt");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs")
        .success());
    let setup = Setup {
        service_dir: dir.path().to_path_buf(),
        ..Setup::default()
    };
    for (key, file, expected) in [
        ("zero", "/dev/zero", "a device"),
        ("random", "/dev/urandom", "a device"),
        ("folder", "./folder", "a directory"),
        ("pipe", "./pipe.txt", "a named pipe"),
        ("huge", "./huge.txt", "more than the 16777216-byte limit"),
    ] {
        let error = setup
            .run(json!({"custom": {key: format!("${{file({file})}}")}}))
            .expect_err("the read is refused");
        let failure = &error.failures[0];
        assert!(
            failure.message.contains(expected),
            "{key}: {}",
            failure.message
        );
        assert_eq!(
            failure.property,
            format!("custom.{key}"),
            "{key}: the place is the variable's"
        );
    }
}
