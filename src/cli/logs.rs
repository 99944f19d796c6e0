//! `updraft logs -f NAME`: a deployed function's log events, one line each, or followed as they
//! come with `--tail` until Ctrl-C.
//!
//! `--startTime` reads as the Serverless Framework reads it: a duration ago (`30s`, `10m`, `2h`,
//! `1d`), a date or time (`2026-11-26`, `2026-11-26T09:30`, `2026-11-26T09:30:00Z`, with an
//! offset or without one for UTC), or epoch seconds or milliseconds. Without it, the last 10
//! minutes are read, or with `--tail` the last 10 seconds.
//!
//! Ctrl-C ends `--tail` with exit code 130, as it ends every other command: a script that runs
//! `updraft logs --tail` under a timeout can tell a stop from an error (1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::cloud;
use super::error::{Failure, Status};
use super::invoke::find_function;
use super::output::Printer;
use super::GlobalArgs;
use crate::provider::remote::{follow_logs, read_logs};
use crate::provider::LogQuery;

/// Show a deployed function's log, or follow it
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The function, by its key under `functions:`
    #[arg(short = 'f', long, value_name = "NAME")]
    pub function: String,
    /// Follow the log: print new events as they come, until Ctrl-C
    #[arg(short = 't', long)]
    pub tail: bool,
    /// From when: a duration ago (30s, 10m, 2h, 1d), a date or time (2026-11-26,
    /// 2026-11-26T09:30:00Z) or epoch seconds or milliseconds [default: 10m, or 10s with --tail]
    #[arg(long = "startTime", alias = "start-time", value_name = "WHEN", value_parser = parse_start_time)]
    pub start_time: Option<StartTime>,
    /// Only events that match this filter: a CloudWatch Logs filter pattern on AWS, a Cloud
    /// Logging query on Google Cloud
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// With --tail, milliseconds between two reads of the log
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub interval: u64,
    /// One JSON object per event on stdout
    #[arg(long)]
    pub json: bool,
}

/// Where reading starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTime {
    /// This long before now.
    Ago(Duration),
    /// Milliseconds since the Unix epoch.
    At(i64),
}

impl StartTime {
    fn epoch_ms(self, now_ms: i64) -> i64 {
        match self {
            StartTime::Ago(duration) => {
                now_ms.saturating_sub(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
            }
            StartTime::At(ms) => ms,
        }
    }
}

pub fn exec(
    global: &GlobalArgs,
    args: LogsArgs,
    printer: &mut Printer,
    runtime: &tokio::runtime::Handle,
) -> Result<Status, Failure> {
    let context = cloud::load(global, printer, runtime)?;
    let function = find_function(&context.service, &args.function)?;
    let backend = cloud::connect(global, &context, runtime)?;
    let default_start = if args.tail {
        StartTime::Ago(Duration::from_secs(10))
    } else {
        StartTime::Ago(Duration::from_secs(600))
    };
    let query = LogQuery {
        function: backend.deployed_name(function),
        start_ms: args.start_time.unwrap_or(default_start).epoch_ms(now_ms()),
        end_ms: None,
        filter: args.filter.clone(),
    };
    let missing = || {
        printer.info(&format!(
            "No log for {} yet: it has not run (or not logged) in {}.",
            function.name,
            backend.scope().region
        ));
    };
    let failure = |error| cloud::failure(error, &context.loaded.sources);

    if !args.tail {
        let read = runtime.block_on(async {
            tokio::select! {
                read = read_logs(backend.as_ref(), &query, |_| {}) => Ok(read),
                _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted),
            }
        })?;
        let read = read.map_err(failure)?;
        if read.log_missing {
            missing();
        }
        for event in &read.events {
            printer.log_event(event, args.json);
        }
        return Ok(Status::Success);
    }

    let stop = CancellationToken::new();
    let interrupted = stop.clone();
    let watcher = runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupted.cancel();
        }
    });
    let followed = runtime.block_on(follow_logs(
        backend.as_ref(),
        &query,
        Duration::from_millis(args.interval),
        &stop,
        |event| printer.log_event(event, args.json),
        missing,
    ));
    watcher.abort();
    followed.map_err(failure)?;
    Err(Failure::Interrupted)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// `--startTime`: a duration ago, a date or time, or an epoch number.
pub fn parse_start_time(text: &str) -> Result<StartTime, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let number: i64 = text
            .parse()
            .map_err(|_| format!("`{text}` is too large for a time"))?;
        // Seconds until the year 5138; anything larger is milliseconds.
        return Ok(StartTime::At(if number < 100_000_000_000 {
            number.saturating_mul(1_000)
        } else {
            number
        }));
    }
    if let Some(duration) = parse_ago(text) {
        return Ok(StartTime::Ago(duration));
    }
    parse_date_time(text).map(StartTime::At).ok_or_else(|| {
        format!(
            "expected a duration ago (30s, 10m, 2h, 1d), a date or time (2026-11-26, \
             2026-11-26T09:30:00Z) or epoch seconds, got `{text}`"
        )
    })
}

fn parse_ago(text: &str) -> Option<Duration> {
    let at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(at);
    let value: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => value,
        "m" => value.checked_mul(60)?,
        "h" => value.checked_mul(3_600)?,
        "d" => value.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM]`, UTC when no offset is given.
fn parse_date_time(text: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    // With an offset (`Z` or `+02:00`), seconds and a fraction optional.
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Some(time.timestamp_millis());
        }
    }
    // Without one: UTC.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc().timestamp_millis());
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_time_ago() {
        assert_eq!(
            parse_start_time("10m"),
            Ok(StartTime::Ago(Duration::from_secs(600)))
        );
        assert_eq!(
            parse_start_time("1d"),
            Ok(StartTime::Ago(Duration::from_secs(86_400)))
        );
        assert_eq!(
            StartTime::Ago(Duration::from_secs(30)).epoch_ms(100_000),
            70_000
        );
    }

    #[test]
    fn epoch_numbers_read_as_seconds_or_milliseconds() {
        assert_eq!(
            parse_start_time("1469705761"),
            Ok(StartTime::At(1_469_705_761_000))
        );
        assert_eq!(
            parse_start_time("1469705761123"),
            Ok(StartTime::At(1_469_705_761_123))
        );
    }

    #[test]
    fn dates_and_times_read_in_utc_unless_an_offset_is_given() {
        assert_eq!(
            parse_start_time("1970-01-02"),
            Ok(StartTime::At(86_400_000))
        );
        assert_eq!(
            parse_start_time("2025-11-26T09:30:00.123Z"),
            Ok(StartTime::At(1_764_149_400_123))
        );
        assert_eq!(
            parse_start_time("2025-11-26T09:30"),
            Ok(StartTime::At(1_764_149_400_000))
        );
        assert_eq!(
            parse_start_time("2025-11-26T11:30:00+02:00"),
            Ok(StartTime::At(1_764_149_400_000))
        );
        assert_eq!(
            parse_start_time("2000-03-01 00:00:00"),
            Ok(StartTime::At(951_868_800_000))
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_accepted_forms() {
        for text in ["yesterday", "10x", "2025-13-01", "2025-11-26T9", ""] {
            let error = parse_start_time(text).expect_err(text);
            assert!(error.contains("duration ago"), "{text}: {error}");
        }
    }
}
