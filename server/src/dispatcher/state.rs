//! What the dispatcher holds in memory, behind one lock: every delivery leased
//! to this process, each in one phase,
//!
//! - **queued**: waiting for a slot of its hook;
//! - **sending**: its attempt is under way, taking a slot;
//! - **awaiting its log**: the attempt is over and its slot free, but the
//!   recorder has not yet written the settlement (the lease still holds);
//!
//! and the room kept for fresh deliveries that ingestion is about to commit.
//!
//! Limits: a hook has at most its share of the per-hook limit sending
//! (`roster.rs`), the process at most `max_sending`; the queue holds at most
//! `max_queued` deliveries and `max_queued_bytes` of events (the rest wait in
//! the database), and takes fresh deliveries of one hook only up to
//! `max_queued_per_hook`, so that one hook cannot fill it.
//!
//! Nothing here does I/O or reads the clock: callers pass the time in.

use domain::ids::{DeliveryId, HookId};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::pace::Pace;
use super::policy::HookDefaults;
use super::shares::{Place, Shares};
use crate::store::{HookTarget, LeasedDelivery};

#[derive(Debug, Clone)]
pub struct Limits {
    /// The most attempts of one hook in flight over all instances together
    /// (a limit; this process keeps to its share of it).
    pub per_hook: usize,
    /// The most attempts in flight in this process.
    pub max_sending: usize,
    /// The most deliveries queued in this process, of all hooks, of one
    /// hook, and in bytes of their events.
    pub max_queued: usize,
    pub max_queued_per_hook: usize,
    pub max_queued_bytes: usize,
    /// An attempt starts only if its lease outlasts its request's timeout,
    /// the hook's own or the server's.
    pub hook_defaults: HookDefaults,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Queued,
    Sending,
    AwaitingLog,
}

/// A lease this process holds: a delivery id and its lease token.
pub type HeldLease = (DeliveryId, Arc<str>);

#[derive(Default)]
struct HookWork {
    queue: VecDeque<LeasedDelivery>,
    sending: usize,
    reserved: usize,
}

impl HookWork {
    fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.sending == 0 && self.reserved == 0
    }
}

pub struct State {
    limits: Limits,
    shares: Shares,
    stopping: bool,
    /// Every delivery held, by id: its phase, hook and lease token.
    held: HashMap<DeliveryId, (Phase, HookId, Arc<str>)>,
    hooks: HashMap<HookId, HookWork>,
    /// Hooks with queued deliveries, each taking its turn in order, so a hook
    /// with a long queue does not hold back the others.
    turns: VecDeque<HookId>,
    sending: usize,
    queued: usize,
    reserved: usize,
    /// Bytes of the events queued or reserved for.
    bytes: usize,
    /// The pace of each rate-limited hook this process has sent to lately.
    paces: HashMap<HookId, Pace>,
    /// The earliest time a delivery held back by its hook's rate limit may
    /// start, since the dispatcher last asked.
    paced_until: Option<i64>,
}

impl State {
    pub fn new(limits: Limits) -> State {
        State {
            limits,
            shares: Shares::none(),
            stopping: false,
            held: HashMap::new(),
            hooks: HashMap::new(),
            turns: VecDeque::new(),
            sending: 0,
            queued: 0,
            reserved: 0,
            bytes: 0,
            paces: HashMap::new(),
            paced_until: None,
        }
    }

    /// Takes `shares`. The queued deliveries of hooks it leaves without a
    /// slot are taken out: their leases are returned, to be given back for
    /// the instances that have the slots.
    pub fn set_shares(&mut self, shares: Shares) -> Vec<HeldLease> {
        self.shares = shares;
        let without_slots: Vec<HookId> = self
            .hooks
            .keys()
            .filter(|hook| self.slots(hook) == 0)
            .cloned()
            .collect();
        self.give_back_queues(without_slots)
    }

    /// Takes the queued deliveries of `hooks` out and returns their leases.
    fn give_back_queues(&mut self, hooks: Vec<HookId>) -> Vec<HeldLease> {
        let mut leases = Vec::new();
        for hook in hooks {
            for delivery in self.take_queue(&hook) {
                self.held.remove(&delivery.id);
                leases.push((delivery.id, delivery.lease_token));
            }
        }
        leases
    }

