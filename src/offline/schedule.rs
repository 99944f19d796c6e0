//! `schedule` events: `rate(...)` and `cron(...)` expressions as EventBridge reads them (cron in
//! UTC, six fields: minutes hours day-of-month month day-of-week year), and the timers that fire
//! them on the real clock.
//!
//! `L`, `W` and `#` in cron fields are not supported offline: such a schedule is reported at
//! start and does not fire (it can still be fired on demand through `offline emit`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Rate { seconds: u64 },
    Cron(Cron),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    /// `None`: `?` (the day of the week decides).
    days_of_month: Option<Vec<bool>>,
    months: Vec<bool>,
    /// Index 1 = Sunday .. 7 = Saturday; `None`: `?`.
    days_of_week: Option<Vec<bool>>,
    /// `None`: any year.
    years: Option<Vec<bool>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("schedule `{expression}` cannot run offline: {reason}")]
#[diagnostic(help(
    "write `rate(N minutes|hours|days)` or `cron(minutes hours day-of-month month day-of-week year)`; \
     `L`, `W` and `#` are not supported offline"
))]
pub struct ScheduleError {
    pub expression: String,
    pub reason: String,
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, ScheduleError> {
        let fail = |reason: &str| ScheduleError {
            expression: expression.to_string(),
            reason: reason.to_string(),
        };
        let text = expression.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let mut parts = inner.split_whitespace();
            let value: u64 = parts
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| fail("the rate needs a positive whole number"))?;
            let unit = parts.next().unwrap_or_default();
            let seconds = match unit.trim_end_matches('s') {
                "minute" => 60,
                "hour" => 3600,
                "day" => 86_400,
                _ => return Err(fail("the unit must be minute(s), hour(s) or day(s)")),
            };
            return Ok(Schedule::Rate {
                seconds: value * seconds,
            });
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            let fields: Vec<&str> = inner.split_whitespace().collect();
            let &[minutes, hours, dom, month, dow, year] = fields.as_slice() else {
                return Err(fail("cron needs six fields"));
            };
            let field = |text: &str, low: u32, high: u32, names: &[&str]| {
                parse_field(text, low, high, names).map_err(|reason| fail(&reason))
            };
            let optional = |text: &str, low: u32, high: u32, names: &[&str]| {
                if text == "?" {
                    Ok(None)
                } else {
                    field(text, low, high, names).map(Some)
                }
            };
            return Ok(Schedule::Cron(Cron {
                minutes: field(minutes, 0, 59, &[])?,
                hours: field(hours, 0, 23, &[])?,
                days_of_month: optional(dom, 1, 31, &[])?,
                months: field(month, 1, 12, MONTHS)?,
                days_of_week: optional(dow, 1, 7, DAYS)?,
                years: if year == "*" {
                    None
                } else {
                    Some(field(year, 1970, 2199, &[])?)
                },
            }));
        }
        Err(fail("it is neither rate(...) nor cron(...)"))
    }

    /// The next time it fires strictly after `after` (rates count from `start`).
    pub fn next_after(&self, start: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Rate { seconds } => {
                let period = i64::try_from(*seconds).ok()?;
                let elapsed = (after - start).num_seconds().max(0);
                Some(start + Duration::seconds((elapsed / period + 1) * period))
            }
            Schedule::Cron(cron) => cron.next_after(after),
        }
    }
}

/// A field as a table of allowed values indexed by value (`low..=high`).
fn parse_field(text: &str, low: u32, high: u32, names: &[&str]) -> Result<Vec<bool>, String> {
    let mut allowed = vec![false; high as usize + 1];
    let value = |item: &str| -> Result<u32, String> {
        if let Some(index) = names.iter().position(|n| n.eq_ignore_ascii_case(item)) {
            return Ok(index as u32 + low);
        }
        item.parse::<u32>()
            .ok()
            .filter(|v| (low..=high).contains(v))
            .ok_or_else(|| format!("`{item}` is not a value from {low} to {high}"))
    };
    for part in text.split(',') {
        if part.contains(['L', 'W', '#']) && !names.iter().any(|n| part.contains(n)) {
            return Err(format!("`{part}` uses L, W or #"));
        }
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("`{step}` is not a step"))?,
            ),
            None => (part, 1),
        };
        let (first, last) = if range == "*" {
            (low, high)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let single = value(range)?;
            (single, if part.contains('/') { high } else { single })
        };
        let mut current = first;
        while current <= last {
            allowed[current as usize] = true;
            current += step;
        }
    }
    Ok(allowed)
}

