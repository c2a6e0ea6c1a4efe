//! What the dispatcher holds in memory, behind one lock: every delivery leased
//! to this process, each in one phase,
//!
//! - **queued**: waiting for a slot of its hook;
//! - **sending**: its attempt is under way, taking a slot;
//! - **awaiting its log**: the attempt is over and its slot free, but the
//!   recorder has not yet written the settlement (the lease still holds);
//!
//! and the fair scheduler (`fair.rs`), which holds the queue, decides which
//! queued delivery starts next and how much of the queue each hook may hold.
//! This module keeps the leases; that one is fair.
//!
//! Nothing here does I/O or reads the clock: callers pass the time in.

use domain::ids::{DeliveryId, HookId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::adaptive::Answer;
use super::fair::{ClaimRooms, Limits, Scheduler};
use super::policy::HookDefaults;
use super::shares::{Place, Shares};
use crate::store::{HookTarget, LeasedDelivery};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Queued,
    Sending,
    AwaitingLog,
}

/// A lease this process holds: a delivery id and its lease token.
pub type HeldLease = (DeliveryId, Arc<str>);

pub struct State {
    scheduler: Scheduler,
    /// An attempt starts only if its lease outlasts its request's timeout,
    /// the hook's own or the server's.
    hook_defaults: HookDefaults,
    /// An answer this slow, while every shared slot is taken, lowers its
    /// endpoint's limit (`adaptive.rs`).
    slow_answer: Duration,
    stopping: bool,
    /// Every delivery held, by id: its phase, hook and lease token.
    held: HashMap<DeliveryId, (Phase, HookId, Arc<str>)>,
    /// Leases of queued deliveries that made room for another hook's, to
    /// be given back.
    evicted: Vec<HeldLease>,
}

impl State {
    pub fn new(limits: Limits, hook_defaults: HookDefaults, slow_answer: Duration) -> State {
        State {
            scheduler: Scheduler::new(limits),
            hook_defaults,
            slow_answer,
            stopping: false,
            held: HashMap::new(),
            evicted: Vec::new(),
        }
    }

    /// Takes `shares`. The queued deliveries of hooks it leaves without a
    /// slot are taken out: their leases are returned, to be given back for
    /// the instances that have the slots.
    pub fn set_shares(&mut self, shares: Shares) -> Vec<HeldLease> {
        let taken = self.scheduler.set_shares(shares);
        self.let_go(taken)
    }

    /// Stops holding `deliveries`; returns their leases.
    fn let_go(&mut self, deliveries: Vec<LeasedDelivery>) -> Vec<HeldLease> {
        deliveries
            .into_iter()
            .map(|delivery| {
                self.held.remove(&delivery.id);
                (delivery.id, delivery.lease_token)
            })
            .collect()
    }

    /// True when every hook's attempts in flight fit `place`'s share.
    pub fn fits(&self, place: Place) -> bool {
        self.scheduler.fits(place)
    }

    /// True while fresh deliveries may be leased to this process.
    pub fn takes_fresh(&self) -> bool {
        !self.stopping && self.scheduler.has_shares()
    }

    /// Keeps room for one fresh delivery of `hook_id` whose event is `bytes`
    /// long, if its hook is within its share of the queue.
    pub fn reserve(&mut self, hook_id: &HookId, bytes: usize) -> bool {
        if self.stopping || !self.scheduler.admit(hook_id, bytes) {
            return false;
        }
        let evicted = self.scheduler.take_evicted();
        let leases = self.let_go(evicted);
        self.evicted.extend(leases);
        true
    }

    /// The leases of deliveries evicted from the queue since the last call.
    pub fn take_evicted(&mut self) -> Vec<HeldLease> {
        std::mem::take(&mut self.evicted)
    }

    /// Gives back room kept for a fresh delivery that was not stored.
    pub fn cancel(&mut self, hook_id: &HookId, bytes: usize) {
        self.scheduler.cancel(hook_id, bytes);
    }