    /// True when every hook's attempts in flight fit `place`'s share.
    pub fn fits(&self, place: Place) -> bool {
        self.hooks
            .iter()
            .all(|(hook, work)| work.sending <= place.slots(hook, self.limits.per_hook))
    }

    fn slots(&self, hook_id: &HookId) -> usize {
        self.shares.slots(hook_id, self.limits.per_hook)
    }

    /// Keeps room for one fresh delivery of `hook_id` whose event is `bytes`
    /// long, if the queue has it and this process may send to the hook.
    pub fn reserve(&mut self, hook_id: &HookId, bytes: usize) -> bool {
        let work = self.hooks.get(hook_id);
        let of_hook = work.map_or(0, |w| w.queue.len() + w.reserved);
        let room = !self.stopping
            && self.queued + self.reserved < self.limits.max_queued
            && of_hook < self.limits.max_queued_per_hook
            && self.bytes + bytes <= self.limits.max_queued_bytes
            && self.slots(hook_id) > 0;
        if room {
            self.hooks.entry(hook_id.to_owned()).or_default().reserved += 1;
            self.reserved += 1;
            self.bytes += bytes;
        }
        room
    }

    /// Gives back room kept for a fresh delivery that was not stored.
    pub fn cancel(&mut self, hook_id: &HookId, bytes: usize) {
        if let Some(work) = self.hooks.get_mut(hook_id) {
            work.reserved -= 1;
            self.reserved -= 1;
            self.bytes -= bytes;
            if work.is_idle() {
                self.hooks.remove(hook_id);
            }
        }
    }

