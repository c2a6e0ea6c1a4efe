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
    /// Starts a sign-in attempt for `email`, counting it as a failure until
    /// `record_success` says otherwise, so parallel guesses are throttled too.
    /// Refuses with the time left to wait when the attempt comes too soon.
    pub fn begin_attempt(&self, email: &str, now: Instant) -> Result<(), Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, last)| now.saturating_duration_since(*last) < FORGET_AFTER);
        let (count, last) = failures.entry(email.to_owned()).or_insert((0, now));
        if let Some(wait) = penalty(*count) {
            let elapsed = now.saturating_duration_since(*last);
            if elapsed < wait {
                return Err(wait - elapsed);
            }
        }
        *count += 1;
        *last = now;
        Ok(())
    }

    /// Marks the end of a failed attempt: the wait before the next one runs from here.
    pub fn record_failure(&self, email: &str, now: Instant) {
        if let Some((_, last)) = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(email)
        {
            *last = now;
        }
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
        for _ in 0..4 {
            assert_eq!(throttle.begin_attempt("a@x.io", t0), Ok(()));
        }
        assert_eq!(
            throttle.begin_attempt("a@x.io", t0),
            Err(Duration::from_secs(1))
        );
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(throttle.begin_attempt("a@x.io", t1), Ok(()));
        assert_eq!(
            throttle.begin_attempt("a@x.io", t1),
            Err(Duration::from_secs(2))
        );
        assert_eq!(
            throttle.begin_attempt("b@x.io", t1),
            Ok(()),
            "other emails are unaffected"
        );
        throttle.record_success("a@x.io");
        assert_eq!(throttle.begin_attempt("a@x.io", t1), Ok(()));
    }

    #[test]
    fn the_wait_is_capped() {
        assert_eq!(penalty(100), Some(MAX_WAIT));
        assert_eq!(penalty(3), None);
    }
}
