//! Types scalars the way js-yaml 4 (as bundled with the Serverless Framework v3) does: the YAML
//! 1.2 core schema plus timestamps, with JavaScript's number model.
//!
//! Plain scalars are typed by their text (`null`, `true`, `0x1F`, `.inf`, `2001-12-14`); quoted and
//! block scalars are always strings. Underscores in numbers (`1_000`) and YAML 1.1 booleans
//! (`yes`, `on`) stay strings, as they do in the Framework.

use crate::manifest::node::Value;

/// Integers JavaScript holds exactly; past this a number becomes a float, as `parseInt` makes it.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// The value of an untagged plain scalar.
pub fn resolve_plain(text: String) -> Value {
    // Most plain scalars are words; only these first characters can start a typed value.
    let typed_start = text
        .bytes()
        .next()
        .is_none_or(|b| b.is_ascii_digit() || b"-+.~nNtTfF".contains(&b));
    if !typed_start {
        return Value::String(text);
    }
    let text = text.as_str();
    if is_null(text) {
        return Value::Null;
    }
    if let Some(b) = as_bool(text) {
        return Value::Bool(b);
    }
    if let Some(number) = as_int(text) {
        return number;
    }
    if let Some(number) = as_float(text) {
        return Value::Float(number);
    }
    if let Some(iso) = as_timestamp(text) {
        return Value::String(iso);
    }
    Value::String(text.to_owned())
}

pub fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

pub fn as_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Decimal (leading zeros allowed: `010` is ten), `0x`, `0o` and `0b` integers with an optional
/// sign. The result is `Int` when JavaScript holds it exactly, else the float `parseInt` gives.
pub fn as_int(text: &str) -> Option<Value> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(rest) = body.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = body.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = body.strip_prefix("0b") {
        (2, rest)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let exact = u128::from_str_radix(digits, radix).ok();
    if let Some(magnitude) = exact {
        if magnitude <= MAX_SAFE_INTEGER as u128 {
            let value = magnitude as i64;
            return Some(Value::Int(if negative { -value } else { value }));
        }
    }
    let magnitude = match (radix, exact) {
        (10, _) => digits.parse::<f64>().ok()?,
        (_, Some(m)) => m as f64,
        _ => digits.chars().fold(0.0f64, |acc, c| {
            acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
        }),
    };
    Some(Value::Float(sign * magnitude))
}

/// js-yaml's float pattern without underscores:
/// `[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?`, `\.[0-9]+([eE][-+]?[0-9]+)?`,
/// `[-+]?\.(inf|Inf|INF)` and `\.(nan|NaN|NAN)`.
pub fn as_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let mut index = 0;
    let leading_dot = bytes.first() == Some(&b'.');
    if !leading_dot && matches!(bytes.first(), Some(b'-' | b'+')) {
        index += 1;
    }
    let integer_start = index;
    while index < bytes.len() && bytes[index].is_ascii_digit() {
        index += 1;
    }
    let integer_digits = index - integer_start;
    if leading_dot {
        // `.5`: at least one digit after the dot.
        index += 1;
        let start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        if index == start {
            return None;
        }
    } else {
        if integer_digits == 0 {
            return None;
        }
        if index < bytes.len() && bytes[index] == b'.' {
            index += 1;
            while index < bytes.len() && bytes[index].is_ascii_digit() {
                index += 1;
            }
        }
    }
    if index < bytes.len() && (bytes[index] == b'e' || bytes[index] == b'E') {
        index += 1;
        if index < bytes.len() && (bytes[index] == b'-' || bytes[index] == b'+') {
            index += 1;
        }
        let start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        if index == start {
            return None;
        }
    }
    if index != bytes.len() {
        return None;
    }
    text.parse::<f64>().ok()
}

/// A YAML timestamp as JavaScript's `Date.toISOString()` prints it (js-yaml builds a `Date`, which
/// JSON turns into that string). Out-of-range parts roll over as `Date.UTC` rolls them.
pub fn as_timestamp(text: &str) -> Option<String> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        index: 0,
    };
    let year = cursor.digits(4, 4)?;
    cursor.expect(b'-')?;
    let date_only = text.len() == 10;
    let (month, day) = if date_only {
        let month = cursor.digits(2, 2)?;
        cursor.expect(b'-')?;
        (month, cursor.digits(2, 2)?)
    } else {
        let month = cursor.digits(1, 2)?;
        cursor.expect(b'-')?;
        (month, cursor.digits(1, 2)?)
    };
    if cursor.at_end() {
        return date_only.then(|| iso_string(utc_millis(year, month - 1, day, 0, 0, 0, 0)));
    }
    if !cursor.eat(b'T') && !cursor.eat(b't') && cursor.skip_blanks() == 0 {
        return None;
    }
    let hour = cursor.digits(1, 2)?;
    cursor.expect(b':')?;
    let minute = cursor.digits(2, 2)?;
    cursor.expect(b':')?;
    let second = cursor.digits(2, 2)?;
    let mut millis = 0;
    if cursor.eat(b'.') {
        let start = cursor.index;
        while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
            cursor.index += 1;
        }
        let fraction = &text[start..cursor.index];
        let first_three: String = fraction.chars().chain("000".chars()).take(3).collect();
        millis = first_three.parse::<i64>().ok()?;
    }
    let mut offset_minutes = 0;
    if !cursor.at_end() {
        cursor.skip_blanks();
        if !cursor.eat(b'Z') {
            let negative = match cursor.peek()? {
                b'-' => true,
                b'+' => false,
                _ => return None,
            };
            cursor.index += 1;
            let hours = cursor.digits(1, 2)?;
            let minutes = if cursor.eat(b':') {
                cursor.digits(2, 2)?
            } else {
                0
            };
            offset_minutes = hours * 60 + minutes;
            if negative {
                offset_minutes = -offset_minutes;
            }
        }
        if !cursor.at_end() {
            return None;
        }
    }
    let local = utc_millis(year, month - 1, day, hour, minute, second, millis);
    Some(iso_string(local - offset_minutes * 60_000))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    index: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.index).copied()
    }

    fn at_end(&self) -> bool {
        self.index >= self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    fn skip_blanks(&mut self) -> usize {
        let start = self.index;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.index += 1;
        }
        self.index - start
    }

    /// Between `min` and `max` ASCII digits (greedy), as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.index;
        while self.index - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.index += 1;
        }
        if self.index - start < min {
            return None;
        }
        std::str::from_utf8(&self.bytes[start..self.index])
            .ok()?
            .parse()
            .ok()
    }
}

/// `Date.UTC(year, month0, day, hour, minute, second, millis)`, including its rule that years
/// 0-99 mean 1900-1999.
fn utc_millis(
    year: i64,
    month0: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
) -> i64 {
    let year = if (0..=99).contains(&year) {
        1900 + year
    } else {
        year
    };
    let year = year + month0.div_euclid(12);
    let month0 = month0.rem_euclid(12);
    let days = days_from_civil(year, month0 + 1, 1) + day - 1;
    days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `Date.prototype.toISOString()`: four-digit years, or a sign and six digits outside 0-9999.
fn iso_string(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// How JavaScript's `String(value)` writes a scalar used as a map key.
pub fn key_string(value: Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => crate::manifest::node::js_number_text(f),
        Value::String(s) => s,
        Value::Seq(_) | Value::Map(_) => return None,
    })
}
