//! The fair scheduler: which queued delivery starts next, and how much of
//! the in-memory queue each hook may hold. No hook, however slow or broken,
//! holds back another:
//!
//! - **Slots in turn.** Hooks with queued work take turns (round-robin):
//!   when a slot frees, it goes to the next hook in turn that may start one,
//!   not to whoever asked first.
//! - **A reserve.** A hook with nothing in flight may always start one
//!   attempt, even when the `max_sending` shared slots are all taken, up to
//!   `reserve` hooks at once. So a healthy hook never waits behind slow
//!   ones for a slot.
//! - **Adaptive limits.** A hook's in-flight limit (this process's share of
//!   it, `shares.rs`) is a ceiling: each endpoint runs as many attempts at
//!   once as its answers allow (`adaptive.rs`).
//! - **Shares of the queue.** A hook may hold at most its share of the
//!   queue: `max_queued` over the hooks holding some (plus one, so there is
//!   always room for a newcomer), at most `QUEUE_PER_SLOT` per attempt it
//!   may run, at most `max_queued_per_hook`. A hook that wants in while the
//!   queue is full takes the place of the newest delivery of the hook most
//!   over its share, which goes back to the database. What does not fit
//!   waits in the database, and claims take it per hook in turn
//!   (`sql/claim.*.sql`, with [`Scheduler::claim_rooms`]).
//!
//! Nothing here does I/O or reads the clock: callers pass the time in.

use domain::ids::HookId;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::adaptive::{AdaptiveLimit, Verdict};
use super::pace::Pace;
use super::shares::{Place, Shares};
use crate::store::{HookRoom, HookTarget, LeasedDelivery};

/// Queued deliveries a hook may hold per attempt it may run: deep enough to
/// keep its slots busy between claims.
pub const QUEUE_PER_SLOT: usize = 32;

/// An adaptive limit not used for this long is forgotten (ms): the
/// endpoint starts again from its ceiling.
const FORGET_LIMIT_AFTER: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct Limits {
    /// The most attempts of one hook in flight over all instances together
    /// (this process keeps to its share of it).
    pub per_hook: usize,
    /// Attempts in flight in this process, shared by all hooks in turn.
    pub max_sending: usize,
    /// Hooks that may each run one attempt beyond `max_sending`, having
    /// none in flight.
    pub reserve: usize,
    /// The most deliveries queued in this process, of all hooks, of one
    /// hook, and in bytes of their events.
    pub max_queued: usize,
    pub max_queued_per_hook: usize,
    pub max_queued_bytes: usize,
}

#[derive(Default)]
struct HookWork {
    queue: VecDeque<LeasedDelivery>,
    sending: usize,
    /// One of its attempts runs on the reserve.
    on_reserve: bool,
    /// Room kept for fresh deliveries about to be handed over.
    reserved: usize,
}

impl HookWork {
    fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.sending == 0 && self.reserved == 0
    }

    /// What counts against its share of the queue: its queued deliveries.
    /// Room kept for fresh ones is not counted: it lasts a commit, and a
    /// commit that stores a large fan-out may take a while.
    fn holds(&self) -> usize {
        self.queue.len()
    }

    /// All it has in this process: queued, kept room for, and sending.
    fn has(&self) -> usize {
        self.queue.len() + self.reserved + self.sending
    }
}

/// An endpoint's adaptive limit, and when it was last used (unix ms).
struct Learned {
    limit: AdaptiveLimit,
    used_at: i64,
}

/// How much a claim may take: per hook this process knows, and for any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRooms {
    pub known: Vec<HookRoom>,
    pub other: usize,
    pub total: usize,
}

