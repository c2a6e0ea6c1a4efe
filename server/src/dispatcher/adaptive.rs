//! Adaptive concurrency per endpoint: how many attempts of one hook this
//! process runs at once, between 1 and the hook's ceiling (this process's
//! share of the hook's in-flight limit, `shares.rs`).
//!
//! AIMD, as TCP's congestion window and Netflix's `AIMDLimit`: the limit
//! grows by one after a whole limit's worth of good answers while it is in
//! use, and halves on a sign of trouble. Trouble is a timeout, a 429 or a
//! 503 (the endpoint says it is overloaded), and an answer slower than
//! `--slow-answer` while the process's slots are all taken, when the slot it
//! held was one another hook was waiting for. A slow endpoint with nobody
//! waiting behind it keeps what it needs to keep up (Little's law: 5 events/s
//! at 1.2 s each need 6 at once).
//!
//! Why AIMD and not a gradient (Vegas, Netflix's `Gradient2`): a gradient
//! compares today's latency with the endpoint's best, so an endpoint slow
//! from the start (2 s, every time) looks healthy to it and keeps every
//! slot; and it needs a steady stream of samples to learn a baseline, while
//! many hooks send a few requests an hour. What a slot costs the others is
//! how long it is held, which an absolute threshold measures directly.
//!
//! One cut per round trip: an answer to an attempt that started before the
//! last cut says nothing about the limit as it is now (it was sent under
//! the old one), so ten slow answers arriving together halve the limit once.

use std::time::Duration;

use domain::delivery::AttemptSummary;

/// What one answer says about its endpoint's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answered within the threshold, or slowly while nobody waited.
    Good,
    /// Overloaded: a timeout, a 429 or a 503, or a slow answer while
    /// others waited for slots.
    Trouble,
    /// Says nothing: no connection could be made (a fast failure).
    Nothing,
}

/// How one attempt went, as far as its endpoint's capacity goes.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: Option<u16>,
    pub took: Duration,
    pub timed_out: bool,
    /// When the attempt started (unix ms).
    pub started_at: i64,
}

impl Answer {
    /// How `attempt` went. The sender ends a request at its `timeout`, so
    /// an attempt without an answer that took that long timed out.
    pub fn of(attempt: &AttemptSummary, timeout: Duration) -> Answer {
        let took = Duration::from_millis(attempt.duration_ms.max(0) as u64);
        Answer {
            status: attempt.response_status,
            took,
            timed_out: attempt.response_status.is_none() && took >= timeout,
            started_at: attempt.started_at,
        }
    }

    /// The verdict on this answer, given the threshold for slow answers and
    /// whether every shared slot was taken when it came.
    pub fn verdict(&self, slow_answer: Duration, contended: bool) -> Verdict {
        if self.timed_out || matches!(self.status, Some(429 | 503)) {
            return Verdict::Trouble;
        }
        if self.status.is_none() {
            return Verdict::Nothing;
        }
        if contended && self.took >= slow_answer {
            Verdict::Trouble
        } else {
            Verdict::Good
        }
    }
}

/// One endpoint's limit in this process.
#[derive(Debug, Clone)]
pub struct AdaptiveLimit {
    limit: usize,
    /// Good answers since the limit last changed.
    good: usize,
    /// When the limit was last cut (unix ms).
    cut_at: i64,
}

impl AdaptiveLimit {
    /// A new endpoint starts at its ceiling: nothing is known against it.
    pub fn new(ceiling: usize) -> AdaptiveLimit {
        AdaptiveLimit {
            limit: ceiling.max(1),
            good: 0,
            cut_at: i64::MIN,
        }
    }

    /// The limit now, under `ceiling` (0 when this process has no slot).
    pub fn current(&self, ceiling: usize) -> usize {
        self.limit.min(ceiling)
    }

    /// True when this limit is as good as a new one: it can be forgotten.
    pub fn at_ceiling(&self, ceiling: usize) -> bool {
        self.limit >= ceiling
    }

