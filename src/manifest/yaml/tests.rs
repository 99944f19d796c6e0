//! Tests of the YAML loader against the Framework's reading of YAML (js-yaml 4 with the
//! CloudFormation schema).

use serde_json::json;

use super::*;
use crate::manifest::node::Value;
use crate::manifest::source::SourceFile;

fn parse_named(name: &str, text: &str, limits: &Limits) -> (SourceMap, Result<Node, YamlError>) {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(name.into(), name.into(), text));
    let result = parse(&sources, file, limits);
    (sources, result)
}

fn parse_text(text: &str) -> Result<Node, YamlError> {
    parse_named("serverless.yml", text, &Limits::default()).1
}

fn to_json(text: &str) -> serde_json::Value {
    match parse_text(text) {
        Ok(node) => node.to_json(),
        Err(error) => panic!("unexpected error: {}", error.message),
    }
}

fn error_of(text: &str) -> YamlError {
    match parse_text(text) {
        Ok(node) => panic!("expected an error, got {}", node.to_json()),
        Err(error) => error,
    }
}

fn value_of(scalar: &str) -> Value {
    let node = parse_text(&format!("v: {scalar}\n")).unwrap_or_else(|e| panic!("{}", e.message));
    node.get("v")
        .map(|n| n.value.clone())
        .unwrap_or(Value::Null)
}

// --- Parsing and positions ---

#[test]
fn nested_block_and_flow_collections_parse_in_order() {
    assert_eq!(
        to_json("b: 1\na: [x, {c: d}]\nm:\n  - k: v\n"),
        json!({"b": 1, "a": ["x", {"c": "d"}], "m": [{"k": "v"}]})
    );
}

#[test]
fn spans_are_byte_offsets_after_multibyte_characters() {
    let text = "é: ünïcode\nkey: value\n";
    let node = parse_text(text).unwrap();
    let value = node.get("key").unwrap();
    assert_eq!(
        &text[value.span.start as usize..value.span.end as usize],
        "value"
    );
    let first = node.get("é").unwrap();
    assert_eq!(
        &text[first.span.start as usize..first.span.end as usize],
        "ünïcode"
    );
    let map = node.as_map().unwrap();
    let key_span = map.entry("key").unwrap().key_span;
    assert_eq!(&text[key_span.start as usize..key_span.end as usize], "key");
}

#[test]
fn scalar_spans_cover_quoted_folded_and_block_text() {
    let text = "a: 'it''s'\nb: \"x\\\"y\"\nc: one\n  two\nd: |\n  line1\n  line2\ne: z\n";
    let node = parse_text(text).unwrap();
    let covered = |key: &str| {
        let span = node.get(key).unwrap().span;
        &text[span.start as usize..span.end as usize]
    };
    assert_eq!(covered("a"), "'it''s'");
    assert_eq!(covered("b"), "\"x\\\"y\"");
    assert_eq!(covered("c"), "one\n  two");
    assert_eq!(covered("d"), "line1\n  line2");
}

#[test]
fn collection_spans_start_where_the_collection_starts() {
    let text = "top:\n  inner: 1\nlist: [1, 2]\n";
    let node = parse_text(text).unwrap();
    assert_eq!(node.span.start, 0);
    assert_eq!(
        node.get("top").unwrap().span.start as usize,
        text.find("inner").unwrap()
    );
    let list = node.get("list").unwrap().span;
    assert_eq!(&text[list.start as usize..list.end as usize], "[1, 2]");
}

#[test]
fn empty_document_is_null() {
    assert!(parse_text("").unwrap().is_null());
    assert!(parse_text("# only a comment\n").unwrap().is_null());
}

#[test]
fn json_text_parses_with_tab_indentation() {
    let text = "{\n\t\"service\": \"a\",\n\t\"list\": [1, 2.5, true, null, \"x\\/y\"]\n}\n";
    let (_, result) = parse_named("serverless.json", text, &Limits::default());
    let node = result.unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(
        node.to_json(),
        json!({"service": "a", "list": [1, 2.5, true, null, "x/y"]})
    );
}