pub struct Scheduler {
    limits: Limits,
    shares: Shares,
    hooks: HashMap<HookId, HookWork>,
    /// Hooks with queued deliveries, in turn.
    turns: VecDeque<HookId>,
    queued: usize,
    reserved: usize,
    /// Bytes of the events queued or reserved for.
    bytes: usize,
    /// Attempts on the shared slots, and on the reserve.
    sending: usize,
    on_reserve: usize,
    learned: HashMap<HookId, Learned>,
    /// The pace of each rate-limited hook this process has sent to lately.
    paces: HashMap<HookId, Pace>,
    /// The earliest time a delivery held back by its hook's rate limit may
    /// start, since last asked.
    paced_until: Option<i64>,
    /// Queued deliveries that made room for another hook's, to go back to
    /// the database.
    evicted: Vec<LeasedDelivery>,
    /// Hooks with due work in the database, as far as this process knows:
    /// refused or evicted here, or their last claim filled their room.
    waiting_in_db: HashSet<HookId>,
}

impl Scheduler {
    pub fn new(limits: Limits) -> Scheduler {
        Scheduler {
            limits,
            shares: Shares::none(),
            hooks: HashMap::new(),
            turns: VecDeque::new(),
            queued: 0,
            reserved: 0,
            bytes: 0,
            sending: 0,
            on_reserve: 0,
            learned: HashMap::new(),
            paces: HashMap::new(),
            paced_until: None,
            evicted: Vec::new(),
            waiting_in_db: HashSet::new(),
        }
    }

    /// Takes `shares`; returns the queued deliveries of hooks it leaves
    /// without a slot.
    pub fn set_shares(&mut self, shares: Shares) -> Vec<LeasedDelivery> {
        self.shares = shares;
        let without_slots: Vec<HookId> = self
            .hooks
            .keys()
            .filter(|hook| self.ceiling(hook) == 0)
            .cloned()
            .collect();
        without_slots
            .iter()
            .flat_map(|hook| self.take_queue(hook))
            .collect()
    }

    pub fn has_shares(&self) -> bool {
        !self.shares.is_none()
    }

    /// True when every hook's attempts in flight fit `place`'s share.
    pub fn fits(&self, place: Place) -> bool {
        self.hooks
            .iter()
            .all(|(hook, work)| work.sending <= place.slots(hook, self.limits.per_hook))
    }

    /// This process's share of `hook`'s in-flight limit.
    fn ceiling(&self, hook: &HookId) -> usize {
        self.shares.slots(hook, self.limits.per_hook)
    }

    /// How many attempts of `hook` may run at once now.
    pub fn limit(&self, hook: &HookId) -> usize {
        let ceiling = self.ceiling(hook);
        self.learned
            .get(hook)
            .map_or(ceiling, |learned| learned.limit.current(ceiling))
    }

    /// The most deliveries `hook` may hold queued (see the module's doc).
    fn queue_cap(&self, hook: &HookId) -> usize {
        // The hooks in turn are those with queued work: this one counts
        // among them, or is one more.
        let queues_here = self.hooks.get(hook).is_some_and(|w| !w.queue.is_empty());
        let holding = self.turns.len() + usize::from(!queues_here);
        self.cap_within(self.limits.max_queued / (holding + 1), hook)
    }

    /// `share` of the queue, or less if `hook` may run few attempts at once.
    fn cap_within(&self, share: usize, hook: &HookId) -> usize {
        share
            .min(QUEUE_PER_SLOT * self.limit(hook))
            .min(self.limits.max_queued_per_hook)
            .max(1)
    }

    /// Keeps room for one fresh delivery of `hook` whose event is `bytes`
    /// long, if the hook is within its share of the queue and the queue has
    /// room (made, if need be, by evicting a hook over its share).
    pub fn admit(&mut self, hook: &HookId, bytes: usize) -> bool {
        if self.ceiling(hook) == 0 || self.bytes + bytes > self.limits.max_queued_bytes {
            return false;
        }
        let holds = self.hooks.get(hook).map_or(0, HookWork::holds);
        let fits = holds < self.queue_cap(hook)
            && (self.queued + self.reserved < self.limits.max_queued || self.evict_for(hook));
        if !fits {
            self.waiting_in_db.insert(hook.clone());
            return false;
        }
        self.hooks.entry(hook.clone()).or_default().reserved += 1;
        self.reserved += 1;
        self.bytes += bytes;
        true
    }