    /// Queues fresh deliveries, each in the room kept for it.
    pub fn hand_off(&mut self, fresh: Vec<LeasedDelivery>) -> Vec<HeldLease> {
        for delivery in &fresh {
            self.scheduler.unreserve(delivery);
        }
        self.push(fresh)
    }

    /// Queues claimed deliveries, each after those of its hook already
    /// queued. Returns the leases it does not keep, to be given back: all of
    /// them once stopping, and those of hooks this process has no share of.
    pub fn push(&mut self, deliveries: Vec<LeasedDelivery>) -> Vec<HeldLease> {
        let mut refused = Vec::new();
        for delivery in deliveries {
            let lease = (delivery.id.clone(), delivery.lease_token.clone());
            if self.stopping {
                refused.push(lease);
                continue;
            }
            if let Some((phase, _, token)) = self.held.get_mut(&delivery.id) {
                // Claimed again after its lease ran out while queued here:
                // the new lease is the one that counts. Claimed again while
                // its attempt is under way or being logged (a retry due at
                // once): the new lease is given back, for a claim after the
                // log.
                if *phase == Phase::Queued {
                    *token = delivery.lease_token.clone();
                    self.scheduler.replace_queued(delivery);
                } else {
                    refused.push(lease);
                }
                continue;
            }
            let entry = (
                Phase::Queued,
                delivery.hook.id.clone(),
                delivery.lease_token.clone(),
            );
            let id = delivery.id.clone();
            match self.scheduler.push(delivery) {
                Ok(()) => drop(self.held.insert(id, entry)),
                Err(_) => refused.push(lease),
            }
        }
        refused
    }

    /// The next delivery that may start now (see [`Scheduler::next`]), then
    /// sending. A queued delivery whose lease would run out during its
    /// attempt is dropped on the way (another dispatcher may take it once
    /// the lease has run out).
    pub fn next(&mut self, now: i64) -> Option<LeasedDelivery> {
        if self.stopping {
            return None;
        }
        let defaults = &self.hook_defaults;
        let lease_lasts = |delivery: &LeasedDelivery| {
            let timeout = defaults.request_timeout(&delivery.hook.policy);
            delivery.lease_expires_at - now > timeout.as_millis() as i64
        };
        let mut dropped = Vec::new();
        let started = self.scheduler.next(now, lease_lasts, &mut dropped);
        for delivery in dropped {
            tracing::warn!(delivery_id = %delivery.id, "lease too short to attempt; leaving it to run out");
            self.held.remove(&delivery.id);
        }
        let delivery = started?;
        if let Some(held) = self.held.get_mut(&delivery.id) {
            held.0 = Phase::Sending;
        }
        Some(delivery)
    }

    /// Every delivery that may start now (see [`State::next`]).
    pub fn startable(&mut self, now: i64) -> Vec<LeasedDelivery> {
        self.scheduler.forget_stale(now);
        std::iter::from_fn(|| self.next(now)).collect()
    }

    /// When a delivery its hook's rate limit held back may start, the
    /// earliest since the last call.
    pub fn take_paced_until(&mut self) -> Option<i64> {
        self.scheduler.take_paced_until()
    }

    /// The attempt of `id` is over at `now`: its hook's slot is free, what
    /// its answer says of the endpoint adjusts the hook's limit, and it
    /// awaits its log.
    pub fn attempted(&mut self, id: &DeliveryId, answer: Option<Answer>, now: i64) {
        let Some((phase, hook, _)) = self.held.get_mut(id) else {
            return;
        };
        if *phase != Phase::Sending {
            return;
        }
        *phase = Phase::AwaitingLog;
        let hook = hook.clone();
        let contended = self.scheduler.contended();
        let verdict = answer.map(|answer| {
            (
                answer.verdict(self.slow_answer, contended),
                answer.started_at,
            )
        });
        self.scheduler.finished(&hook, verdict, now);
    }

    /// The attempt of `id` was cancelled (shutdown): its lease is to be given
    /// back.
    pub fn abandoned(&mut self, id: &DeliveryId) -> Option<HeldLease> {
        let (phase, hook, token) = self.held.remove(id)?;
        if phase == Phase::Sending {
            self.scheduler.finished(&hook, None, 0);
        }
        Some((id.to_owned(), token))
    }

