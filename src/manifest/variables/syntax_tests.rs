use serde_json::json;

use super::*;

fn parts(text: &str) -> Vec<Part> {
    parse(text).expect("parses").expect("has variables").parts
}

fn error(text: &str) -> String {
    parse(text).expect_err("is a syntax error").message
}

fn reference(kind: &str, address: &str) -> Source {
    Source::Reference(Reference {
        kind: kind.into(),
        params: None,
        address: Some(Operand::Value(json!(address))),
    })
}

#[test]
fn a_whole_variable_keeps_its_type_and_a_partial_one_does_not() {
    let whole = parse("${self:custom.a}").unwrap().unwrap();
    assert!(whole.whole);
    assert_eq!(
        whole.parts[0].kind,
        PartKind::Variable(vec![reference("self", "custom.a")])
    );
    let partial = parse("x-${sls:stage}-y").unwrap().unwrap();
    assert!(!partial.whole);
    assert_eq!((partial.parts[0].start, partial.parts[0].end), (2, 14));
}

#[test]
fn plain_strings_and_foreign_constructs_have_no_variables() {
    for text in [
        "plain",
        "cost $5",
        "$$",
        "a$b{c}",
        "$ {x}",
        "ends with $",
        "${AWS::Region}",
        "${stageVariables.stageName}",
        "${}",
        "${42}",
        "${ self:service }",
        "${Self:service}",
        "${self_x:y}",
        "${aws::Region}",
        "${unterminated",
    ] {
        assert_eq!(parse(text), Ok(None), "{text}");
    }
}

#[test]
fn variables_inside_foreign_constructs_still_resolve() {
    let found = parts("${AWS::Region}-${sls:stage}");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].start, 15);
    let inside = parts("${Foo ${sls:stage}}");
    assert_eq!((inside[0].start, inside[0].end), (6, 18));
}

#[test]
fn a_run_of_dollars_belongs_to_the_variable() {
    let whole = parse("$$${sls:stage}").unwrap().unwrap();
    assert!(whole.whole);
    assert_eq!(parts("a$${sls:stage}b")[0].start, 1);
}

#[test]
fn backslash_escapes_follow_the_framework() {
    // `\${` is a literal `${`.
    assert_eq!(
        parts(r"\${self:service}"),
        vec![Part {
            start: 0,
            end: 2,
            kind: PartKind::Text("$".into())
        }]
    );
    // `\\${x}`: one backslash, then the variable.
    let escaped = parts(r"\\${self:service}");
    assert_eq!(
        escaped[0],
        Part {
            start: 0,
            end: 2,
            kind: PartKind::Text("\\".into())
        }
    );
    assert!(matches!(escaped[1].kind, PartKind::Variable(_)));
    // `\\\${`: one backslash and a literal `${`.
    assert_eq!(parts(r"\\\${x}")[0].kind, PartKind::Text("\\$".into()));
    // After a `$`, a backslash is plain text.
    let after_dollar = parts(r"$\${sls:stage}");
    assert_eq!(after_dollar.len(), 1);
    assert_eq!(after_dollar[0].start, 2);
    assert_eq!(parse(r"a\b"), Ok(None));
}

#[test]
fn fallbacks_are_sources_then_one_literal() {
    let found = parts("${env:A, opt:b, self:c.d, 'last'}");
    let PartKind::Variable(sources) = &found[0].kind else {
        panic!("a variable")
    };
    assert_eq!(sources.len(), 4);
    assert_eq!(sources[1], reference("opt", "b"));
    assert_eq!(sources[3], Source::Literal(json!("last")));
}