    /// Makes room for one delivery of `hook`: the newest queued delivery of
    /// the hook most over its share goes. False if no hook is over it.
    fn evict_for(&mut self, hook: &HookId) -> bool {
        // Every hook in turn has the same share: one look at each.
        let share = self.limits.max_queued / (self.turns.len() + 1);
        let over = self
            .turns
            .iter()
            .filter(|other| *other != hook)
            .filter_map(|other| {
                let holds = self.hooks.get(other)?.holds();
                let cap = self.cap_within(share, other);
                (holds > cap).then(|| (holds - cap, other.clone()))
            })
            .max_by_key(|(excess, _)| *excess);
        let Some((_, victim)) = over else {
            return false;
        };
        let Some(work) = self.hooks.get_mut(&victim) else {
            return false;
        };
        let Some(delivery) = work.queue.pop_back() else {
            return false;
        };
        if work.queue.is_empty() {
            self.turns.retain(|turn| *turn != victim);
        }
        self.queued -= 1;
        self.bytes -= delivery.event.payload.len();
        self.evicted.push(delivery);
        self.waiting_in_db.insert(victim);
        true
    }

    /// Gives back room kept for a fresh delivery that was not stored.
    pub fn cancel(&mut self, hook: &HookId, bytes: usize) {
        if let Some(work) = self.hooks.get_mut(hook) {
            work.reserved -= 1;
            self.reserved -= 1;
            self.bytes -= bytes;
            if work.is_idle() {
                self.hooks.remove(hook);
            }
        }
    }

    /// A fresh delivery arrives in the room kept for it.
    pub fn unreserve(&mut self, delivery: &LeasedDelivery) {
        if let Some(work) = self.hooks.get_mut(&delivery.hook.id) {
            work.reserved -= 1;
            self.reserved -= 1;
            self.bytes -= delivery.event.payload.len();
        }
    }

    /// Queues `delivery` after its hook's, or gives it back if this process
    /// has no slot of its hook.
    pub fn push(&mut self, delivery: LeasedDelivery) -> Result<(), LeasedDelivery> {
        let hook = delivery.hook.id.clone();
        if self.ceiling(&hook) == 0 {
            return Err(delivery);
        }
        self.queued += 1;
        self.bytes += delivery.event.payload.len();
        let work = self.hooks.entry(hook.clone()).or_default();
        if work.queue.is_empty() {
            self.turns.push_back(hook);
        }
        work.queue.push_back(delivery);
        Ok(())
    }

    /// Replaces the queued delivery of the same id (claimed again).
    pub fn replace_queued(&mut self, delivery: LeasedDelivery) {
        if let Some(work) = self.hooks.get_mut(&delivery.hook.id) {
            if let Some(queued) = work.queue.iter_mut().find(|d| d.id == delivery.id) {
                *queued = delivery;
            }
        }
    }

    /// True when every shared slot is taken.
    pub fn contended(&self) -> bool {
        self.sending >= self.limits.max_sending
    }

