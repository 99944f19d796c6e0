//! Schedules as the clouds other than AWS take them. A manifest writes `rate(5 minutes)` or
//! AWS's 6-field `cron(minutes hours day-of-month month day-of-week year)`; Cloud Scheduler takes
//! a standard 5-field cron, Azure's timer trigger a 6-field NCRONTAB (seconds first).
//!
//! AWS numbers the days of the week 1 (Sunday) to 7; standard cron and NCRONTAB number them 0
//! (Sunday) to 6, so a number is moved down by one (`cron(0 12 ? * 2 *)`, Mondays, is
//! `0 12 * * 1`). Names (`MON-FRI`) mean the same everywhere.

use serde_json::Value as Json;

/// The expression of a `schedule` event: `schedule: rate(...)` or `schedule: {rate: ...}` (a
/// list of rates gives its first).
pub fn expression(raw: &Json) -> Option<String> {
    let schedule = raw.get("schedule")?;
    let rate = match schedule {
        Json::String(_) => schedule,
        _ => schedule.get("rate")?,
    };
    match rate {
        Json::String(text) => Some(text.clone()),
        Json::Array(items) => items.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

/// A 5-field cron from `rate(...)`, AWS's 6-field `cron(...)` (whose year is `*`) or a 5-field
/// cron; `None` when it cannot be written as one.
pub fn five_field_cron(expression: &str) -> Option<String> {
    let expression = expression.trim();
    if let Some(rate) = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let (amount, unit) = rate.trim().split_once(' ')?;
        let amount: u32 = amount.parse().ok().filter(|n| *n > 0)?;
        return match unit.trim().trim_end_matches('s') {
            "minute" if amount < 60 => Some(format!("*/{amount} * * * *")),
            "hour" if amount < 24 => Some(format!("0 */{amount} * * *")),
            "day" if amount == 1 => Some("0 0 * * *".into()),
            _ => None,
        };
    }
    let body = expression
        .strip_prefix("cron(")
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or(expression);
    let fields: Vec<&str> = body.split_whitespace().collect();
    match fields.len() {
        5 => Some(fields.join(" ")),
        // AWS: minutes hours day-of-month month day-of-week year; `?` means "any".
        6 if fields[5] == "*" => {
            let mut converted: Vec<String> = fields[..5]
                .iter()
                .map(|field| if *field == "?" { "*" } else { field }.to_string())
                .collect();
            converted[4] = aws_weekdays(&converted[4])?;
            Some(converted.join(" "))
        }
        _ => None,
    }
}

/// A 6-field NCRONTAB (seconds first) for Azure's timer trigger, from the same inputs.
pub fn ncrontab(expression: &str) -> Option<String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.len() == 6 && !expression.contains('(') {
        // Already an NCRONTAB.
        return Some(fields.join(" "));
    }
    five_field_cron(expression).map(|cron| format!("0 {cron}"))
}

/// AWS's day-of-week field with its numbers (1 = Sunday) moved to cron's (0 = Sunday).
fn aws_weekdays(field: &str) -> Option<String> {
    if !field.chars().any(|c| c.is_ascii_digit()) {
        return Some(field.to_string());
    }
    let mut out = String::new();
    let mut number = String::new();
    let flush = |number: &mut String, out: &mut String| -> Option<()> {
        if !number.is_empty() {
            let day: u32 = number.parse().ok()?;
            if !(1..=7).contains(&day) {
                return None;
            }
            out.push_str(&(day - 1).to_string());
            number.clear();
        }
        Some(())
    };
    for c in field.chars() {
        match c {
            '0'..='9' => number.push(c),
            // `*/2` steps and `#3` (the third such day) are counts, not days.
            '/' | '#' => return None,
            _ => {
                flush(&mut number, &mut out)?;
                out.push(c);
            }
        }
    }
    flush(&mut number, &mut out)?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_become_five_field_crons() {
        assert_eq!(
            five_field_cron("rate(5 minutes)").as_deref(),
            Some("*/5 * * * *")
        );
        assert_eq!(five_field_cron("rate(1 day)").as_deref(), Some("0 0 * * *"));
        assert_eq!(
            five_field_cron("cron(0 12 * * ? *)").as_deref(),
            Some("0 12 * * *")
        );
        assert_eq!(five_field_cron("30 6 * * 1").as_deref(), Some("30 6 * * 1"));
        assert_eq!(
            five_field_cron("cron(0 12 * * ? 2027)"),
            None,
            "a year is not a cron field"
        );
        assert_eq!(five_field_cron("rate(90 minutes)"), None);
    }

    #[test]
    fn aws_weekday_numbers_move_to_crons_numbering() {
        // AWS 2 is Monday; cron's Monday is 1.
        assert_eq!(
            five_field_cron("cron(0 12 ? * 2 *)").as_deref(),
            Some("0 12 * * 1")
        );
        assert_eq!(
            five_field_cron("cron(0 8 ? * 2-6 *)").as_deref(),
            Some("0 8 * * 1-5")
        );
        assert_eq!(
            five_field_cron("cron(0 8 ? * 1,7 *)").as_deref(),
            Some("0 8 * * 0,6")
        );
        assert_eq!(
            five_field_cron("cron(0 8 ? * MON-FRI *)").as_deref(),
            Some("0 8 * * MON-FRI")
        );
        assert_eq!(
            five_field_cron("cron(0 8 ? * 6#3 *)"),
            None,
            "the third Friday has no cron"
        );
        assert_eq!(five_field_cron("cron(0 8 ? * 8 *)"), None);
    }

    #[test]
    fn azure_gets_seconds_first() {
        assert_eq!(
            ncrontab("rate(5 minutes)").as_deref(),
            Some("0 */5 * * * *")
        );
        assert_eq!(
            ncrontab("cron(30 6 ? * 2 *)").as_deref(),
            Some("0 30 6 * * 1")
        );
        assert_eq!(
            ncrontab("0 */10 * * * *").as_deref(),
            Some("0 */10 * * * *")
        );
        assert_eq!(ncrontab("rate(3 days)"), None);
    }
}