fn allows(table: &[bool], value: u32) -> bool {
    table.get(value as usize).copied().unwrap_or(false)
}

impl Cron {
    fn day_matches(&self, date: NaiveDate) -> bool {
        let year_ok = self
            .years
            .as_ref()
            .is_none_or(|y| allows(y, date.year().max(0) as u32));
        let month_ok = allows(&self.months, date.month());
        let dom_ok = self
            .days_of_month
            .as_ref()
            .is_none_or(|d| allows(d, date.day()));
        let dow_ok = self
            .days_of_week
            .as_ref()
            .is_none_or(|d| allows(d, date.weekday().num_days_from_sunday() + 1));
        year_ok && month_ok && dom_ok && dow_ok
    }

    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from = after + Duration::minutes(1);
        let mut date = from.date_naive();
        // Five years of days: enough for any expression that fires at all.
        for _ in 0..(5 * 366) {
            if self.day_matches(date) {
                let (hour_from, minute_from) = if date == from.date_naive() {
                    (from.hour(), from.minute())
                } else {
                    (0, 0)
                };
                for hour in hour_from..24 {
                    if !allows(&self.hours, hour) {
                        continue;
                    }
                    let start = if hour == hour_from { minute_from } else { 0 };
                    if let Some(minute) = (start..60).find(|m| allows(&self.minutes, *m)) {
                        let naive = date.and_hms_opt(hour, minute, 0)?;
                        return Some(Utc.from_utc_datetime(&naive));
                    }
                }
            }
            date = date.succ_opt()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn next(expression: &str, after: &str) -> String {
        let schedule = Schedule::parse(expression).unwrap_or_else(|e| panic!("{e}"));
        schedule
            .next_after(at(after), at(after))
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn rates_count_from_the_start() {
        assert_eq!(
            Schedule::parse("rate(15 minutes)"),
            Ok(Schedule::Rate { seconds: 900 })
        );
        assert_eq!(
            Schedule::parse("rate(1 day)"),
            Ok(Schedule::Rate { seconds: 86_400 })
        );
        let schedule = Schedule::Rate { seconds: 60 };
        let start = at("2024-01-01T00:00:00Z");
        assert_eq!(
            schedule.next_after(start, at("2024-01-01T00:01:30Z")),
            Some(at("2024-01-01T00:02:00Z"))
        );
    }

    #[test]
    fn cron_finds_the_next_matching_minute() {
        assert_eq!(
            next("cron(0/15 * * * ? *)", "2024-01-01T10:07:00Z"),
            "2024-01-01T10:15:00+00:00"
        );
        assert_eq!(
            next("cron(0 10 * * ? *)", "2024-01-01T10:00:00Z"),
            "2024-01-02T10:00:00+00:00"
        );
        // 2024-01-01 is a Monday; MON-FRI at 18:00.
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", "2024-01-05T19:00:00Z"),
            "2024-01-08T18:00:00+00:00"
        );
        assert_eq!(
            next("cron(30 9 1 JAN,JUL ? *)", "2024-01-02T00:00:00Z"),
            "2024-07-01T09:30:00+00:00"
        );
        assert_eq!(next("cron(0 0 1 1 ? 2020)", "2024-01-01T00:00:00Z"), "");
    }

    #[test]
    fn unsupported_or_wrong_expressions_say_why() {
        assert!(Schedule::parse("cron(0 10 L * ? *)").is_err());
        assert!(Schedule::parse("cron(0 10 * *)").is_err());
        assert!(Schedule::parse("rate(0 minutes)").is_err());
        assert!(Schedule::parse("rate(5 weeks)").is_err());
        assert!(Schedule::parse("every day").is_err());
    }
}