#[test]
fn json_file_repeated_key_takes_the_last_value_like_json_parse() {
    let (_, result) = parse_named(
        "config.json",
        "{\"a\": 1, \"b\": 2, \"a\": 3}",
        &Limits::default(),
    );
    assert_eq!(result.unwrap().to_json().to_string(), r#"{"a":3,"b":2}"#);
}

// --- Scalar typing (js-yaml 4 core schema) ---

#[test]
fn null_forms_are_null_and_quoted_null_is_a_string() {
    for text in ["null", "Null", "NULL", "~", ""] {
        assert_eq!(value_of(text), Value::Null, "{text:?}");
    }
    assert_eq!(value_of("'null'"), Value::String("null".into()));
    assert_eq!(value_of("nULL"), Value::String("nULL".into()));
}

#[test]
fn only_yaml_1_2_booleans_are_booleans() {
    for text in ["true", "True", "TRUE"] {
        assert_eq!(value_of(text), Value::Bool(true));
    }
    for text in ["false", "False", "FALSE"] {
        assert_eq!(value_of(text), Value::Bool(false));
    }
    for text in ["yes", "no", "on", "off", "y", "n", "tRUE"] {
        assert_eq!(value_of(text), Value::String(text.into()), "{text}");
    }
}

#[test]
fn integers_follow_js_yaml_bases_and_leading_zeros_are_decimal() {
    assert_eq!(value_of("42"), Value::Int(42));
    assert_eq!(value_of("+12"), Value::Int(12));
    assert_eq!(value_of("-3"), Value::Int(-3));
    assert_eq!(value_of("0o10"), Value::Int(8));
    assert_eq!(value_of("0x1F"), Value::Int(31));
    assert_eq!(value_of("-0x1F"), Value::Int(-31));
    assert_eq!(value_of("0b101"), Value::Int(5));
    assert_eq!(value_of("010"), Value::Int(10));
    assert_eq!(value_of("0"), Value::Int(0));
    assert_eq!(value_of("-0"), Value::Int(0));
}

#[test]
fn underscores_keep_numbers_as_strings() {
    assert_eq!(value_of("1_000"), Value::String("1_000".into()));
    assert_eq!(value_of("1_0.5"), Value::String("1_0.5".into()));
    assert_eq!(value_of("0x_1F"), Value::String("0x_1F".into()));
}

#[test]
fn integers_past_javascript_precision_become_floats() {
    assert_eq!(
        value_of("9007199254740991"),
        Value::Int(9_007_199_254_740_991)
    );
    assert_eq!(
        value_of("12345678901234567890"),
        Value::Float(12_345_678_901_234_567_890.0)
    );
    assert_eq!(
        value_of("9007199254740993"),
        Value::Float(9_007_199_254_740_992.0)
    );
    assert_eq!(
        value_of("0xFFFFFFFFFFFFFFFFFFFF"),
        Value::Float(1_208_925_819_614_629_174_706_176.0 - 1.0)
    );
}

#[test]
fn floats_include_leading_dot_exponents_and_specials() {
    assert_eq!(value_of("1.5"), Value::Float(1.5));
    assert_eq!(value_of(".5"), Value::Float(0.5));
    assert_eq!(value_of("1e3"), Value::Float(1000.0));
    assert_eq!(value_of("-2.5E-1"), Value::Float(-0.25));
    assert_eq!(value_of("1."), Value::Float(1.0));
    assert_eq!(value_of(".inf"), Value::Float(f64::INFINITY));
    assert_eq!(value_of("-.Inf"), Value::Float(f64::NEG_INFINITY));
    assert!(matches!(value_of(".nan"), Value::Float(f) if f.is_nan()));
    // Not floats in js-yaml: a sign before a bare fraction, a dot alone, an exponent without digits.
    for text in ["-.5", ".", "1e", "1.2.3", "e3"] {
        assert_eq!(value_of(text), Value::String(text.into()), "{text}");
    }
}

#[test]
fn timestamps_become_javascript_iso_strings() {
    let cases = [
        ("2001-12-14", "2001-12-14T00:00:00.000Z"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-15T02:59:43.100Z"),
        ("2001-12-14T21:59:43.1234Z", "2001-12-14T21:59:43.123Z"),
        ("2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43.100Z"),
        ("2001-12-14 21:59:43", "2001-12-14T21:59:43.000Z"),
        ("2024-1-2T03:04:05+01:30", "2024-01-02T01:34:05.000Z"),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"),
        // `Date.UTC` rolls over out-of-range parts and reads years 0-99 as 1900-1999.
        ("2001-13-01", "2002-01-01T00:00:00.000Z"),
        ("0050-01-01", "1950-01-01T00:00:00.000Z"),
    ];
    for (text, iso) in cases {
        assert_eq!(value_of(text), Value::String(iso.into()), "{text}");
    }
    for text in [
        "2001-1-14",
        "2001-12-14T",
        "2001-12-14 1:2:3",
        "20011-12-14",
    ] {
        assert_eq!(value_of(text), Value::String(text.into()), "{text}");
    }
}

#[test]
fn quoted_and_block_scalars_are_always_strings() {
    assert_eq!(value_of("'42'"), Value::String("42".into()));
    assert_eq!(value_of("\"true\""), Value::String("true".into()));
    let node = parse_text("v: |\n  42\n").unwrap();
    assert_eq!(node.get("v").unwrap().value, Value::String("42\n".into()));
}

#[test]
fn core_tags_are_honoured() {
    assert_eq!(value_of("!!str 42"), Value::String("42".into()));
    assert_eq!(value_of("!!str"), Value::String(String::new()));
    assert_eq!(value_of("!!int '7'"), Value::Int(7));
    assert_eq!(value_of("!!float 1"), Value::Float(1.0));
    assert_eq!(value_of("!!bool 'true'"), Value::Bool(true));
    assert_eq!(value_of("!!null"), Value::Null);
    assert_eq!(value_of("!!null ~"), Value::Null);
    assert_eq!(
        value_of("!!binary aGVsbG8="),
        Value::String("aGVsbG8=".into())
    );
    assert_eq!(
        value_of("!!timestamp 2001-12-14"),
        Value::String("2001-12-14T00:00:00.000Z".into())
    );
    assert_eq!(
        to_json("m: !!map {a: 1}\ns: !!seq [1]\n"),
        json!({"m": {"a": 1}, "s": [1]})
    );
}

#[test]
fn core_tag_with_a_value_of_the_wrong_type_is_an_error() {
    let error = error_of("v: !!int abc\n");
    assert!(
        error
            .message
            .contains("`abc` is not a valid value for the tag `!!int`"),
        "{}",
        error.message
    );
    let error = error_of("v: !!null ''\n");
    assert!(
        error
            .message
            .contains("not a valid value for the tag `!!null`"),
        "{}",
        error.message
    );
    let error = error_of("v: !!map [1]\n");
    assert!(
        error.message.contains("`!!map` cannot be used on a list"),
        "{}",
        error.message
    );
}

// --- Keys ---

#[test]
fn duplicate_key_names_the_key_and_both_positions() {
    let error = error_of("provider:\n  memorySize: 128\n  memorySize: 256\n");
    assert!(
        error.message.starts_with("serverless.yml:3:3:"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("duplicate key `memorySize`"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("serverless.yml:2:3"),
        "{}",
        error.message
    );
    assert_eq!(
        error.related.len(),
        1,
        "the first occurrence is labelled too"
    );
}

#[test]
fn non_string_keys_take_their_javascript_string_form() {
    assert_eq!(
        to_json("1: a\ntrue: b\nnull: c\n1.5: d\n0x10: e\n.inf: f\n1e21: g\n"),
        json!({"1": "a", "true": "b", "null": "c", "1.5": "d", "16": "e", "Infinity": "f", "1e+21": "g"})
    );
    // `~` and `null` are the same key once written as JavaScript strings.
    let error = error_of("null: a\n~: b\n");
    assert!(
        error.message.contains("duplicate key `null`"),
        "{}",
        error.message
    );
}

#[test]
fn map_or_list_as_key_is_an_error() {
    let error = error_of("? [a, b]\n: c\n");
    assert!(
        error.message.contains("cannot be used as a map key"),
        "{}",
        error.message
    );
    let error = error_of("{a: 1}: c\n");
    assert!(
        error.message.contains("cannot be used as a map key"),
        "{}",
        error.message
    );
}

// --- CloudFormation short tags ---

#[test]
fn cloudformation_short_tags_become_long_forms() {
    let text = "\
ref: !Ref Queue
cond: !Condition IsProd
att: !GetAtt Queue.Arn
attDeep: !GetAtt Stack.Outputs.Url
attNoDot: !GetAtt Queue
attList: !GetAtt [Queue, Arn]
sub: !Sub '${AWS::StackName}-x'
subList: !Sub
  - '${Name}'
  - Name: !Ref Queue
join: !Join ['-', [a, !Ref 'AWS::Region']]
if: !If [IsProd, yes, no]
eq: !Equals [a, b]
not: !Not [!Condition IsProd]
and: !And [!Condition A, !Condition B]
or: !Or [!Condition A, !Condition B]
select: !Select [0, !GetAZs '']
split: !Split [',', 'a,b']
import: !ImportValue other-export
find: !FindInMap [Map, Key, Value]
b64: !Base64 hello
cidr: !Cidr [10.0.0.0/16, 4, 8]
transform: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}
number: !Ref 123
";
    assert_eq!(
        to_json(text),
        json!({
            "ref": {"Ref": "Queue"},
            "cond": {"Condition": "IsProd"},
            "att": {"Fn::GetAtt": ["Queue", "Arn"]},
            "attDeep": {"Fn::GetAtt": ["Stack", "Outputs.Url"]},
            "attNoDot": {"Fn::GetAtt": ["Queue", ""]},
            "attList": {"Fn::GetAtt": ["Queue", "Arn"]},
            "sub": {"Fn::Sub": "${AWS::StackName}-x"},
            "subList": {"Fn::Sub": ["${Name}", {"Name": {"Ref": "Queue"}}]},
            "join": {"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]},
            "if": {"Fn::If": ["IsProd", "yes", "no"]},
            "eq": {"Fn::Equals": ["a", "b"]},
            "not": {"Fn::Not": [{"Condition": "IsProd"}]},
            "and": {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
            "or": {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]},
            "select": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            "split": {"Fn::Split": [",", "a,b"]},
            "import": {"Fn::ImportValue": "other-export"},
            "find": {"Fn::FindInMap": ["Map", "Key", "Value"]},
            "b64": {"Fn::Base64": "hello"},
            "cidr": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
            "transform": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
            "number": {"Ref": "123"},
        })
    );
}

#[test]
fn unknown_tag_is_an_error_naming_it_and_the_supported_ones() {
    let error = error_of("custom:\n  x: !Foo bar\n");
    assert!(
        error.message.starts_with("serverless.yml:2:"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("unknown tag `!Foo`"),
        "{}",
        error.message
    );
    let help = error.help.clone().unwrap_or_default();
    assert!(
        help.contains("!Ref") && help.contains("!GetAtt") && help.contains("!Sub"),
        "{help}"
    );
    let error = error_of("x: !Bar [a]\n");
    assert!(
        error.message.contains("unknown tag `!Bar`"),
        "{}",
        error.message
    );
    let error = error_of("x: !!python/object {}\n");
    assert!(error.message.contains("unknown tag"), "{}", error.message);
}

// --- Anchors, aliases and merge keys ---

#[test]
fn aliases_copy_their_anchor() {
    assert_eq!(
        to_json("a: &s hello\nb: *s\nl: &l [1, 2]\nm: *l\nx: &x {k: v}\ny: *x\n"),
        json!({"a": "hello", "b": "hello", "l": [1, 2], "m": [1, 2], "x": {"k": "v"}, "y": {"k": "v"}})
    );
}

#[test]
fn merge_key_local_keys_win_and_earlier_merged_maps_win() {
    let text = "\
one: &one {a: 1, b: 1}
two: &two {b: 2, c: 2}
single:
  <<: *one
  a: local
before:
  a: local
  <<: *one
multi:
  <<: [*one, *two, {d: 3}]
";
    assert_eq!(
        to_json(text).get("single").cloned(),
        Some(json!({"a": "local", "b": 1}))
    );
    let node = to_json(text);
    assert_eq!(node["before"], json!({"a": "local", "b": 1}));
    assert_eq!(node["multi"], json!({"a": 1, "b": 1, "c": 2, "d": 3}));
    // Merged keys keep the position the merge gave them, as a JavaScript object does.
    assert_eq!(
        node["single"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[test]
fn merge_of_a_non_map_is_an_error() {
    let error = error_of("a: &s text\nb:\n  <<: *s\n");
    assert!(
        error.message.contains("merge key `<<` needs a map"),
        "{}",
        error.message
    );
    let error = error_of("b:\n  <<: [{a: 1}, text]\n");
    assert!(
        error.message.contains("merge key `<<` needs a map"),
        "{}",
        error.message
    );
}

#[test]
fn quoted_merge_key_is_an_ordinary_key() {
    assert_eq!(to_json("'<<': {a: 1}\n"), json!({"<<": {"a": 1}}));
}

#[test]
fn undefined_alias_is_an_error_with_its_position() {
    let error = error_of("custom:\n  x: *nope\n");
    assert!(
        error.message.starts_with("serverless.yml:2:6:"),
        "{}",
        error.message
    );
    assert!(error.message.contains("`*nope`"), "{}", error.message);
}

// --- Limits ---

#[test]
fn billion_laughs_fails_fast_on_the_node_limit() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..9 {
        let name = (b'a' + level) as char;
        let previous = (b'a' + level - 1) as char;
        let items = vec![format!("*{previous}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{items}]\n"));
    }
    let started = std::time::Instant::now();
    let error = error_of(&text);
    assert!(
        error.message.contains("alias expansion limit exceeded"),
        "{}",
        error.message
    );
    assert!(error.message.contains("max_nodes"), "{}", error.message);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn node_limit_counts_values_without_aliases_too() {
    let limits = Limits {
        max_nodes: 10,
        ..Limits::default()
    };
    let (_, result) = parse_named("s.yml", "l: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", &limits);
    let error = result.unwrap_err();
    assert!(error.message.contains("max_nodes"), "{}", error.message);
}

fn nested_flow_lists(depth: usize) -> String {
    format!(
        "custom:\n  deep: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[test]
fn nesting_of_98_lists_under_custom_is_accepted_like_js_yaml() {
    let node = parse_text(&nested_flow_lists(98)).unwrap();
    assert!(node.get_path(["custom", "deep"]).is_some());
}

#[test]
fn nesting_past_max_depth_is_an_error() {
    let error = error_of(&nested_flow_lists(99));
    assert!(error.message.contains("max_depth"), "{}", error.message);
}

#[test]
fn deep_flow_nesting_of_100k_fails_fast_without_overflowing_the_stack() {
    let started = std::time::Instant::now();
    let error = error_of(&nested_flow_lists(100_000));
    assert!(error.message.contains("max_depth"), "{}", error.message);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn deep_block_nesting_is_an_error() {
    let mut text = String::new();
    for level in 0..150 {
        text.push_str(&" ".repeat(level));
        text.push_str("k:\n");
    }
    let error = error_of(&text);
    assert!(error.message.contains("max_depth"), "{}", error.message);
}

#[test]
fn alias_that_would_nest_past_max_depth_is_an_error() {
    let deep = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    let text = format!("a: &a {deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n");
    let error = error_of(&text);
    assert!(error.message.contains("max_depth"), "{}", error.message);
}

#[test]
fn second_document_is_an_error_at_its_start() {
    let mut text = String::from("service: a\n");
    for _ in 0..5000 {
        text.push_str("---\ndoc: 2\n");
    }
    let error = error_of(&text);
    assert!(
        error.message.starts_with("serverless.yml:2:1:"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("exactly one YAML document"),
        "{}",
        error.message
    );
    // A leading `---` is the first document's start, not a second document.
    assert_eq!(to_json("---\nservice: a\n"), json!({"service": "a"}));
}

#[test]
fn file_over_max_bytes_is_an_error() {
    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let (_, result) = parse_named("s.yml", "service: a-long-name\n", &limits);
    let error = result.unwrap_err();
    assert!(error.message.contains("max_bytes"), "{}", error.message);
}

// --- Broken input ---

#[test]
fn unclosed_flow_map_points_at_the_opening_brace() {
    let text = "functions:\n  hello:\n    events:\n      - http: {path: hello, method: get\ncustom:\n  a: 1\n";
    let error = error_of(text);
    assert!(error.message.contains("not closed"), "{}", error.message);
    let brace = text.find('{').unwrap();
    assert!(
        error.related.iter().any(|label| label.offset() == brace),
        "no label at the brace: {:?}",
        error.related
    );
}

#[test]
fn tab_indentation_is_named_with_its_line() {
    let error = error_of("service: a\nprovider:\n\tname: aws\n");
    assert!(
        error.message.starts_with("serverless.yml:3:"),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("YAML does not allow tabs for indentation; use spaces"),
        "{}",
        error.message
    );
}

#[test]
fn raw_control_character_is_an_error_with_its_position() {
    let error = error_of("service: a\ncustom:\n  x: a\u{7}b\n");
    assert!(
        error.message.starts_with("serverless.yml:3:7:"),
        "{}",
        error.message
    );
    assert!(error.message.contains("U+0007"), "{}", error.message);
    // Tabs, line breaks and ordinary non-ASCII text are fine.
    assert_eq!(
        to_json("a: \"tab\\there\"\r\nb: é\u{85}\n"),
        json!({"a": "tab\there", "b": "é\u{85}"})
    );
}

#[test]
fn two_hundred_functions_parse_in_a_few_milliseconds() {
    let mut text =
        String::from("service: big\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n");
    for index in 0..200 {
        text.push_str(&format!(
            "  function{index}:\n    handler: src/handler{index}.main\n    memorySize: 512\n    timeout: 30\n    environment:\n      TABLE: table-{index}\n      FLAG: 'true'\n    events:\n      - http:\n          path: items/{index}\n          method: get\n          cors: true\n      - sqs:\n          arn: !GetAtt Queue{index}.Arn\n          batchSize: 10\n      - schedule: rate(5 minutes)\n    tags:\n      team: a\n      cost: b\n      owner: c\n      env: d\n      purpose: e\n      tier: f\n",
        ));
    }
    assert!(text.lines().count() > 4500);
    let started = std::time::Instant::now();
    let node = parse_text(&text).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        node.get("functions")
            .and_then(Node::as_map)
            .map(|m| m.len()),
        Some(200)
    );
    // Generous bound for unoptimised test builds on a loaded machine; a release build takes 3-5 ms.
    assert!(
        elapsed < std::time::Duration::from_millis(500),
        "{elapsed:?}"
    );
}

#[test]
fn empty_short_form_is_null_and_quoted_empty_is_a_string() {
    assert_eq!(
        to_json("a: !Ref\nb: !GetAZs ''\n"),
        json!({"a": {"Ref": null}, "b": {"Fn::GetAZs": ""}})
    );
}

#[test]
fn error_on_a_huge_line_has_no_snippet_but_keeps_its_position() {
    let error = error_of(&nested_flow_lists(100_000));
    assert!(
        error.message.starts_with("serverless.yml:2:"),
        "{}",
        error.message
    );
    assert!(
        error.shown_at.is_none(),
        "a 200 KB line must not be printed"
    );
    let error = error_of("custom:\n  x: *nope\n");
    assert!(error.shown_at.is_some());
}

#[test]
fn windows_line_endings_keep_spans_on_the_right_text() {
    let text = "service: a\r\nprovider:\r\n  name: aws\r\n";
    let node = parse_text(text).unwrap();
    let name = node.get_path(["provider", "name"]).unwrap().span;
    assert_eq!(&text[name.start as usize..name.end as usize], "aws");
    let error = error_of("a: 1\r\na: 2\r\n");
    assert!(
        error.message.starts_with("serverless.yml:2:1:"),
        "{}",
        error.message
    );
}

#[test]
fn mangled_manifests_give_errors_never_panics() {
    let seeds = [
        "service: a\nprovider:\n  name: aws\nfunctions:\n  f:\n    handler: h.f\n    events:\n      - http: {path: x, method: get}\n",
        "custom:\n  base: &base {a: 1, b: [x, y]}\n  other:\n    <<: *base\n    c: !Ref Thing\n  text: |\n    line\n  quoted: 'it''s'\n",
        "{\"service\": \"a\", \"list\": [1, 2.5, \"x\"], \"nested\": {\"k\": null}}\n",
    ];
    let pieces = [
        "[",
        "]",
        "{",
        "}",
        ":",
        "- ",
        "\t",
        "\n",
        " ",
        "&a ",
        "*a",
        "!Ref ",
        "!!str ",
        "'",
        "\"",
        "|",
        ">",
        "? ",
        "<<: ",
        "---\n",
        "#",
        ",",
        "%TAG ! x\n",
        "\\",
        "é",
        "\r",
        "!GetAtt ",
    ];
    // A fixed xorshift sequence: the same inputs on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for _ in 0..3000 {
        let mut text = seeds[next(seeds.len())].to_string();
        for _ in 0..1 + next(4) {
            let mut at = next(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if next(2) == 0 {
                text.insert_str(at, pieces[next(pieces.len())]);
            } else {
                let mut end = (at + 1 + next(6)).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, "");
            }
        }
        let outcome = std::panic::catch_unwind(|| parse_text(&text).map(|_| ()));
        assert!(outcome.is_ok(), "panicked on {text:?}");
    }
}

#[test]
fn tab_after_a_colon_separates_like_js_yaml() {
    assert_eq!(
        to_json("a:\tb\nc: {d:\te}\nf: 'x:\ty'\n"),
        json!({"a": "b", "c": {"d": "e"}, "f": "x:\ty"})
    );
    let text = "a:\tvalue\n";
    let node = parse_text(text).unwrap();
    let span = node.get("a").unwrap().span;
    assert_eq!(&text[span.start as usize..span.end as usize], "value");
}

#[test]
fn a_key_over_1024_characters_is_reported_by_its_length_not_its_indentation() {
    let key = "k".repeat(1025);
    let error = error_of(&format!("custom:\n  {key}: 1\n"));
    assert!(
        error.message.contains("this key is 1025 characters long"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("indentation"), "{}", error.message);
    let error = error_of(&format!("custom:\n  - {key}: 1\n"));
    assert!(
        error.message.contains("1025 characters"),
        "{}",
        error.message
    );
    // The explicit form the help suggests reads, and 1,024 characters fit on one line.
    let node = parse_text(&format!("custom:\n  ? {key}\n  : 1\n")).expect("explicit key");
    assert!(node.get_path(["custom", key.as_str()]).is_some());
    let short = "k".repeat(1024);
    parse_text(&format!("custom:\n  {short}: 1\n")).expect("a 1,024-character key");
    // A misplaced `key: value` is still about indentation.
    let error = error_of("a: b: c\n");
    assert!(
        error.message.contains("not allowed here"),
        "{}",
        error.message
    );
}