    /// The settlements of these deliveries are written: they are no longer held.
    pub fn logged<'a>(&mut self, ids: impl IntoIterator<Item = &'a DeliveryId>) {
        for id in ids {
            if matches!(self.held.get(id), Some((Phase::AwaitingLog, _, _))) {
                self.held.remove(id);
            }
        }
    }

    /// Takes every queued delivery of `hook_id` out (the hook was disabled):
    /// they now await their logs as skipped.
    pub fn take_queue(&mut self, hook_id: &HookId) -> Vec<LeasedDelivery> {
        let taken = self.scheduler.take_queue(hook_id);
        for delivery in &taken {
            if let Some(held) = self.held.get_mut(&delivery.id) {
                held.0 = Phase::AwaitingLog;
            }
        }
        taken
    }

    /// The hooks with queued deliveries, whose targets to look at again.
    pub fn queued_hooks(&self) -> Vec<HookId> {
        self.scheduler.queued_hooks()
    }

    /// The hooks among `looked_at` are now as in `targets`: queued
    /// deliveries go to the hook as it is now, and those of hooks that are
    /// gone (deleted, and their deliveries with them) are forgotten.
    pub fn update_targets(&mut self, looked_at: &[HookId], targets: Vec<HookTarget>) {
        let targets: HashMap<HookId, Arc<HookTarget>> = targets
            .into_iter()
            .map(|target| (target.id.clone(), Arc::new(target)))
            .collect();
        for hook in looked_at {
            match targets.get(hook) {
                Some(target) => self.scheduler.retarget(target),
                // Its deliveries are deleted with it: nothing to give back.
                None => {
                    let gone = self.scheduler.take_queue(hook);
                    drop(self.let_go(gone));
                }
            }
        }
    }

    /// Every lease this process holds, to be renewed.
    pub fn held_leases(&self) -> Vec<HeldLease> {
        self.held
            .iter()
            .map(|(id, (_, _, token))| (id.clone(), token.clone()))
            .collect()
    }

    /// Every live lease this process held at `renewed_at` now lasts until
    /// `until`.
    pub fn renewed(&mut self, renewed_at: i64, until: i64) {
        self.scheduler.renewed(renewed_at, until);
    }

    /// Stops: nothing more is queued or started. Returns the leases of the
    /// deliveries that were queued, to be given back.
    pub fn stop(&mut self) -> Vec<HeldLease> {
        self.stopping = true;
        let queued = self.scheduler.take_all();
        self.let_go(queued)
    }

    /// What a claim may take now, if anything.
    pub fn claim_rooms(&self) -> Option<ClaimRooms> {
        if !self.takes_fresh() {
            return None;
        }
        let rooms = self.scheduler.claim_rooms();
        (rooms.total > 0).then_some(rooms)
    }

    /// True when a claim would take a batch worth a statement.
    pub fn claim_worth_it(&self) -> bool {
        self.scheduler.claim_worth_it()
    }

    /// What a claim made with `rooms` brought.
    pub fn claimed(&mut self, rooms: &ClaimRooms, claimed: &[LeasedDelivery]) {
        self.scheduler.claimed(rooms, claimed);
    }

    pub fn has_shares(&self) -> bool {
        self.scheduler.has_shares()
    }

    pub fn sending(&self) -> usize {
        self.scheduler.sending()
    }

    #[cfg(test)]
    pub fn phase(&self, id: &DeliveryId) -> Option<Phase> {
        self.held.get(id).map(|(phase, _, _)| *phase)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fair::tests::{delivery, limits};
    use super::*;

    fn state(limits: Limits) -> State {
        let defaults = HookDefaults::new(
            "1s".parse().unwrap(),
            Duration::from_secs(10),
            Duration::from_secs(40),
        );
        let mut state = State::new(limits, defaults, Duration::from_secs(1));
        let _ = state.set_shares(Shares::alone());
        state
    }

    fn ids(deliveries: &[LeasedDelivery]) -> Vec<&str> {
        deliveries.iter().map(|d| d.id.as_str()).collect()
    }

    fn id(text: &str) -> DeliveryId {
        DeliveryId::from(text)
    }

    #[test]
    fn a_delivery_goes_from_queued_to_sending_to_awaiting_its_log() {
        let mut state = state(limits());
        state.push((0..3).map(|n| delivery("a", n)).collect());
        assert_eq!(ids(&state.startable(0)), ["a-0", "a-1"]);
        assert_eq!(state.phase(&id("a-0")), Some(Phase::Sending));
        assert_eq!(state.phase(&id("a-2")), Some(Phase::Queued));
        state.attempted(&id("a-0"), None, 0);
        assert_eq!(state.phase(&id("a-0")), Some(Phase::AwaitingLog));
        assert_eq!(ids(&state.startable(0)), ["a-2"]);
        state.logged(&[id("a-0"), id("a-2")]);
        assert_eq!(state.phase(&id("a-0")), None);
        assert_eq!(
            state.phase(&id("a-2")),
            Some(Phase::Sending),
            "only a delivery awaiting its log leaves when logged"
        );
    }

    #[test]
    fn a_hook_left_without_a_slot_gives_its_queue_back() {
        let mut state = state(Limits {
            per_hook: 1,
            ..limits()
        });
        state.push((0..3).map(|n| delivery("a", n)).collect());
        assert_eq!(ids(&state.startable(0)), ["a-0"]);
        let given_back = state.set_shares(Shares::none());
        let mut given_back: Vec<&str> = given_back.iter().map(|(id, _)| id.as_str()).collect();
        given_back.sort();
        assert_eq!(given_back, ["a-1", "a-2"], "queued, not the one sending");
        assert_eq!(state.phase(&id("a-0")), Some(Phase::Sending));
        assert_eq!(state.phase(&id("a-1")), None);
        assert!(state.claim_rooms().is_none(), "no shares: no claims");
        assert_eq!(state.push(vec![delivery("b", 0)]).len(), 1);
    }

    #[test]
    fn a_delivery_claimed_again_while_sending_gives_the_new_lease_back() {
        let mut state = state(limits());
        state.push(vec![delivery("a", 0)]);
        state.startable(0);
        let mut again = delivery("a", 0);
        again.lease_token = "t2".into();
        let refused = state.push(vec![again]);
        assert_eq!(refused, [("a-0".into(), Arc::from("t2"))]);
        assert_eq!(state.phase(&id("a-0")), Some(Phase::Sending));
    }

    #[test]
    fn fresh_deliveries_fill_the_room_kept_for_them() {
        let mut state = state(Limits {
            max_queued: 3,
            ..limits()
        });
        for _ in 0..3 {
            assert!(state.reserve(&HookId::from("a"), 2));
        }
        assert!(!state.reserve(&HookId::from("a"), 2), "the queue is full");
        assert!(state.claim_rooms().is_none(), "no room for a claim");
        state.cancel(&HookId::from("a"), 2);
        assert_eq!(state.claim_rooms().map(|rooms| rooms.total), Some(1));
        state.hand_off(vec![delivery("a", 0), delivery("a", 1)]);
        assert_eq!(state.claim_rooms().map(|rooms| rooms.total), Some(1));
        assert_eq!(ids(&state.startable(0)), ["a-0", "a-1"]);
        assert_eq!(state.claim_rooms().map(|rooms| rooms.total), Some(3));
    }

    #[test]
    fn the_queue_is_bounded_in_bytes() {
        let mut state = state(Limits {
            max_queued_bytes: 10,
            ..limits()
        });
        assert!(state.reserve(&HookId::from("a"), 8));
        assert!(!state.reserve(&HookId::from("a"), 8));
        state.cancel(&HookId::from("a"), 8);
        assert!(state.reserve(&HookId::from("a"), 8));
    }

    #[test]
    fn an_evicted_delivery_lease_is_given_back() {
        let mut state = state(Limits {
            max_queued: 4,
            per_hook: 1,
            ..limits()
        });
        // Claimed past its share (claims are not held to it exactly).
        state.push((0..4).map(|n| delivery("a", n)).collect());
        assert!(state.reserve(&HookId::from("b"), 2));
        let evicted = state.take_evicted();
        assert_eq!(evicted, [("a-3".into(), Arc::from("t"))]);
        assert_eq!(state.phase(&id("a-3")), None);
        assert!(state.take_evicted().is_empty());
    }

    #[test]
    fn a_lease_too_short_for_an_attempt_is_left_to_run_out() {
        let mut state = state(limits());
        let mut short = delivery("a", 0);
        short.lease_expires_at = 5_000;
        state.push(vec![short, delivery("a", 1)]);
        assert_eq!(ids(&state.startable(0)), ["a-1"]);
        assert_eq!(state.phase(&id("a-0")), None);
    }

    #[test]
    fn renewal_extends_the_leases_that_were_live() {
        let mut state = state(limits());
        let mut expired = delivery("a", 0);
        expired.lease_expires_at = 1_000;
        state.push(vec![expired, delivery("a", 1)]);
        state.renewed(2_000, 100_000);
        // At 70 s, only the renewed lease outlasts an attempt.
        assert_eq!(ids(&state.startable(70_000)), ["a-1"]);
    }

    #[test]
    fn a_disabled_hook_leaves_the_queue_to_be_logged_as_skipped() {
        let mut state = state(Limits {
            per_hook: 1,
            ..limits()
        });
        state.push((0..3).map(|n| delivery("a", n)).collect());
        state.push(vec![delivery("b", 0)]);
        assert_eq!(ids(&state.startable(0)), ["a-0", "b-0"]);
        assert_eq!(ids(&state.take_queue(&HookId::from("a"))), ["a-1", "a-2"]);
        assert_eq!(state.phase(&id("a-1")), Some(Phase::AwaitingLog));
        state.attempted(&id("a-0"), None, 0);
        assert!(state.startable(0).is_empty());
    }

    #[test]
    fn queued_deliveries_follow_their_hook_and_are_forgotten_with_it() {
        let mut state = state(Limits {
            per_hook: 1,
            ..limits()
        });
        state.push((0..2).map(|n| delivery("a", n)).collect());
        state.push((0..2).map(|n| delivery("b", n)).collect());
        let mut moved = (*delivery("a", 0).hook).clone();
        moved.url = "http://example.org".into();
        let looked_at = state.queued_hooks();
        assert_eq!(looked_at.len(), 2);
        state.update_targets(&looked_at, vec![moved]);
        let started = state.startable(0);
        assert_eq!(ids(&started), ["a-0"], "b is gone");
        assert_eq!(started[0].hook.url, "http://example.org");
        assert_eq!(state.phase(&id("b-1")), None);
    }

    #[test]
    fn stopping_gives_back_the_queued_leases_and_starts_nothing() {
        let mut state = state(Limits {
            per_hook: 1,
            ..limits()
        });
        state.push((0..3).map(|n| delivery("a", n)).collect());
        assert_eq!(ids(&state.startable(0)), ["a-0"]);
        let given_back = state.stop();
        let mut given_back: Vec<&str> = given_back.iter().map(|(id, _)| id.as_str()).collect();
        given_back.sort();
        assert_eq!(given_back, ["a-1", "a-2"]);
        state.attempted(&id("a-0"), None, 0);
        assert!(state.startable(0).is_empty());
        assert!(!state.reserve(&HookId::from("a"), 1));
        assert!(!state.takes_fresh());
        assert_eq!(state.push(vec![delivery("a", 9)]).len(), 1);
        // An attempt cut off by the end of the grace period: its lease too.
        let mut other = self::state(limits());
        other.push(vec![delivery("b", 0)]);
        other.startable(0);
        assert_eq!(
            other.abandoned(&id("b-0")).map(|(id, _)| id),
            Some("b-0".into())
        );
        assert_eq!(other.sending(), 0);
    }
}
