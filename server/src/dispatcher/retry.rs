//! When to try again (README, "Delivery"): a schedule of waits after each failed
//! attempt, each with ±20 % jitter, and `Retry-After` on 429 and 503 honoured
//! up to twice the scheduled wait.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

pub const DEFAULT_SCHEDULE: &str = "5s,30s,2m,10m,30m,1h,3h,6h,12h";

/// The waits after the first, second … failed attempt; when they run out the
/// delivery has failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl FromStr for RetrySchedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let steps = text
            .split(',')
            .map(str::trim)
            .filter(|step| !step.is_empty())
            .map(|step| {
                humantime::parse_duration(step)
                    .map_err(|err| format!("`{step}` is not a duration like 5s, 2m or 1h: {err}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RetrySchedule(steps))
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self
            .0
            .iter()
            .map(|d| humantime::format_duration(*d).to_string())
            .collect();
        f.write_str(&steps.join(","))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        DEFAULT_SCHEDULE
            .parse()
            .expect("the default schedule parses")
    }
}

impl RetrySchedule {
    /// How long to wait after attempt `failed_attempt` (1-based) failed, or
    /// `None` when no retry is left. `retry_after` is the receiver's own ask.
    pub fn delay_after(
        &self,
        failed_attempt: i64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let step = *self.0.get(usize::try_from(failed_attempt - 1).ok()?)?;
        Some(match retry_after {
            Some(asked) => asked.min(step * 2),
            None => step.mul_f64(rand::thread_rng().gen_range(0.8..=1.2)),
        })
    }
}

/// `Retry-After` as seconds or an HTTP date, as a wait from `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait_ms = at.timestamp_millis() - now_ms;
    Some(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_the_documented_one() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.0.len(), 9, "10 attempts in all");
        assert_eq!(schedule.0[0], Duration::from_secs(5));
        assert_eq!(schedule.0[8], Duration::from_secs(12 * 3600));
        assert_eq!(schedule.to_string(), "5s,30s,2m,10m,30m,1h,3h,6h,12h");
    }

    #[test]
    fn waits_are_jittered_within_twenty_percent_and_run_out() {
        let schedule: RetrySchedule = "10s,1m".parse().unwrap();
        for _ in 0..200 {
            let wait = schedule.delay_after(1, None).unwrap();
            assert!((8_000..=12_000).contains(&wait.as_millis()), "{wait:?}");
        }
        assert!(schedule.delay_after(2, None).unwrap() >= Duration::from_secs(48));
        assert_eq!(schedule.delay_after(3, None), None);
        assert_eq!(schedule.delay_after(0, None), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_twice_the_step() {
        let schedule: RetrySchedule = "10s".parse().unwrap();
        let ask = |s| schedule.delay_after(1, Some(Duration::from_secs(s)));
        assert_eq!(ask(3), Some(Duration::from_secs(3)));
        assert_eq!(ask(60), Some(Duration::from_secs(20)));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7", 0), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", 10_000),
            Some(Duration::from_secs(20))
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn bad_schedules_name_the_step() {
        let err = "5s,often".parse::<RetrySchedule>().unwrap_err();
        assert!(err.contains("`often`"), "{err}");
    }
}
