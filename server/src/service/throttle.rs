//! Slows down repeated failed sign-ins for one email address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before any waiting is imposed.
const FREE_FAILURES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Entries idle this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// How long the caller must still wait before trying `email` again.
    pub fn wait_before_attempt(&self, email: &str, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let &(count, last) = failures.get(email)?;
        let wait = penalty(count)?;
        let elapsed = now.saturating_duration_since(last);
        (elapsed < wait).then(|| wait - elapsed)
    }

    pub fn record_failure(&self, email: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, last)| now.saturating_duration_since(*last) < FORGET_AFTER);
        let entry = failures.entry(email.to_owned()).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now;
    }

    pub fn record_success(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(email);
    }
}

/// 1 s after the fourth failure, doubling up to a minute.
fn penalty(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES)?.min(16);
    (over > 0).then(|| Duration::from_secs(1 << (over - 1)).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_three_failures_and_reset_on_success() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.wait_before_attempt("a@x.io", t0), None);
            throttle.record_failure("a@x.io", t0);
        }
        assert_eq!(throttle.wait_before_attempt("a@x.io", t0), None);
        throttle.record_failure("a@x.io", t0);
        assert_eq!(
            throttle.wait_before_attempt("a@x.io", t0),
            Some(Duration::from_secs(1))
        );
        throttle.record_failure("a@x.io", t0);
        assert_eq!(
            throttle.wait_before_attempt("a@x.io", t0),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            throttle.wait_before_attempt("a@x.io", t0 + Duration::from_secs(2)),
            None
        );
        assert_eq!(
            throttle.wait_before_attempt("b@x.io", t0),
            None,
            "other emails are unaffected"
        );
        throttle.record_success("a@x.io");
        assert_eq!(throttle.wait_before_attempt("a@x.io", t0), None);
    }

    #[test]
    fn the_wait_is_capped() {
        assert_eq!(penalty(100), Some(MAX_WAIT));
        assert_eq!(penalty(3), None);
    }
}