#[test]
fn literals_read_as_json_and_javascript_numbers() {
    let literal = |text: &str| {
        let found = parts(&format!("${{env:NOPE, {text}}}"));
        let PartKind::Variable(sources) = &found[0].kind else {
            panic!("a variable")
        };
        match &sources[1] {
            Source::Literal(value) => value.clone(),
            other => panic!("not a literal: {other:?}"),
        }
    };
    assert_eq!(literal("42"), json!(42));
    assert_eq!(literal("0x10"), json!(16));
    assert_eq!(literal("007"), json!(7));
    assert_eq!(literal(".5"), json!(0.5));
    assert_eq!(literal("true"), json!(true));
    assert_eq!(literal("null"), json!(null));
    assert_eq!(literal(r"'back\slash'"), json!("back\\slash"));
    assert_eq!(literal(r#""line1\nline2""#), json!("line1\nline2"));
    assert_eq!(literal(r#""\u0041BC""#), json!("ABC"));
    assert_eq!(literal("'a, b}, ${c'"), json!("a, b}, ${c"));
}

#[test]
fn nested_variables_in_addresses_and_params() {
    let found = parts("${self:custom.${opt:stage}.memory}");
    let PartKind::Variable(sources) = &found[0].kind else {
        panic!("a variable")
    };
    let Source::Reference(outer) = &sources[0] else {
        panic!("a reference")
    };
    let Some(Operand::Template(address)) = &outer.address else {
        panic!("a template")
    };
    assert_eq!(address.text, "custom.${opt:stage}.memory");
    assert_eq!((address.parts[0].start, address.parts[0].end), (7, 19));
    let params = parts("${strToBool(${env:FLAG})}");
    let PartKind::Variable(sources) = &params[0].kind else {
        panic!("a variable")
    };
    let Source::Reference(call) = &sources[0] else {
        panic!("a reference")
    };
    assert!(matches!(&call.params.as_deref(), Some([Operand::Template(t)]) if t.whole));
}

#[test]
fn params_read_bare_words_as_text_and_literals_as_values() {
    let found = parts("${file( ./config.yml ):greeting}");
    let PartKind::Variable(sources) = &found[0].kind else {
        panic!("a variable")
    };
    let Source::Reference(call) = &sources[0] else {
        panic!("a reference")
    };
    assert_eq!(
        call.params,
        Some(vec![Operand::Value(json!("./config.yml"))])
    );
    let bools = parts("${strToBool(false)}");
    let PartKind::Variable(sources) = &bools[0].kind else {
        panic!("a variable")
    };
    let Source::Reference(call) = &sources[0] else {
        panic!("a reference")
    };
    assert_eq!(call.params, Some(vec![Operand::Value(json!(false))]));
}

#[test]
fn syntax_errors_name_the_place_as_the_framework_does() {
    assert_eq!(
        error("${env:NOPE, 'a', 'b'}"),
        "Invalid variable source at index 12 in \"${env:NOPE, 'a', 'b'}\""
    );
    assert_eq!(
        error("${env:NOPE, dflt}"),
        "Invalid literal source \"dflt\" at index 12 in \"${env:NOPE, dflt}\""
    );
    assert_eq!(
        error("${env:NOPE, ${opt:nope, 'deep'}}"),
        "Invalid variable source at index 12 in \"${env:NOPE, ${opt:nope, 'deep'}}\""
    );
    assert_eq!(
        error("${self:custom.x"),
        "Missing variable closing bracket in ${self:custom.x"
    );
    assert_eq!(
        error("${self:"),
        "Missing variable closing bracket in ${self:"
    );
    assert_eq!(
        error("${file('./config.yml'x)}"),
        "Invalid variable param at index 7 in \"${file('./config.yml'x)}\""
    );
    assert!(error(r#"${env:NOPE, "bad\q"}"#).starts_with("Invalid string literal at index 12"));
    assert!(error("${self:a:b}").starts_with("Invalid variable address"));
    assert!(error("${self:custom.${Foo}}").starts_with("Invalid variable type"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}x{}", "${self:".repeat(5000), "}".repeat(5000));
    assert!(error(&deep).contains("nested more than"));
    let foreign = format!("{}x{}", "${A ".repeat(5000), "}".repeat(5000));
    assert!(parse(&foreign).is_err());
}

#[test]
fn pieces_are_read_separately_and_never_whole() {
    let pieces = vec![
        "x-".to_string(),
        "${self:service}".to_string(),
        "".to_string(),
    ];
    let template = parse_pieces(&pieces).unwrap().unwrap();
    assert!(!template.whole);
    assert_eq!((template.parts[0].start, template.parts[0].end), (2, 17));
    // Text joined from two pieces is not a variable.
    let split = vec!["$".to_string(), "{self:service}".to_string()];
    assert_eq!(parse_pieces(&split), Ok(None));
}