    /// The next delivery that may start now, counted as sending: the first
    /// queued one of the first hook, in turn, that is under its limit, has a
    /// slot (shared, or the reserve when it has nothing in flight) and its
    /// rate limit's leave. A queued delivery that `may_start` refuses (its
    /// lease would run out during the attempt) goes to `dropped` instead.
    pub fn next(
        &mut self,
        now: i64,
        may_start: impl Fn(&LeasedDelivery) -> bool,
        dropped: &mut Vec<LeasedDelivery>,
    ) -> Option<LeasedDelivery> {
        let reserve_open = self.on_reserve < self.limits.reserve;
        if self.contended() && !reserve_open {
            return None;
        }
        for _ in 0..self.turns.len() {
            let hook = self.turns.pop_front()?;
            let limit = self.limit(&hook);
            let shared_open = !self.contended();
            let Some(work) = self.hooks.get_mut(&hook) else {
                continue;
            };
            let on_reserve = !shared_open;
            if work.sending >= limit || (on_reserve && (work.sending > 0 || !reserve_open)) {
                self.turns.push_back(hook);
                continue;
            }
            if let Some(rate) = work.queue.front().and_then(|d| d.hook.policy.rate_limit) {
                // This process paces its share of the limit: the share it
                // has of the hook's slots.
                let share = self.shares.slots(&hook, self.limits.per_hook) as f64
                    / self.limits.per_hook as f64;
                let pace = self.paces.entry(hook.clone()).or_default();
                if let Err(at) = pace.take(now, rate, share) {
                    self.paced_until = Some(self.paced_until.map_or(at, |t| t.min(at)));
                    self.turns.push_back(hook);
                    continue;
                }
            }
            let mut started = None;
            while let Some(delivery) = work.queue.pop_front() {
                self.queued -= 1;
                self.bytes -= delivery.event.payload.len();
                if may_start(&delivery) {
                    started = Some(delivery);
                    break;
                }
                dropped.push(delivery);
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
            if on_reserve {
                work.on_reserve = true;
                self.on_reserve += 1;
            } else {
                self.sending += 1;
            }
            return Some(delivery);
        }
        None
    }

    /// When a delivery its hook's rate limit held back may start, the
    /// earliest since the last call.
    pub fn take_paced_until(&mut self) -> Option<i64> {
        self.paced_until.take()
    }

    /// Forgets what is as good as new: full rate buckets, and adaptive
    /// limits back at their ceiling or unused for long.
    pub fn forget_stale(&mut self, now: i64) {
        let hooks = &self.hooks;
        self.paces
            .retain(|hook, pace| hooks.contains_key(hook) || !pace.is_full(now));
        let shares = &self.shares;
        let per_hook = self.limits.per_hook;
        self.learned.retain(|hook, learned| {
            hooks.contains_key(hook)
                || (!learned.limit.at_ceiling(shares.slots(hook, per_hook))
                    && now - learned.used_at < FORGET_LIMIT_AFTER)
        });
    }

    /// An attempt of `hook` is over: its slot is free. `verdict` is what its
    /// answer says of the endpoint (none when it was cancelled), for an
    /// attempt started at `started_at`; `now` is when it ended.
    pub fn finished(&mut self, hook: &HookId, verdict: Option<(Verdict, i64)>, now: i64) {
        let ceiling = self.ceiling(hook);
        let Some(work) = self.hooks.get_mut(hook) else {
            return;
        };
        if let Some((verdict, started_at)) = verdict {
            let learned = self.learned.entry(hook.clone()).or_insert_with(|| Learned {
                limit: AdaptiveLimit::new(ceiling),
                used_at: now,
            });
            learned
                .limit
                .answered(verdict, started_at, now, work.sending, ceiling);
            learned.used_at = now;
        }
        work.sending -= 1;
        if work.on_reserve {
            work.on_reserve = false;
            self.on_reserve -= 1;
        } else {
            self.sending -= 1;
        }
        if work.is_idle() {
            self.hooks.remove(hook);
        }
    }

    /// Takes every queued delivery of `hook` out.
    pub fn take_queue(&mut self, hook: &HookId) -> Vec<LeasedDelivery> {
        self.turns.retain(|turn| turn != hook);
        let Some(work) = self.hooks.get_mut(hook) else {
            return Vec::new();
        };
        let taken: Vec<LeasedDelivery> = work.queue.drain(..).collect();
        if work.is_idle() {
            self.hooks.remove(hook);
        }
        self.queued -= taken.len();
        self.bytes -= taken
            .iter()
            .map(|delivery| delivery.event.payload.len())
            .sum::<usize>();
        taken
    }

    /// Takes every queued delivery out (stopping).
    pub fn take_all(&mut self) -> Vec<LeasedDelivery> {
        let hooks: Vec<HookId> = self.hooks.keys().cloned().collect();
        hooks
            .iter()
            .flat_map(|hook| self.take_queue(hook))
            .collect()
    }

    /// The deliveries evicted since the last call.
    pub fn take_evicted(&mut self) -> Vec<LeasedDelivery> {
        std::mem::take(&mut self.evicted)
    }

    /// The hooks with queued deliveries.
    pub fn queued_hooks(&self) -> Vec<HookId> {
        self.turns.iter().cloned().collect()
    }

    /// Queued deliveries of `hook` go to it as `target` now is.
    pub fn retarget(&mut self, target: &Arc<HookTarget>) {
        if let Some(work) = self.hooks.get_mut(&target.id) {
            for delivery in work.queue.iter_mut() {
                if delivery.hook != *target {
                    delivery.hook = target.clone();
                }
            }
        }
    }

    /// Every live lease queued at `renewed_at` now lasts until `until`.
    pub fn renewed(&mut self, renewed_at: i64, until: i64) {
        for work in self.hooks.values_mut() {
            for delivery in work.queue.iter_mut() {
                if delivery.lease_expires_at > renewed_at {
                    delivery.lease_expires_at = delivery.lease_expires_at.max(until);
                }
            }
        }
    }

    /// What a claim may take now: each hook this process holds or has
    /// learned a limit of, up to its share of the queue; any other hook up
    /// to a newcomer's share; all together, the queue's free room.
    pub fn claim_rooms(&self) -> ClaimRooms {
        let known = self
            .hooks
            .keys()
            .chain(
                self.learned
                    .keys()
                    .filter(|hook| !self.hooks.contains_key(*hook)),
            )
            .map(|hook| HookRoom {
                hook: hook.clone(),
                room: self.room(hook),
                has: self.hooks.get(hook).map_or(0, HookWork::has),
            })
            .collect();
        // A hook this process knows nothing of: one more holding, at its
        // ceiling (it may have fewer slots here; its claim is bounded anyway).
        let other = (self.limits.max_queued / (self.turns.len() + 2))
            .min(QUEUE_PER_SLOT * self.limits.per_hook)
            .min(self.limits.max_queued_per_hook)
            .max(1);
        ClaimRooms {
            known,
            other,
            total: self.free_room(),
        }
    }

    /// How many more deliveries `hook` may queue within its share.
    fn room(&self, hook: &HookId) -> usize {
        let holds = self.hooks.get(hook).map_or(0, HookWork::holds);
        self.queue_cap(hook).saturating_sub(holds)
    }

    /// True when a claim would take a batch worth a statement: a hook with
    /// work waiting in the database has half its share of the queue free.
    /// (Claims on every settled batch would each take a few, and cost the
    /// database as much as a large one.)
    pub fn claim_worth_it(&self) -> bool {
        self.waiting_in_db
            .iter()
            .any(|hook| self.room(hook) * 2 >= self.queue_cap(hook))
    }

    /// What a claim made with `rooms` brought: a hook it took as many of as
    /// it had room for may have more waiting; one it took fewer of has none.
    pub fn claimed(&mut self, rooms: &ClaimRooms, claimed: &[LeasedDelivery]) {
        let mut counts: HashMap<&HookId, usize> = HashMap::new();
        for delivery in claimed {
            *counts.entry(&delivery.hook.id).or_default() += 1;
        }
        let room_of = |hook: &HookId| {
            rooms
                .known
                .iter()
                .find(|known| known.hook == *hook)
                .map_or(rooms.other, |known| known.room)
        };
        self.waiting_in_db.retain(|hook| {
            let room = room_of(hook);
            room == 0 || counts.get(hook).is_some_and(|count| *count >= room)
        });
        for (hook, count) in counts {
            if count >= room_of(hook) {
                self.waiting_in_db.insert(hook.clone());
            }
        }
    }

    /// How many more deliveries the queue holds.
    pub fn free_room(&self) -> usize {
        self.limits
            .max_queued
            .saturating_sub(self.queued + self.reserved)
    }

    /// Attempts in flight, on shared slots and on the reserve.
    pub fn sending(&self) -> usize {
        self.sending + self.on_reserve
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::EventToSend;
    use domain::delivery::Trigger;
    use domain::hook::Headers;
    use domain::key_ring::{KeyRing, SigningKey};

    pub fn limits() -> Limits {
        Limits {
            per_hook: 2,
            max_sending: 100,
            reserve: 100,
            max_queued: 100,
            max_queued_per_hook: 50,
            max_queued_bytes: 1 << 20,
        }
    }

    fn scheduler(limits: Limits) -> Scheduler {
        let mut scheduler = Scheduler::new(limits);
        let _ = scheduler.set_shares(Shares::alone());
        scheduler
    }

    pub fn delivery(hook: &str, n: usize) -> LeasedDelivery {
        LeasedDelivery {
            id: format!("{hook}-{n}").into(),
            event: Arc::new(EventToSend {
                id: format!("e{n}").into(),
                name: "User.Created".into(),
                payload: "{}".into(),
                created_at: 0,
                trace_parent: None,
            }),
            hook: Arc::new(HookTarget {
                id: hook.to_owned().into(),
                enabled: true,
                url: "http://example.com".into(),
                headers: Headers::default(),
                keys: KeyRing::new(SigningKey::new("key".into())),
                filter: None,
                policy: Default::default(),
                body_format: Default::default(),
            }),
            attempt_count: 0,
            trigger: Trigger::Auto,
            lease_token: "t".into(),
            lease_expires_at: 60_000,
        }
    }

    fn push(scheduler: &mut Scheduler, hook: &str, count: usize) {
        for n in 0..count {
            scheduler.push(delivery(hook, n)).unwrap();
        }
    }

    /// Starts everything that may start now; the ids in the order started.
    fn start(scheduler: &mut Scheduler) -> Vec<String> {
        let mut dropped = Vec::new();
        std::iter::from_fn(|| scheduler.next(0, |_| true, &mut dropped))
            .map(|d| d.id.to_string())
            .collect()
    }

    fn hook(id: &str) -> HookId {
        HookId::from(id)
    }

    #[test]
    fn a_freed_slot_goes_to_the_next_hook_in_turn() {
        let mut scheduler = scheduler(Limits {
            max_sending: 2,
            reserve: 0,
            per_hook: 10,
            ..limits()
        });
        push(&mut scheduler, "a", 5);
        push(&mut scheduler, "b", 5);
        push(&mut scheduler, "c", 5);
        assert_eq!(start(&mut scheduler), ["a-0", "b-0"]);
        // a's attempt ends first, but the slot goes to c, whose turn it is.
        scheduler.finished(&hook("a"), None, 0);
        assert_eq!(start(&mut scheduler), ["c-0"]);
        scheduler.finished(&hook("b"), None, 0);
        assert_eq!(start(&mut scheduler), ["a-1"]);
    }

    #[test]
    fn a_hook_with_nothing_in_flight_starts_on_the_reserve() {
        let mut scheduler = scheduler(Limits {
            max_sending: 2,
            reserve: 2,
            per_hook: 10,
            ..limits()
        });
        push(&mut scheduler, "slow", 10);
        assert_eq!(start(&mut scheduler), ["slow-0", "slow-1"]);
        assert!(scheduler.contended());
        // Every shared slot is the slow hook's: the healthy one still starts.
        push(&mut scheduler, "healthy", 2);
        assert_eq!(start(&mut scheduler), ["healthy-0"]);
        assert_eq!(scheduler.sending(), 3);
        // One at a time on the reserve.
        assert!(start(&mut scheduler).is_empty());
        scheduler.finished(&hook("healthy"), None, 0);
        assert_eq!(start(&mut scheduler), ["healthy-1"]);
        // The reserve is bounded: two hooks at most.
        push(&mut scheduler, "third", 1);
        assert_eq!(start(&mut scheduler), ["third-0"]);
        push(&mut scheduler, "fourth", 1);
        assert!(start(&mut scheduler).is_empty(), "the reserve is full");
        // The shared slot that frees goes in turn: the slow hook's came
        // first; the waiting hook starts when the reserve has room.
        scheduler.finished(&hook("slow"), None, 0);
        assert_eq!(start(&mut scheduler), ["slow-2"]);
        scheduler.finished(&hook("third"), None, 0);
        assert_eq!(start(&mut scheduler), ["fourth-0"]);
    }

    #[test]
    fn the_reserve_goes_back_to_its_pool() {
        let mut scheduler = scheduler(Limits {
            max_sending: 1,
            reserve: 1,
            per_hook: 10,
            ..limits()
        });
        push(&mut scheduler, "a", 1);
        push(&mut scheduler, "b", 1);
        assert_eq!(start(&mut scheduler), ["a-0", "b-0"]);
        scheduler.finished(&hook("b"), None, 0);
        push(&mut scheduler, "c", 1);
        assert_eq!(start(&mut scheduler), ["c-0"], "the reserve is free again");
        assert_eq!(scheduler.sending(), 2);
    }

    #[test]
    fn trouble_lowers_a_hook_limit_and_good_answers_raise_it() {
        let mut scheduler = scheduler(Limits {
            per_hook: 4,
            ..limits()
        });
        push(&mut scheduler, "a", 40);
        assert_eq!(start(&mut scheduler).len(), 4);
        for _ in 0..4 {
            scheduler.finished(&hook("a"), Some((Verdict::Trouble, 0)), 10);
        }
        assert_eq!(scheduler.limit(&hook("a")), 2);
        assert_eq!(start(&mut scheduler).len(), 2);
        for _ in 0..2 {
            scheduler.finished(&hook("a"), Some((Verdict::Trouble, 10)), 20);
        }
        assert_eq!(scheduler.limit(&hook("a")), 1);
        assert_eq!(start(&mut scheduler).len(), 1);
        let mut answers = 0;
        while scheduler.limit(&hook("a")) < 4 {
            scheduler.finished(&hook("a"), Some((Verdict::Good, 30)), 40);
            start(&mut scheduler);
            answers += 1;
            assert!(answers < 20);
        }
        assert_eq!(answers, 1 + 2 + 3);
    }

    /// Admits and hands over one fresh delivery of `hook` at a time, as
    /// ingestion would; how many it took of `count`.
    fn admit(scheduler: &mut Scheduler, hook_id: &str, count: usize) -> usize {
        (0..count)
            .take_while(|n| {
                let admitted = scheduler.admit(&hook(hook_id), 2);
                if admitted {
                    scheduler.unreserve(&delivery(hook_id, *n));
                    scheduler.push(delivery(hook_id, *n)).unwrap();
                }
                admitted
            })
            .count()
    }

    #[test]
    fn a_hook_queues_only_its_share_and_a_newcomer_always_finds_room() {
        let mut scheduler = scheduler(Limits {
            max_queued: 12,
            max_queued_per_hook: 50,
            per_hook: 1,
            ..limits()
        });
        // Alone, a hook may hold half the queue (room for one more hook).
        assert_eq!(admit(&mut scheduler, "a", 20), 6);
        assert_eq!(
            admit(&mut scheduler, "b", 20),
            4,
            "a third with two holding"
        );
        assert!(scheduler.take_evicted().is_empty());
        // The queue is full (6 + 4 of 12, and 2 more kept for c) ...
        assert!(scheduler.admit(&hook("c"), 2));
        assert!(scheduler.admit(&hook("c"), 2));
        // ... so c's next takes the place of the newest of a, the hook most
        // over its share (4 of 12 now that two hooks hold some, and c).
        assert!(scheduler.admit(&hook("c"), 2));
        let evicted: Vec<String> = scheduler
            .take_evicted()
            .iter()
            .map(|d| d.id.to_string())
            .collect();
        assert_eq!(evicted, ["a-5"]);
        assert_eq!(scheduler.free_room(), 0);
    }

    #[test]
    fn claims_are_worth_it_for_a_hook_with_work_in_the_database_and_room() {
        let mut scheduler = scheduler(Limits {
            max_queued: 12,
            per_hook: 1,
            ..limits()
        });
        assert!(!scheduler.claim_worth_it(), "nothing waits in the database");
        assert_eq!(admit(&mut scheduler, "a", 7), 6, "the seventh waits there");
        assert!(!scheduler.claim_worth_it(), "a has no room");
        let mut dropped = Vec::new();
        for _ in 0..2 {
            scheduler.next(0, |_| true, &mut dropped);
            scheduler.finished(&hook("a"), None, 0);
        }
        assert!(!scheduler.claim_worth_it(), "two of six free: not yet");
        scheduler.next(0, |_| true, &mut dropped);
        assert!(scheduler.claim_worth_it(), "half of a's share is free");
        // A claim that fills a's room says more may wait; one that takes
        // less says nothing does.
        let rooms = scheduler.claim_rooms();
        let a_room = rooms.known.iter().find(|k| k.hook == hook("a")).unwrap();
        assert_eq!((a_room.room, a_room.has), (3, 4));
        let full: Vec<LeasedDelivery> = (10..13).map(|n| delivery("a", n)).collect();
        scheduler.claimed(&rooms, &full);
        assert!(scheduler.claim_worth_it());
        scheduler.claimed(&rooms, &full[..1]);
        assert!(!scheduler.claim_worth_it());
    }

    #[test]
    fn a_slow_hook_queues_less() {
        let mut scheduler = scheduler(Limits {
            max_queued: 10_000,
            max_queued_per_hook: 1_000,
            per_hook: 10,
            ..limits()
        });
        assert_eq!(scheduler.queue_cap(&hook("a")), 10 * QUEUE_PER_SLOT);
        push(&mut scheduler, "a", 1);
        start(&mut scheduler);
        scheduler.finished(&hook("a"), Some((Verdict::Trouble, 0)), 1);
        assert_eq!(scheduler.queue_cap(&hook("a")), 5 * QUEUE_PER_SLOT);
        let rooms = scheduler.claim_rooms();
        let room = HookRoom {
            hook: hook("a"),
            room: 5 * QUEUE_PER_SLOT,
            has: 0,
        };
        assert_eq!(rooms.known, [room]);
        assert_eq!(rooms.other, 10 * QUEUE_PER_SLOT);
        assert_eq!(rooms.total, 10_000);
    }

    #[test]
    fn claim_rooms_leave_out_what_a_hook_holds() {
        let mut scheduler = scheduler(Limits {
            max_queued: 30,
            per_hook: 1,
            ..limits()
        });
        push(&mut scheduler, "a", 4);
        let rooms = scheduler.claim_rooms();
        // a holds 4 of its 15 (30 over a and one more); others 30 / 3.
        let room = HookRoom {
            hook: hook("a"),
            room: 11,
            has: 4,
        };
        assert_eq!(rooms.known, [room]);
        assert_eq!(rooms.other, 10);
        assert_eq!(rooms.total, 26);
    }

    #[test]
    fn a_hook_without_a_slot_here_is_refused() {
        let mut scheduler = Scheduler::new(limits());
        assert!(!scheduler.admit(&hook("a"), 1));
        assert!(scheduler.push(delivery("a", 0)).is_err());
        let _ = scheduler.set_shares(Shares::alone());
        push(&mut scheduler, "a", 3);
        assert_eq!(start(&mut scheduler).len(), 2);
        let taken = scheduler.set_shares(Shares::none());
        assert_eq!(taken.len(), 1, "the queued one, not those sending");
    }

    #[test]
    fn a_delivery_refused_on_the_way_is_dropped() {
        let mut scheduler = scheduler(limits());
        push(&mut scheduler, "a", 2);
        let mut dropped = Vec::new();
        let started = scheduler.next(0, |d| d.id.as_str() != "a-0", &mut dropped);
        assert_eq!(started.map(|d| d.id.to_string()).as_deref(), Some("a-1"));
        assert_eq!(dropped.len(), 1);
        assert_eq!(scheduler.free_room(), 100);
    }

    #[test]
    fn stale_limits_are_forgotten() {
        let mut scheduler = scheduler(limits());
        push(&mut scheduler, "a", 1);
        start(&mut scheduler);
        scheduler.finished(&hook("a"), Some((Verdict::Trouble, 0)), 0);
        scheduler.forget_stale(1_000);
        assert_eq!(scheduler.limit(&hook("a")), 1, "remembered while recent");
        scheduler.forget_stale(FORGET_LIMIT_AFTER + 1);
        assert_eq!(scheduler.limit(&hook("a")), 2, "forgotten");
    }
}
