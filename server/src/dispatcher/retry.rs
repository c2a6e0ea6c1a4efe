//! When to try again (README, "Delivery"): a schedule of waits after each failed
//! attempt, each with ±20 % jitter, and `Retry-After` on 429 and 503 honoured
//! up to twice the scheduled wait.

use std::time::Duration;

use domain::policy::RetrySchedule;
use rand::Rng;

/// The server's schedule unless `--retry-schedule` says otherwise.
pub const DEFAULT_SCHEDULE: &str = "5s,30s,2m,10m,30m,1h,3h,6h,12h";

pub fn default_schedule() -> RetrySchedule {
    DEFAULT_SCHEDULE
        .parse()
        .expect("the default schedule parses")
}

/// How long to wait after attempt `failed_attempt` (1-based) failed, or
/// `None` when no retry is left. `retry_after` is the receiver's own ask.
pub fn delay_after(
    schedule: &RetrySchedule,
    failed_attempt: i64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let step = *schedule
        .steps()
        .get(usize::try_from(failed_attempt - 1).ok()?)?;
    Some(match retry_after {
        Some(asked) => asked.min(step * 2),
        None => step.mul_f64(rand::thread_rng().gen_range(0.8..=1.2)),
    })
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
        let schedule = default_schedule();
        assert_eq!(schedule.steps().len(), 9, "10 attempts in all");
        assert_eq!(schedule.steps()[0], Duration::from_secs(5));
        assert_eq!(schedule.steps()[8], Duration::from_secs(12 * 3600));
        assert_eq!(schedule.to_string(), "5s,30s,2m,10m,30m,1h,3h,6h,12h");
    }

    #[test]
    fn waits_are_jittered_within_twenty_percent_and_run_out() {
        let schedule: RetrySchedule = "10s,1m".parse().unwrap();
        for _ in 0..200 {
            let wait = delay_after(&schedule, 1, None).unwrap();
            assert!((8_000..=12_000).contains(&wait.as_millis()), "{wait:?}");
        }
        assert!(delay_after(&schedule, 2, None).unwrap() >= Duration::from_secs(48));
        assert_eq!(delay_after(&schedule, 3, None), None);
        assert_eq!(delay_after(&schedule, 0, None), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_twice_the_step() {
        let schedule: RetrySchedule = "10s".parse().unwrap();
        let ask = |s| delay_after(&schedule, 1, Some(Duration::from_secs(s)));
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
        assert!(err.message.contains("`often`"), "{err}");
    }
}
