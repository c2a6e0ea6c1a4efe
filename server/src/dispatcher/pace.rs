//! A hook's rate limit, as this process keeps to it: the generic cell rate
//! algorithm (a token bucket kept as one number, the time the bucket will
//! next be full). Each process paces its share of the limit (the share it
//! has of the hook's in-flight limit, `shares.rs`), so all of them together
//! keep to the whole without talking to each other.
//!
//! Hand-written rather than `governor`'s: the dispatcher's state takes the
//! time from its caller (the dispatcher's `Clock`, which tests set), and the
//! rate changes with the share and the hook's settings from one call to the
//! next.

use domain::policy::RateLimit;

/// One hook's pace in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pace {
    /// When the bucket is full again, if nothing more is taken (unix ms,
    /// fractional); past times mean full.
    full_at: f64,
}

impl Pace {
    /// Takes one delivery's turn at `now` under `limit`, of which this
    /// process has `share` (0 to 1), or says when the next turn comes.
    pub fn take(&mut self, now: i64, limit: RateLimit, share: f64) -> Result<(), i64> {
        if share <= 0.0 {
            // No share: nothing goes from here (the others have it all).
            return Err(now + 1000);
        }
        let now = now as f64;
        let interval = 1000.0 / (limit.per_second() * share);
        // The burst is shared too, but every process may send one at a time.
        let burst = (f64::from(limit.burst()) * share).max(1.0);
        let tolerance = interval * (burst - 1.0);
        let full_at = self.full_at.max(now);
        let earliest = full_at - tolerance;
        if earliest > now {
            return Err(earliest.ceil() as i64);
        }
        self.full_at = full_at + interval;
        Ok(())
    }

    /// True once the bucket is full: this pace is as good as a new one.
    pub fn is_full(&self, now: i64) -> bool {
        self.full_at <= now as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many turns are taken at each millisecond from 0 to `until_ms`,
    /// taking whenever allowed.
    fn turns(limit: RateLimit, share: f64, until_ms: i64) -> Vec<i64> {
        let mut pace = Pace::default();
        let mut taken = Vec::new();
        let mut now = 0;
        while now <= until_ms {
            match pace.take(now, limit, share) {
                Ok(()) => taken.push(now),
                Err(at) => {
                    assert!(at > now, "the next turn is later");
                    now = at;
                }
            }
        }
        taken
    }

    #[test]
    fn a_burst_then_the_rate() {
        let limit = RateLimit::new(20.0, 5).unwrap();
        let taken = turns(limit, 1.0, 10_000);
        // 5 at once, then one every 50 ms.
        assert_eq!(&taken[..5], &[0, 0, 0, 0, 0]);
        assert_eq!(taken[5], 50);
        assert_eq!(taken[6], 100);
        // In any second at most 20 + the burst of 5.
        for (i, start) in taken.iter().enumerate() {
            let within = taken[i..].iter().take_while(|t| **t < start + 1000).count();
            assert!(within <= 25, "{within} from {start}");
        }
        assert_eq!(taken.len(), 5 + 200, "10 s at 20/s after the burst");
    }

    #[test]
    fn shares_add_up_to_the_limit() {
        let limit = RateLimit::new(20.0, 4).unwrap();
        let half = turns(limit, 0.5, 10_000).len();
        assert_eq!(half, 2 + 100, "half the burst, then 10/s");
        assert!(Pace::default().take(0, limit, 0.0).is_err());
    }

    #[test]
    fn fractional_rates_space_turns_out() {
        let limit = RateLimit::new(0.5, 1).unwrap();
        assert_eq!(
            turns(limit, 1.0, 10_000),
            vec![0, 2000, 4000, 6000, 8000, 10_000]
        );
    }
}