    /// Queues fresh deliveries, each in the room kept for it.
    pub fn hand_off(&mut self, fresh: Vec<LeasedDelivery>) -> Vec<HeldLease> {
        for delivery in &fresh {
            if let Some(work) = self.hooks.get_mut(&delivery.hook.id) {
                work.reserved -= 1;
                self.reserved -= 1;
                self.bytes -= delivery.event.payload.len();
            }
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
            if self.stopping || self.slots(&delivery.hook.id) == 0 {
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
                    self.replace_queued(delivery);
                } else {
                    refused.push(lease);
                }
                continue;
            }
            let hook = delivery.hook.id.clone();
            self.held.insert(
                delivery.id.clone(),
                (Phase::Queued, hook.clone(), delivery.lease_token.clone()),
            );
            self.queued += 1;
            self.bytes += delivery.event.payload.len();
            let work = self.hooks.entry(hook.clone()).or_default();
            if work.queue.is_empty() {
                self.turns.push_back(hook);
            }
            work.queue.push_back(delivery);
        }
        refused
    }

    fn replace_queued(&mut self, delivery: LeasedDelivery) {
        if let Some(work) = self.hooks.get_mut(&delivery.hook.id) {
            if let Some(queued) = work.queue.iter_mut().find(|d| d.id == delivery.id) {
                *queued = delivery;
            }
        }
    }

    /// The next delivery that may start now, then sending: the first queued
    /// one of the first hook, in turn, with a free slot. A queued delivery
    /// whose lease would run out during its attempt is dropped on the way
    /// (another dispatcher may take it once the lease has run out).
    pub fn next(&mut self, now: i64) -> Option<LeasedDelivery> {
        if self.stopping || self.sending >= self.limits.max_sending {
            return None;
        }
        for _ in 0..self.turns.len() {
            let hook = self.turns.pop_front()?;
            let slots = self.slots(&hook);
            let Some(work) = self.hooks.get_mut(&hook) else {
                continue;
            };
            if work.sending >= slots {
                self.turns.push_back(hook);
                continue;
            }
            if let Some(limit) = work.queue.front().and_then(|d| d.hook.policy.rate_limit) {
                // This process paces its share of the limit: the share it
                // has of the hook's slots.
                let share = slots as f64 / self.limits.per_hook as f64;
                let pace = self.paces.entry(hook.clone()).or_default();
                if let Err(at) = pace.take(now, limit, share) {
                    self.paced_until = Some(self.paced_until.map_or(at, |t| t.min(at)));
                    self.turns.push_back(hook);
                    continue;
                }
            }
            let mut started = None;
            while let Some(delivery) = work.queue.pop_front() {
                self.queued -= 1;
                self.bytes -= delivery.event.payload.len();
                let timeout = self
                    .limits
                    .hook_defaults
                    .request_timeout(&delivery.hook.policy);
                if delivery.lease_expires_at - now > timeout.as_millis() as i64 {
                    started = Some(delivery);
                    break;
                }
                tracing::warn!(delivery_id = %delivery.id, "lease too short to attempt; leaving it to run out");
                self.held.remove(&delivery.id);
            }
            if !work.queue.is_empty() {
                self.turns.push_back(hook.clone());
            }
            let Some(delivery) = started else {
                if work.is_idle() {
                    self.hooks.remove(&hook);
                }
                continue;
            };
            work.sending += 1;
            self.sending += 1;
            if let Some(held) = self.held.get_mut(&delivery.id) {
                held.0 = Phase::Sending;
            }
            return Some(delivery);
        }
        None
    }

    /// Every delivery that may start now (see [`State::next`]).
    pub fn startable(&mut self, now: i64) -> Vec<LeasedDelivery> {
        let hooks = &self.hooks;
        // A full bucket is as good as none: forget it.
        self.paces
            .retain(|hook, pace| hooks.contains_key(hook) || !pace.is_full(now));
        std::iter::from_fn(|| self.next(now)).collect()
    }

    /// When a delivery its hook's rate limit held back (in [`State::next`])
    /// may start, the earliest since the last call.
    pub fn take_paced_until(&mut self) -> Option<i64> {
        self.paced_until.take()
    }

    /// The attempt of `id` is over: its hook's slot is free, and it awaits
    /// its log.
    pub fn attempted(&mut self, id: &DeliveryId) {
        let Some((phase, hook, _)) = self.held.get_mut(id) else {
            return;
        };
        if *phase != Phase::Sending {
            return;
        }
        *phase = Phase::AwaitingLog;
        let hook = hook.clone();
        self.free_slot(&hook);
    }

    /// The attempt of `id` was cancelled (shutdown): its lease is to be given
    /// back.
    pub fn abandoned(&mut self, id: &DeliveryId) -> Option<HeldLease> {
        let (phase, hook, token) = self.held.remove(id)?;
        if phase == Phase::Sending {
            self.free_slot(&hook);
        }
        Some((id.to_owned(), token))
    }

    fn free_slot(&mut self, hook: &HookId) {
        self.sending -= 1;
        if let Some(work) = self.hooks.get_mut(hook) {
            work.sending -= 1;
            if work.is_idle() {
                self.hooks.remove(hook);
            }
        }
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
        self.turns.retain(|hook| hook != hook_id);
        let Some(work) = self.hooks.get_mut(hook_id) else {
            return Vec::new();
        };
        let taken: Vec<LeasedDelivery> = work.queue.drain(..).collect();
        if work.is_idle() {
            self.hooks.remove(hook_id);
        }
        for delivery in &taken {
            self.queued -= 1;
            self.bytes -= delivery.event.payload.len();
            if let Some(held) = self.held.get_mut(&delivery.id) {
                held.0 = Phase::AwaitingLog;
            }
        }
        taken
    }

    /// The hooks with queued deliveries, whose targets to look at again.
    pub fn queued_hooks(&self) -> Vec<HookId> {
        self.hooks
            .iter()
            .filter(|(_, work)| !work.queue.is_empty())
            .map(|(hook, _)| hook.clone())
            .collect()
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
                Some(target) => {
                    if let Some(work) = self.hooks.get_mut(hook) {
                        for delivery in work.queue.iter_mut() {
                            if delivery.hook != *target {
                                delivery.hook = target.clone();
                            }
                        }
                    }
                }
                // Its deliveries are deleted with it: nothing to give back.
                None => drop(self.give_back_queues(vec![hook.clone()])),
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
        for work in self.hooks.values_mut() {
            for delivery in work.queue.iter_mut() {
                if delivery.lease_expires_at > renewed_at {
                    delivery.lease_expires_at = delivery.lease_expires_at.max(until);
                }
            }
        }
    }

    /// Stops: nothing more is queued or started. Returns the leases of the
    /// deliveries that were queued, to be given back.
    pub fn stop(&mut self) -> Vec<HeldLease> {
        self.stopping = true;
        let hooks: Vec<HookId> = self.hooks.keys().cloned().collect();
        self.give_back_queues(hooks)
    }

    /// How many more deliveries a claim may queue now.
    pub fn claim_room(&self) -> usize {
        if self.stopping || self.shares.is_none() {
            return 0;
        }
        self.limits
            .max_queued
            .saturating_sub(self.queued + self.reserved)
    }

    pub fn has_shares(&self) -> bool {
        !self.shares.is_none()
    }

    pub fn max_queued_per_hook(&self) -> usize {
        self.limits.max_queued_per_hook
    }

    pub fn max_queued(&self) -> usize {
        self.limits.max_queued
    }

    pub fn sending(&self) -> usize {
        self.sending
    }

    #[cfg(test)]
    pub fn phase(&self, id: &DeliveryId) -> Option<Phase> {
        self.held.get(id).map(|(phase, _, _)| *phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventToSend;
    use domain::delivery::Trigger;
    use domain::hook::Headers;
    use domain::key_ring::{KeyRing, SigningKey};

    const LEASE_UNTIL: i64 = 60_000;

    fn limits() -> Limits {
        Limits {
            per_hook: 2,
            max_sending: 100,
            max_queued: 100,
            max_queued_per_hook: 50,
            max_queued_bytes: 1 << 20,
            hook_defaults: HookDefaults::new(
                "1s".parse().unwrap(),
                std::time::Duration::from_secs(10),
                std::time::Duration::from_secs(40),
            ),
        }
    }

    fn state(limits: Limits) -> State {
        let mut state = State::new(limits);
        let _ = state.set_shares(Shares::alone());
        state
    }

    fn target(hook: &str) -> HookTarget {
        HookTarget {
            id: hook.to_owned().into(),
            enabled: true,
            url: "http://example.com".into(),
            headers: Headers::default(),
            keys: KeyRing::new(SigningKey::new("key".into())),
            filter: None,
            policy: Default::default(),
            body_format: Default::default(),
        }
    }

    fn delivery(hook: &str, n: usize) -> LeasedDelivery {
        LeasedDelivery {
            id: format!("{hook}-{n}").into(),
            event: Arc::new(EventToSend {
                id: format!("e{n}").into(),
                name: "User.Created".into(),
                payload: "{}".into(),
                created_at: 0,
                trace_parent: None,
            }),
            hook: Arc::new(target(hook)),
            attempt_count: 0,
            trigger: Trigger::Auto,
            lease_token: "t".into(),
            lease_expires_at: LEASE_UNTIL,
        }
    }

    fn ids(deliveries: &[LeasedDelivery]) -> Vec<&str> {
        deliveries.iter().map(|d| d.id.as_str()).collect()
    }

    #[test]
    fn hooks_take_turns_within_their_limit() {
        let mut state = state(limits());
        state.push((0..4).map(|n| delivery("a", n)).collect());
        state.push((0..2).map(|n| delivery("b", n)).collect());
        let started = state.startable(0);
        assert_eq!(ids(&started), ["a-0", "b-0", "a-1", "b-1"]);
        assert_eq!(state.sending(), 4);
        assert_eq!(state.phase(&DeliveryId::from("a-0")), Some(Phase::Sending));
        assert_eq!(state.phase(&DeliveryId::from("a-2")), Some(Phase::Queued));

        // a's slot frees: its next queued delivery takes it, in order.
        state.attempted(&DeliveryId::from("a-0"));
        assert_eq!(
            state.phase(&DeliveryId::from("a-0")),
            Some(Phase::AwaitingLog)
        );
        assert_eq!(ids(&state.startable(0)), ["a-2"]);
        state.attempted(&DeliveryId::from("b-0"));
        assert!(state.startable(0).is_empty(), "b has nothing queued");
        state.logged(&["a-0".into(), "b-0".into(), "a-2".into()]);
        assert_eq!(state.phase(&DeliveryId::from("a-0")), None);
        assert_eq!(
            state.phase(&DeliveryId::from("a-2")),
            Some(Phase::Sending),
            "only a delivery awaiting its log leaves when logged"
        );
    }

    #[test]
    fn the_process_limit_holds_over_all_hooks() {
        let mut state = state(Limits {
            max_sending: 3,
            per_hook: 10,
            ..limits()
        });
        state.push((0..5).map(|n| delivery("a", n)).collect());
        assert_eq!(state.startable(0).len(), 3);
        state.attempted(&DeliveryId::from("a-0"));
        assert_eq!(ids(&state.startable(0)), ["a-3"]);
    }

    #[test]
    fn a_hook_keeps_to_this_instance_share_of_its_limit() {
        let mut state = state(Limits {
            per_hook: 3,
            ..limits()
        });
        let _ = state.set_shares(Shares::none());
        assert!(
            !state.reserve(&HookId::from("a"), 2),
            "no shares yet: no fresh work"
        );
        assert_eq!(state.claim_room(), 0);
        let refused = state.push(vec![delivery("a", 0)]);
        assert_eq!(
            refused.len(),
            1,
            "a claimed delivery it may not send is given back"
        );
        // Two instances: this one has one or two of the three slots.
        let place = Place { index: 0, of: 2 };
        let _ = state.set_shares(Shares::alone());
        state.push((0..5).map(|n| delivery("a", n)).collect());
        assert_eq!(state.startable(0).len(), 3);
        assert!(
            !state.fits(place),
            "three in flight do not fit a share of two instances"
        );
        state.attempted(&DeliveryId::from("a-0"));
        state.attempted(&DeliveryId::from("a-1"));
        assert!(state.fits(place));
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
        assert_eq!(state.phase(&DeliveryId::from("a-0")), Some(Phase::Sending));
        assert_eq!(state.phase(&DeliveryId::from("a-1")), None);
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
        assert_eq!(state.phase(&DeliveryId::from("a-0")), Some(Phase::Sending));
    }

    #[test]
    fn fresh_deliveries_fill_the_room_kept_for_them_and_the_queue_is_bounded() {
        let mut state = state(Limits {
            max_queued: 3,
            max_queued_per_hook: 2,
            ..limits()
        });
        assert!(state.reserve(&HookId::from("a"), 2));
        assert!(state.reserve(&HookId::from("a"), 2));
        assert!(
            !state.reserve(&HookId::from("a"), 2),
            "a hook's part of the queue is full"
        );
        assert!(state.reserve(&HookId::from("b"), 2));
        assert!(!state.reserve(&HookId::from("c"), 2), "the queue is full");
        assert_eq!(state.claim_room(), 0);
        state.cancel(&HookId::from("b"), 2);
        assert_eq!(state.claim_room(), 1);
        state.hand_off(vec![delivery("a", 0), delivery("a", 1)]);
        assert_eq!(state.claim_room(), 1);
        assert_eq!(ids(&state.startable(0)), ["a-0", "a-1"]);
        assert_eq!(state.claim_room(), 3);
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
    fn a_lease_too_short_for_an_attempt_is_left_to_run_out() {
        let mut state = state(limits());
        let mut short = delivery("a", 0);
        short.lease_expires_at = 5_000;
        state.push(vec![short, delivery("a", 1)]);
        assert_eq!(ids(&state.startable(0)), ["a-1"]);
        assert_eq!(state.phase(&DeliveryId::from("a-0")), None);
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
        assert_eq!(
            state.phase(&DeliveryId::from("a-1")),
            Some(Phase::AwaitingLog)
        );
        state.attempted(&DeliveryId::from("a-0"));
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
        let mut moved = target("a");
        moved.url = "http://example.org".into();
        let looked_at = state.queued_hooks();
        assert_eq!(looked_at.len(), 2);
        state.update_targets(&looked_at, vec![moved]);
        let started = state.startable(0);
        assert_eq!(ids(&started), ["a-0"], "b is gone");
        assert_eq!(started[0].hook.url, "http://example.org");
        assert_eq!(state.phase(&DeliveryId::from("b-1")), None);
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
        state.attempted(&DeliveryId::from("a-0"));
        assert!(state.startable(0).is_empty());
        assert!(!state.reserve(&HookId::from("a"), 1));
        assert_eq!(state.push(vec![delivery("a", 9)]).len(), 1);
        // An attempt cut off by the end of the grace period: its lease too.
        let mut other = self::state(limits());
        other.push(vec![delivery("b", 0)]);
        other.startable(0);
        assert_eq!(
            other.abandoned(&DeliveryId::from("b-0")).map(|(id, _)| id),
            Some("b-0".into())
        );
        assert_eq!(other.sending(), 0);
    }
}
