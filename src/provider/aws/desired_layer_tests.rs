//! The desired state of layers built from the service (`layers:`): their names, the Framework's
//! `{Key}LambdaLayer` logical id that functions attach them by, what a changed layer plans, and
//! what is refused before any call.

use serde_json::{json, Value as Json};

use super::context::Context;
use super::desired_state;
use super::naming::{self, kind};
use crate::manifest::model::Service;
use crate::manifest::{Node, Span};
use crate::package::Artifact;
use crate::plan::{
    plan, Action, DesiredState, Live, LiveState, Planned, Properties, Reference, ResourceId,
};
use crate::provider::ProviderError;

const LAYER_SHA: &str = "cd";

fn artifact(functions: &[&str], layer: Option<&str>, sha: &str) -> Artifact {
    Artifact {
        path: "/nowhere/a.zip".into(),
        name: "a.zip".into(),
        functions: functions.iter().map(|f| f.to_string()).collect(),
        layer: layer.map(str::to_string),
        sha256: sha.repeat(32),
        bytes: 10,
        unzipped_bytes: None,
        files: Vec::new(),
        prebuilt: false,
        rewritten: true,
        secrets_left_out: Vec::new(),
        milliseconds: 0,
    }
}

/// The desired state of a service with a function `api` and these layers, each packaged.
fn build(layers: Json, function: Json) -> Result<DesiredState, ProviderError> {
    let manifest = json!({
        "service": "svc",
        "provider": {"name": "aws", "runtime": "nodejs20.x"},
        "functions": {"api": function},
        "layers": layers,
    });
    let service =
        Service::from_tree(&Node::from_json(&manifest, Span::default())).expect("a service");
    let mut artifacts = vec![artifact(&["api"], None, "ab")];
    for key in service.layers.keys() {
        artifacts.push(artifact(&[], Some(key), LAYER_SHA));
    }
    let context = Context::new(&service, &artifacts, "123456789012", "aws", "deploys");
    desired_state(&context)
}

fn ffmpeg() -> Json {
    json!({"ffmpeg": {"path": "layer"}})
}

fn attached(layers: Json) -> Json {
    json!({"handler": "handler.api", "layers": layers})
}

fn layer_id(name: &str) -> ResourceId {
    ResourceId::new(kind::LAYER, name)
}

fn function_id() -> ResourceId {
    ResourceId::new(kind::FUNCTION, "svc-dev-api")
}

fn message(error: ProviderError) -> String {
    match error {
        ProviderError::Invalid { message, help, .. } => format!("{message} / {help}"),
        ProviderError::Unsupported { what, help, .. } => format!("{what} / {help}"),
        other => panic!("a refusal: {other:?}"),
    }
}

#[test]
fn a_layer_is_named_by_its_key_and_published_from_its_artifact() {
    let state = build(ffmpeg(), json!({"handler": "handler.api"})).expect("builds");
    let layer = state
        .get(&layer_id("ffmpeg"))
        .expect("the layer is desired");
    assert_eq!(layer.properties["sha256"], json!(LAYER_SHA.repeat(32)));
    assert_eq!(layer.properties["retain"], json!(false));
    assert_eq!(layer.properties["description"], Json::Null);
    let key = naming::artifact_key("svc", "dev", &LAYER_SHA.repeat(32));
    assert_eq!(layer.inputs["s3_key"], json!(key));
    assert_eq!(layer.inputs["s3_bucket"], json!("deploys"));
    let artifact = ResourceId::new(kind::ARTIFACT, key);
    assert!(layer.depends_on.contains(&artifact));
    assert!(
        state.get(&artifact).is_some(),
        "the layer's zip is uploaded"
    );
    // A new zip or a changed setting publishes a new version; `retain` alone does not.
    assert!(layer.replace_when.contains("sha256"));
    assert!(layer.replace_when.contains("compatible_runtimes"));
    assert!(!layer.replace_when.contains("retain"));
}

#[test]
fn a_layers_name_setting_names_it_and_its_settings_are_kept_sorted() {
    let state = build(
        json!({"ffmpeg": {
            "path": "layer",
            "name": "media-tools",
            "description": "ffmpeg binaries",
            "compatibleRuntimes": ["nodejs20.x", "nodejs18.x"],
            "compatibleArchitectures": ["x86_64"],
            "licenseInfo": "GPL-2.0",
            "retain": true,
        }}),
        attached(json!([{"Ref": "FfmpegLambdaLayer"}])),
    )
    .expect("builds");
    assert!(state.get(&layer_id("ffmpeg")).is_none());
    let layer = state
        .get(&layer_id("media-tools"))
        .expect("named by `name`");
    assert_eq!(layer.properties["description"], json!("ffmpeg binaries"));
    assert_eq!(
        layer.properties["compatible_runtimes"],
        json!(["nodejs18.x", "nodejs20.x"])
    );
    assert_eq!(
        layer.properties["compatible_architectures"],
        json!(["x86_64"])
    );
    assert_eq!(layer.properties["license_info"], json!("GPL-2.0"));
    assert_eq!(layer.properties["retain"], json!(true));
    let function = state.get(&function_id()).expect("the function");
    assert_eq!(
        function.properties["layers"],
        json!([Reference::new(layer_id("media-tools"), "arn").to_json()])
    );
}

