//! Tests of the YAML loader against the Framework's reading of YAML.

use super::*;
use crate::manifest::source::SourceFile;

fn parse_text(text: &str) -> Result<Node, YamlError> {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(
        "serverless.yml".into(),
        "serverless.yml".into(),
        text,
    ));
    parse(&sources, file, &Limits::default())
}

fn json(text: &str) -> serde_json::Value {
    parse_text(text)
        .map(|n| n.to_json())
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn basic_map_parses() {
    assert_eq!(
        json("a: 1\nb: [x, {c: d}]\n"),
        serde_json::json!({"a": 1, "b": ["x", {"c": "d"}]})
    );
}
