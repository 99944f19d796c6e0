//! Writes JSON values as block-style YAML for `print --format yaml`, quoting every string that
//! would read back as something else (a number, a boolean, null, a tag or an anchor).

use serde_json::Value;

/// The YAML text of a value, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&quote_if_needed(key));
        out.push(':');
        write_child(out, value, indent);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            // A map inside a list starts on the dash's line: `- key: value`.
            Value::Object(map) if !map.is_empty() => {
                let mut inner = String::new();
                write_map(&mut inner, map, indent + 2);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            _ => write_child(out, item, indent),
        }
    }
}

fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s)
            if s.contains('\n')
                && !s.contains('\r')
                && s.trim_end_matches('\n').lines().all(|l| !l.ends_with(' ')) =>
        {
            literal_block(s, indent)
        }
        Value::String(s) => quote_if_needed(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A multi-line string as a `|` block, with the chomping indicator that keeps it exact.
fn literal_block(s: &str, indent: usize) -> String {
    let chomp = if s.ends_with("\n\n") {
        "+"
    } else if s.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let leading_space = if s.starts_with(' ') { "2" } else { "" };
    let mut out = format!("|{leading_space}{chomp}");
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
    }
    out
}

/// A plain scalar where it reads back as the same string, a double-quoted one otherwise.
fn quote_if_needed(s: &str) -> String {
    if needs_quotes(s) {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null"
            | "~"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".nan"
            | ".inf"
            | "-.inf"
    ) {
        return true;
    }
    if looks_numeric(s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control() || c == '\u{feff}')
}

fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    !t.is_empty()
        && (t.parse::<f64>().is_ok()
            || t.starts_with("0x")
            || t.starts_with("0o")
            || t.chars()
                .all(|c| c.is_ascii_digit() || c == '_' || c == ':' || c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_would_change_type_are_quoted() {
        let value =
            serde_json::json!({"a": "true", "b": "012", "c": "plain", "d": "", "e": "x: y"});
        assert_eq!(
            to_yaml(&value),
            "a: \"true\"\nb: \"012\"\nc: plain\nd: \"\"\ne: \"x: y\"\n"
        );
    }

    #[test]
    fn nested_maps_and_lists_use_block_style() {
        let value = serde_json::json!({"functions": {"hello": {"events": [{"http": {"path": "/"}}], "layers": []}}});
        assert_eq!(
            to_yaml(&value),
            "functions:\n  hello:\n    events:\n      - http:\n          path: /\n    layers: []\n"
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        let value = serde_json::json!({"script": "echo a\necho b\n"});
        assert_eq!(to_yaml(&value), "script: |\n  echo a\n  echo b\n");
    }
}