#[test]
fn a_ref_to_the_layers_logical_id_is_its_version_arn_and_the_function_depends_on_it() {
    let state = build(
        json!({"ffmpeg": {"path": "layer"}, "my-deps_x": {"path": "deps"}}),
        attached(json!([
            {"Ref": "FfmpegLambdaLayer"},
            {"Fn::GetAtt": ["MyDashdepsUnderscorexLambdaLayer", "LayerVersionArn"]},
            "arn:aws:lambda:us-east-1:123456789012:layer:shared:3",
        ])),
    )
    .expect("builds");
    let function = state.get(&function_id()).expect("the function");
    assert_eq!(
        function.properties["layers"],
        json!([
            Reference::new(layer_id("ffmpeg"), "arn").to_json(),
            Reference::new(layer_id("my-deps_x"), "arn").to_json(),
            "arn:aws:lambda:us-east-1:123456789012:layer:shared:3",
        ])
    );
    assert!(function.depends_on.contains(&layer_id("ffmpeg")));
    assert!(function.depends_on.contains(&layer_id("my-deps_x")));
}

#[test]
fn a_ref_to_a_layer_the_service_does_not_build_names_it() {
    let error = build(
        ffmpeg(),
        attached(json!([{"Ref": "ImagemagickLambdaLayer"}])),
    )
    .expect_err("refused");
    let text = message(error);
    assert!(text.contains("ImagemagickLambdaLayer"), "{text}");
}

#[test]
fn a_layers_version_arn_cannot_be_joined_before_it_is_published() {
    let error = build(
        ffmpeg(),
        json!({"handler": "handler.api", "environment": {
            "LAYER": {"Fn::Join": ["", [{"Ref": "FfmpegLambdaLayer"}]]}
        }}),
    )
    .expect_err("refused");
    assert!(message(error).contains("only known once"));
}

#[test]
fn more_than_five_layers_on_a_function_are_refused() {
    let arns: Vec<Json> = (1..=6)
        .map(|n| {
            json!(format!(
                "arn:aws:lambda:us-east-1:123456789012:layer:l{n}:1"
            ))
        })
        .collect();
    let error = build(ffmpeg(), attached(json!(arns))).expect_err("refused");
    let text = message(error);
    assert!(text.contains("6 layers"), "{text}");
    assert!(text.contains("at most 5"), "{text}");
}

#[test]
fn more_than_fifteen_compatible_runtimes_are_refused() {
    let runtimes: Vec<Json> = (0..16).map(|n| json!(format!("python3.{n}"))).collect();
    let error = build(
        json!({"ffmpeg": {"path": "layer", "compatibleRuntimes": runtimes}}),
        json!({"handler": "handler.api"}),
    )
    .expect_err("refused");
    let text = message(error);
    assert!(text.contains("layer `ffmpeg`"), "{text}");
    assert!(text.contains("16 compatible runtimes"), "{text}");
}

#[test]
fn a_layer_name_lambda_refuses_and_allowed_accounts_are_refused_naming_the_layer() {
    let error = build(
        json!({"ffmpeg": {"path": "layer", "name": "media tools"}}),
        json!({"handler": "handler.api"}),
    )
    .expect_err("refused");
    assert!(message(error).contains("layers.ffmpeg.name"));
    let error = build(
        json!({"ffmpeg": {"path": "layer", "allowedAccounts": ["*"]}}),
        json!({"handler": "handler.api"}),
    )
    .expect_err("refused");
    assert!(message(error).contains("layers.ffmpeg.allowedAccounts"));
}

/// The layer and function as deployed: the layer's version 1, the function attached to it.
fn deployed(state: &DesiredState, sha: &str) -> LiveState {
    let arn = "arn:aws:lambda:us-east-1:123456789012:layer:ffmpeg:1";
    let resources = state
        .resources
        .iter()
        .map(|resource| {
            let mut properties = resource.properties.clone();
            let mut attributes = Properties::new();
            if resource.id.kind == kind::LAYER {
                properties.insert("sha256".into(), json!(sha.repeat(32)));
                attributes.insert("arn".into(), json!(arn));
            }
            if resource.id.kind == kind::FUNCTION {
                properties.insert("layers".into(), json!([arn]));
                properties.insert("role".into(), json!("arn:aws:iam::123456789012:role/r"));
            }
            if resource.id.kind == kind::ROLE {
                attributes.insert("arn".into(), json!("arn:aws:iam::123456789012:role/r"));
            }
            Live {
                id: resource.id.clone(),
                properties,
                attributes,
                ..Live::default()
            }
        })
        .collect();
    LiveState {
        resources,
        ..LiveState::default()
    }
}

#[test]
fn an_unchanged_layer_plans_nothing_and_a_new_zip_moves_the_function_to_a_new_version() {
    let state = build(ffmpeg(), attached(json!([{"Ref": "FfmpegLambdaLayer"}]))).expect("builds");
    let same = plan(&state, &deployed(&state, LAYER_SHA)).expect("plans");
    for id in [layer_id("ffmpeg"), function_id()] {
        let step = same.step(&id).expect("a step");
        assert_eq!(step.action, Action::NoOp, "{id}: {:?}", step.changes);
    }

    let changed = plan(&state, &deployed(&state, "ef")).expect("plans");
    let layer = changed.step(&layer_id("ffmpeg")).expect("the layer's step");
    assert_eq!(layer.action, Action::Replace);
    let function = changed.step(&function_id()).expect("the function's step");
    assert_eq!(function.action, Action::Update);
    let fields: Vec<&str> = function.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["layers"]);
    assert_eq!(function.changes[0].new, Planned::AfterApply);
}
