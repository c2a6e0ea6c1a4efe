//! Wall time in unix milliseconds. Code that keeps time for a long-running
//! part (the dispatcher) takes a [`Clock`], so its tests can set the time;
//! everything else asks [`now_ms`]. Depends on nothing else in the crate.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The system's wall time in unix milliseconds (0 before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Unix ms as RFC 3339 in UTC with milliseconds, as request bodies carry
/// times (`2026-12-02T10:00:00.000Z`).
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where the time comes from: the system's clock, or, in tests, a manual
/// one that moves only when told. Cheap to clone; clones of a manual clock
/// show the same time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// The manual clock's time; `None` for the system's.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's wall time.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that shows `at_ms` until it is set or advanced.
    pub fn manual(at_ms: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(at_ms))),
        }
    }

    /// The time in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(at) => at.load(Ordering::Relaxed),
            None => now_ms(),
        }
    }

    /// Sets a manual clock to `at_ms`. Panics on the system clock.
    pub fn set_ms(&self, at_ms: i64) {
        self.hand().store(at_ms, Ordering::Relaxed);
    }

    /// Moves a manual clock on by `by`. Panics on the system clock.
    pub fn advance(&self, by: Duration) {
        self.hand()
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }

    fn hand(&self) -> &AtomicI64 {
        self.manual
            .as_deref()
            .expect("only a manual clock can be set")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clone.now_ms(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clone.now_ms(), 3_000);
        clone.set_ms(10);
        assert_eq!(clock.now_ms(), 10);
    }

    #[test]
    fn the_system_clock_shows_the_time() {
        let before = now_ms();
        let shown = Clock::system().now_ms();
        assert!(shown >= before && shown <= now_ms());
        // After 2020-01-01.
        assert!(shown > 1_577_836_800_000);
    }
}
