//! The few JavaScript value rules the Framework's resolver leans on: how `Number()` reads a
//! literal (`0x10` is 16, `007` is 7, `.5` is 0.5) and how a number turns into text when it is
//! interpolated into a string (`1e21`, `0.1`, `5`).

use serde_json::Value as Json;

/// JavaScript's `Number(text)`, `None` where it gives `NaN`.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim_matches(is_js_whitespace);
    if text.is_empty() {
        return Some(0.0);
    }
    let radix = |prefix: &[&str], radix: u32| -> Option<Option<f64>> {
        let digits = prefix.iter().find_map(|p| text.strip_prefix(p))?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return Some(None);
        }
        // Folding keeps precision like JavaScript does for integers up to 2^53.
        Some(Some(digits.chars().fold(0.0, |acc, c| {
            acc * radix as f64 + c.to_digit(radix).unwrap_or(0) as f64
        })))
    };
    if let Some(value) = radix(&["0x", "0X"], 16) {
        return value;
    }
    if let Some(value) = radix(&["0o", "0O"], 8) {
        return value;
    }
    if let Some(value) = radix(&["0b", "0B"], 2) {
        return value;
    }
    let (sign, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if unsigned == "Infinity" {
        return Some(sign * f64::INFINITY);
    }
    is_decimal_literal(unsigned).then(|| unsigned.parse::<f64>().ok().map(|v| sign * v))?
}

/// `digits[.digits][e[+-]digits]` or `.digits[e...]`, as JavaScript's StrDecimalLiteral.
fn is_decimal_literal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    let digits = |index: &mut usize| {
        let start = *index;
        while bytes.get(*index).is_some_and(u8::is_ascii_digit) {
            *index += 1;
        }
        *index - start
    };
    let integer = digits(&mut index);
    let mut fraction = 0;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        fraction = digits(&mut index);
    }
    if integer == 0 && fraction == 0 {
        return false;
    }
    if matches!(bytes.get(index), Some(b'e') | Some(b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'+') | Some(b'-')) {
            index += 1;
        }
        if digits(&mut index) == 0 {
            return false;
        }
    }
    index == bytes.len()
}

fn is_js_whitespace(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// A number as JSON: whole numbers that fit stay integers, the rest are floats; non-finite
/// numbers become floats too (they print as `null`, as `JSON.stringify` does).
pub fn number_to_json(value: f64) -> Json {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        return Json::from(value as i64);
    }
    serde_json::Number::from_f64(value)
        .map(Json::Number)
        .unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_reads_literals_as_javascript_does() {
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number("-1"), Some(-1.0));
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(parse_number("007"), Some(7.0));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("5."), Some(5.0));
        assert_eq!(parse_number("0b101"), Some(5.0));
        assert_eq!(parse_number(" 12 "), Some(12.0));
        assert_eq!(parse_number("Infinity"), Some(f64::INFINITY));
        for not_a_number in [
            "dflt", "1_000", "0x", "-0x10", "1e", ".", "1.2.3", "e5", "NaN",
        ] {
            assert_eq!(parse_number(not_a_number), None, "{not_a_number}");
        }
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        assert_eq!(crate::manifest::node::js_number_text(8080.0), "8080");
        assert_eq!(crate::manifest::node::js_number_text(2.25), "2.25");
        assert_eq!(crate::manifest::node::js_number_text(-0.5), "-0.5");
        assert_eq!(crate::manifest::node::js_number_text(1e21), "1e+21");
        assert_eq!(
            crate::manifest::node::js_number_text(1e20),
            "100000000000000000000"
        );
        assert_eq!(crate::manifest::node::js_number_text(1e-7), "1e-7");
        assert_eq!(crate::manifest::node::js_number_text(0.000001), "0.000001");
        assert_eq!(crate::manifest::node::js_number_text(1.5e-10), "1.5e-10");
        assert_eq!(
            crate::manifest::node::js_number_text(f64::INFINITY),
            "Infinity"
        );
    }
}
