//! Where a scalar's text ends. yaml-rust2 marks only where each event starts, so the end is found
//! in the source: the closing quote, the last character of a plain scalar (which may be folded
//! over several lines), or the last content line of a block scalar.

use yaml_rust2::scanner::TScalarStyle;

/// Byte offset just past the scalar that starts at `start` (whose parsed value is `value`).
pub fn scalar_end(text: &str, start: usize, value: &str, style: TScalarStyle) -> usize {
    let Some(rest) = text.get(start..) else {
        return start;
    };
    let relative = match style {
        TScalarStyle::SingleQuoted => single_quoted_end(rest),
        TScalarStyle::DoubleQuoted => double_quoted_end(rest),
        TScalarStyle::Literal | TScalarStyle::Folded => block_end(text, start) - start,
        _ => plain_end(rest, value),
    };
    start + relative
}

fn single_quoted_end(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut index = 1;
    while index < bytes.len() {
        if bytes[index] == b'\'' {
            if bytes.get(index + 1) == Some(&b'\'') {
                index += 2;
                continue;
            }
            return index + 1;
        }
        index += 1;
    }
    bytes.len()
}

fn double_quoted_end(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut index = 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// Walks the value and the source together; a folded line break reads as one space in the value.
fn plain_end(rest: &str, value: &str) -> usize {
    if rest.starts_with(value) {
        return value.len();
    }
    let (source, value) = (rest.as_bytes(), value.as_bytes());
    let (mut at, mut index, mut matched) = (0, 0, 0);
    while index < value.len() && at < source.len() {
        if source[at] == value[index] {
            at += 1;
            index += 1;
            matched = at;
        } else if source[at].is_ascii_whitespace() {
            while at < source.len() && source[at].is_ascii_whitespace() {
                at += 1;
            }
            while index < value.len() && matches!(value[index], b' ' | b'\n') {
                index += 1;
            }
        } else {
            break;
        }
    }
    matched
}

/// The last content line of a block scalar whose content starts at `start`.
fn block_end(text: &str, start: usize) -> usize {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = start - line_start;
    let mut end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut cursor = end;
    while cursor < text.len() {
        let next_start = cursor + 1;
        let next_end = text[next_start.min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| next_start + i);
        let line = text.get(next_start..next_end).unwrap_or_default();
        let trimmed = line.trim_end_matches('\r');
        if trimmed.trim().is_empty() {
            cursor = next_end;
            continue;
        }
        let line_indent = trimmed.len() - trimmed.trim_start_matches(' ').len();
        if line_indent < indent || indent == 0 {
            break;
        }
        end = next_start + trimmed.len();
        cursor = next_end;
    }
    end.max(start)
}