    /// Takes one answer's verdict: `in_flight` attempts of the endpoint were
    /// under way, this one included, and it came at `now` (unix ms).
    pub fn answered(
        &mut self,
        verdict: Verdict,
        started_at: i64,
        now: i64,
        in_flight: usize,
        ceiling: usize,
    ) {
        self.limit = self.limit.clamp(1, ceiling.max(1));
        match verdict {
            Verdict::Nothing => {}
            Verdict::Trouble => {
                if started_at >= self.cut_at {
                    self.limit = (self.limit / 2).max(1);
                    self.good = 0;
                    self.cut_at = now;
                }
            }
            // Growth only while the limit is what holds the endpoint back:
            // a hook that sends one at a time proves nothing about ten.
            Verdict::Good if in_flight * 2 >= self.limit => {
                self.good += 1;
                if self.good >= self.limit && self.limit < ceiling {
                    self.limit += 1;
                    self.good = 0;
                }
            }
            Verdict::Good => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Duration = Duration::from_secs(1);

    fn answer(status: Option<u16>, took_ms: u64) -> Answer {
        Answer {
            status,
            took: Duration::from_millis(took_ms),
            timed_out: false,
            started_at: 0,
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(answer(Some(200), 5).verdict(SLOW, true), Verdict::Good);
        assert_eq!(answer(Some(500), 5).verdict(SLOW, true), Verdict::Good);
        assert_eq!(answer(Some(429), 5).verdict(SLOW, false), Verdict::Trouble);
        assert_eq!(answer(Some(503), 5).verdict(SLOW, false), Verdict::Trouble);
        assert_eq!(answer(None, 5).verdict(SLOW, true), Verdict::Nothing);
        let timeout = Answer {
            timed_out: true,
            ..answer(None, 10_000)
        };
        assert_eq!(timeout.verdict(SLOW, false), Verdict::Trouble);
        assert_eq!(
            answer(Some(200), 2_000).verdict(SLOW, true),
            Verdict::Trouble,
            "slow while others wait"
        );
        assert_eq!(
            answer(Some(200), 2_000).verdict(SLOW, false),
            Verdict::Good,
            "slow with nobody waiting"
        );
    }

    #[test]
    fn trouble_halves_once_per_round_trip_down_to_one() {
        let mut limit = AdaptiveLimit::new(10);
        // Ten answers to attempts sent together: one cut.
        for _ in 0..10 {
            limit.answered(Verdict::Trouble, 0, 2_000, 10, 10);
        }
        assert_eq!(limit.current(10), 5);
        // Attempts sent after the cut: the next cut.
        limit.answered(Verdict::Trouble, 2_000, 4_000, 5, 10);
        assert_eq!(limit.current(10), 2);
        limit.answered(Verdict::Trouble, 4_000, 6_000, 2, 10);
        limit.answered(Verdict::Trouble, 6_000, 8_000, 1, 10);
        assert_eq!(limit.current(10), 1, "never below one");
    }

    #[test]
    fn good_answers_under_load_raise_it_back_to_the_ceiling() {
        let mut limit = AdaptiveLimit::new(10);
        for round in 0..4 {
            limit.answered(Verdict::Trouble, round * 10, round * 10 + 5, 1, 10);
        }
        assert_eq!(limit.current(10), 1);
        let mut answers = 0;
        while !limit.at_ceiling(10) {
            let in_flight = limit.current(10);
            limit.answered(Verdict::Good, 100, 101, in_flight, 10);
            answers += 1;
            assert!(answers < 100, "it grows");
        }
        // One more per limit's worth of answers: 1 + 2 + … + 9.
        assert_eq!(answers, 45);
        limit.answered(Verdict::Good, 100, 101, 10, 10);
        assert_eq!(limit.current(10), 10, "never above the ceiling");
    }

    #[test]
    fn it_does_not_grow_while_unused_and_follows_the_ceiling() {
        let mut limit = AdaptiveLimit::new(10);
        limit.answered(Verdict::Trouble, 0, 1, 1, 10);
        limit.answered(Verdict::Trouble, 1, 2, 1, 10);
        assert_eq!(limit.current(10), 2);
        for _ in 0..50 {
            limit.answered(Verdict::Good, 5, 6, 0, 10);
        }
        assert_eq!(limit.current(10), 2, "nothing held it back");
        limit.answered(Verdict::Nothing, 5, 6, 2, 10);
        assert_eq!(limit.current(10), 2);
        assert_eq!(AdaptiveLimit::new(10).current(3), 3, "a share of 3 slots");
        assert_eq!(AdaptiveLimit::new(10).current(0), 0, "no slot here");
    }
}
