//! The dispatcher: sends leased deliveries signed, decides what follows each
//! attempt, and hands the settlements to the recorder, which logs them in
//! batches.
//!
//! A fresh delivery reaches it straight from ingestion, leased to this process
//! in the transaction that stored it (`store::Intake`): no claim and no read
//! on the way. Claims (`sql/claim.*.sql`) take the rest: retries that came
//! due, resends, leases that ran out (an instance that stopped), and what the
//! in-memory queue had no room for, per hook in turn. Several instances
//! claim side by side; each keeps to its share of every hook's in-flight
//! limit (`roster.rs`), so the limit holds over all of them without a lock
//! between them.
//!
//! What this process holds is one [`State`] behind one lock (`state.rs`);
//! which delivery starts next, and how much each hook may queue, the fair
//! scheduler in it decides (`fair.rs`), so that no hook holds back another.
//! Leases are renewed once a beat while the process lives; one that dies just
//! lets its leases run out.

mod adaptive;
mod attempt;
pub mod endpoint;
mod fair;
mod pace;
pub mod policy;
mod recorder;
pub mod retry;
mod roster;
mod sender;
mod shares;
pub mod signer;
mod state;

use domain::ids::{DeliveryId, HookId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use adaptive::Answer;
pub use attempt::Target;
use domain::policy::RetrySchedule;
use endpoint::EndpointPolicy;
use fair::{ClaimRooms, Limits};
use policy::HookDefaults;
pub(crate) use roster::ALIVE_FOR;
use roster::{Roster, BEAT};
use sender::Sender;
use state::{HeldLease, State};

use crate::clock::Clock;
use crate::ids::new_id;
use crate::metrics::Metrics;
use crate::store::{
    Claim, HealthChange, Intake, LeaseTerms, LeasedDelivery, Reservation, Settlement, Store,
};

/// How the dispatcher behaves; every field has a flag (see `config.rs`).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub endpoint_policy: EndpointPolicy,
    pub retry_schedule: RetrySchedule,
    pub request_timeout: Duration,
    /// How long a claim lasts; longer than a request may take.
    pub lease: Duration,
    /// A hook that has failed without a break for this long is disabled.
    pub disable_after: Duration,
    /// At most this many attempts in flight per hook.
    pub hook_max_in_flight: u32,
    /// At most this many attempts in flight in this process, shared by the
    /// hooks in turn; beyond them, each hook with none in flight may start
    /// one (the reserve, as many as `max_queued`).
    pub max_in_flight: u32,
    /// An answer this slow, while every shared slot is taken, lowers its
    /// endpoint's concurrency (`adaptive.rs`).
    pub slow_answer: Duration,
    /// At most this many deliveries queued in this process's memory; the
    /// rest wait in the database.
    pub max_queued: u32,
    /// How long shutdown waits for attempts in flight.
    pub shutdown_grace: Duration,
    /// How long a rotated-out signing key still signs.
    pub key_rotation_overlap: Duration,
}

/// A lease lasts this much longer than a request may take, unless configured.
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

impl DeliverySettings {
    /// How long a lease lasts unless configured: long enough for the longest
    /// request, the server's or a hook's own, and [`LEASE_MARGIN`] more.
    pub fn default_lease(request_timeout: Duration) -> Duration {
        request_timeout.max(domain::policy::TIMEOUT_MAX) + LEASE_MARGIN
    }

    /// What a hook without settings of its own gets.
    pub fn hook_defaults(&self) -> HookDefaults {
        HookDefaults::new(
            self.retry_schedule.clone(),
            self.request_timeout,
            self.lease,
        )
    }
}

/// The defaults of the flags (`config.rs` shows these).
impl Default for DeliverySettings {
    fn default() -> Self {
        let request_timeout = Duration::from_secs(10);
        DeliverySettings {
            endpoint_policy: EndpointPolicy::default(),
            retry_schedule: retry::default_schedule(),
            request_timeout,
            lease: DeliverySettings::default_lease(request_timeout),
            disable_after: Duration::from_secs(24 * 3600),
            hook_max_in_flight: 10,
            max_in_flight: 256,
            slow_answer: Duration::from_secs(1),
            max_queued: 2048,
            shutdown_grace: Duration::from_secs(15),
            key_rotation_overlap: Duration::from_secs(24 * 3600),
        }
    }
}

/// A delivery whose attempt was just logged, and its hook.
#[derive(Debug, Clone)]
pub struct Logged {
    pub delivery_id: DeliveryId,
    pub hook_id: HookId,
}

/// Without any wake-up, look for due work this often: retries scheduled by
/// another instance and leases that ran out.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The most bytes of events queued in memory.
const MAX_QUEUED_BYTES: usize = 64 << 20;

/// What the dispatcher shares with the rest of the server.
pub struct Dispatcher {
    settings: DeliverySettings,
    /// What hooks without settings of their own get.
    hook_defaults: HookDefaults,
    /// When a delivery that its hook's rate limit held back may go (unix
    /// ms), if a wake-up is set for it.
    pace_wake: Mutex<Option<i64>>,
    /// The time for leases, schedules and the log.
    clock: Clock,
    sender: Sender,
    /// Whose leases this process takes.
    owner: Arc<str>,
    metrics: Arc<Metrics>,
    state: Mutex<State>,
    /// Rung when the database may hold due work for this process: a resend,
    /// deliveries stored without a lease, retries scheduled.
    look: Notify,
    /// Rung when the queue has room again.
    room: Notify,
    /// Due deliveries may wait in the database beyond what the last claim
    /// took: claim again as soon as there is room.
    backlog: AtomicBool,
    /// Something particular is due now (a resend, an ordered hook's next
    /// delivery, leases given back): the next look claims, backlog or not.
    must_claim: AtomicBool,
    /// Leases to give back at the claim loop's next turn.
    to_release: Mutex<Vec<HeldLease>>,
    /// Where finished attempts go to be logged; taken at shutdown, so that the
    /// recorder ends once the last attempt's settlement is in.
    settlements: Mutex<Option<mpsc::Sender<Settlement>>>,
    recorder_inbox: Mutex<Option<mpsc::Receiver<Settlement>>>,
    workers: TaskTracker,
    /// Cancelled at the end of the shutdown grace period: attempts still
    /// under way stop.
    cut_off: CancellationToken,
    /// The deliveries whose attempts were just logged.
    logged: broadcast::Sender<Arc<[Logged]>>,
    /// True while the claim loop runs (for `/health`).
    running: AtomicBool,
}

impl Dispatcher {
    pub fn new(settings: DeliverySettings, metrics: Arc<Metrics>, clock: Clock) -> Arc<Dispatcher> {
        let (settlements, recorder_inbox) = mpsc::channel(recorder::MAX_BATCH * 4);
        let max_queued = settings.max_queued as usize;
        let hook_defaults = settings.hook_defaults();
        let limits = Limits {
            per_hook: settings.hook_max_in_flight as usize,
            max_sending: settings.max_in_flight as usize,
            reserve: max_queued,
            max_queued,
            // Not so deep that work waits here that another instance could do.
            max_queued_per_hook: (max_queued / 4).max(1),
            max_queued_bytes: MAX_QUEUED_BYTES,
        };
        Arc::new(Dispatcher {
            metrics,
            sender: Sender::new(settings.endpoint_policy.clone(), clock.clone()),
            hook_defaults: hook_defaults.clone(),
            pace_wake: Mutex::new(None),
            clock,
            state: Mutex::new(State::new(limits, hook_defaults, settings.slow_answer)),
            settings,
            owner: new_id::<String>().into(),
            look: Notify::new(),
            room: Notify::new(),
            backlog: AtomicBool::new(false),
            must_claim: AtomicBool::new(false),
            to_release: Mutex::default(),
            settlements: Mutex::new(Some(settlements)),
            recorder_inbox: Mutex::new(Some(recorder_inbox)),
            workers: TaskTracker::new(),
            cut_off: CancellationToken::new(),
            logged: broadcast::channel(256).0,
            running: AtomicBool::new(false),
        })
    }

    pub fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    pub fn hook_defaults(&self) -> &HookDefaults {
        &self.hook_defaults
    }

    /// True while the claim loop runs and this dispatcher has its shares of
    /// the hooks' limits (a beat or two after it starts beside others).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed) && self.state.lock().unwrap().has_shares()
    }

    /// Due deliveries may be waiting in the database (a resend): look now
    /// rather than at the next poll.
    pub fn wake(&self) {
        self.must_claim.store(true, Ordering::Relaxed);
        self.look.notify_one();
    }

    /// The deliveries whose attempts were just logged, batch by batch.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<[Logged]>> {
        self.logged.subscribe()
    }

    fn announce(&self, logged: Arc<[Logged]>) {
        // Nobody may be listening; that is fine.
        let _ = self.logged.send(logged);
    }

    /// Sends one request to `target` now and returns the attempt, unlogged.
    pub async fn send_now(
        &self,
        target: &Target<'_>,
        number: i64,
        trigger: domain::delivery::Trigger,
    ) -> domain::delivery::Attempt {
        attempt::make(&self.sender, target, number, trigger).await
    }

    /// Runs until `shutdown`, then drains: attempts under way get
    /// `shutdown_grace` to finish, the rest are cancelled, the leases of those
    /// and of the deliveries still queued are given back, and every settlement is
    /// logged before this returns.
    pub async fn run(self: Arc<Self>, store: Store, shutdown: CancellationToken) {
        let notices = match store.attempt_notices().await {
            Ok(notices) => notices,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for other instances' attempts; live pages show this instance's only");
                None
            }
        };
        let announce_locally = notices.is_none();
        let relay = notices.map(|n| recorder::relay(n, self.clone(), shutdown.clone()));
        let inbox = self.recorder_inbox.lock().unwrap().take();
        let Some(inbox) = inbox else {
            tracing::error!("the dispatcher was started twice");
            return;
        };
        let recorder = recorder::spawn(store.clone(), self.clone(), inbox, announce_locally);
        // Beats go on through the drain: attempts under way keep their leases.
        let beating = CancellationToken::new();
        let beats = tokio::spawn(self.clone().beat(store.clone(), beating.clone()));
        store.hand_fresh_deliveries_to(Some(Arc::new(Handoff(self.clone()))));
        self.running.store(true, Ordering::Relaxed);
        self.claim_loop(&store, &shutdown).await;
        self.running.store(false, Ordering::Relaxed);

        store.hand_fresh_deliveries_to(None);
        let queued = self.state.lock().unwrap().stop();
        self.to_release.lock().unwrap().extend(queued);
        self.workers.close();
        if tokio::time::timeout(self.settings.shutdown_grace, self.workers.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = self.state.lock().unwrap().sending(),
                "attempts still in flight at the end of the shutdown grace period; cancelling them"
            );
            self.cut_off.cancel();
            self.workers.wait().await;
        }
        self.release(&store).await;
        beating.cancel();
        let _ = beats.await;
        // The workers are done: with this last sender gone the recorder
        // writes what is left and ends.
        self.settlements.lock().unwrap().take();
        let _ = recorder.await;
        // Deliveries handed over after the stop (their commit was under way)
        // were refused: their leases go back too.
        self.release(&store).await;
        if let Some(relay) = relay {
            let _ = relay.await;
        }
    }

    /// Claims due work whenever there is room for it and reason to look.
    async fn claim_loop(self: &Arc<Self>, store: &Store, shutdown: &CancellationToken) {
        // While a backlog waits, claims are made once they would take a
        // batch (`State::claim_worth_it`), or once a poll interval has
        // passed: slow hooks holding their shares of the queue must not keep
        // a hook with room from its due work for longer.
        let mut last_claim = tokio::time::Instant::now();
        while !shutdown.is_cancelled() {
            self.release(store).await;
            let (rooms, worth_it) = {
                let state = self.state.lock().unwrap();
                (state.claim_rooms(), state.claim_worth_it())
            };
            let backlog = self.backlog.load(Ordering::Relaxed);
            let asked = self.must_claim.swap(false, Ordering::Relaxed);
            let due = !backlog || asked || worth_it || last_claim.elapsed() >= POLL_INTERVAL;
            if let Some(rooms) = rooms.filter(|_| due) {
                last_claim = tokio::time::Instant::now();
                let claimed = self.claim(store, &rooms).await;
                // A claim takes at most so many of one hook's deliveries:
                // only an empty one says that nothing more is due.
                self.backlog.store(!claimed.is_empty(), Ordering::Relaxed);
                let mut state = self.state.lock().unwrap();
                state.claimed(&rooms, &claimed);
                let refused = state.push(claimed);
                drop(state);
                self.to_release.lock().unwrap().extend(refused);
                self.start_ready();
            }
            let wait = if self.backlog.load(Ordering::Relaxed) {
                POLL_INTERVAL
            } else {
                self.idle_wait(store).await
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.look.notified() => {}
                _ = self.room.notified(), if self.backlog.load(Ordering::Relaxed) => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Once a beat: says this dispatcher is alive and takes its shares
    /// (`roster.rs`), renews its leases, and looks again at the hooks of the
    /// queued deliveries (changed, disabled or deleted since).
    async fn beat(self: Arc<Self>, store: Store, stop: CancellationToken) {
        let mut roster = Roster::new(&self.owner, self.clock.clone());
        loop {
            let had_shares = self.state.lock().unwrap().has_shares();
            let given_back = roster.beat(&store, &self.state).await;
            self.to_release.lock().unwrap().extend(given_back);
            if !had_shares && self.state.lock().unwrap().has_shares() {
                // Deliveries stored meanwhile wait for a claim.
                self.wake();
            }
            self.renew_leases(&store).await;
            self.refresh_targets(&store).await;
            self.start_ready();
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(BEAT) => {}
            }
        }
        roster.leave(&store).await;
    }

    async fn renew_leases(&self, store: &Store) {
        let held = self.state.lock().unwrap().held_leases();
        if held.is_empty() {
            return;
        }
        let leases = named(&held);
        let now = self.clock.now_ms();
        let until = now + self.settings.lease.as_millis() as i64;
        match store.renew_leases(&leases, now, until).await {
            Ok(_) => self.state.lock().unwrap().renewed(now, until),
            Err(err) => {
                tracing::warn!(error = %err, "could not renew this dispatcher's leases");
            }
        }
    }

    async fn refresh_targets(&self, store: &Store) {
        let hooks = self.state.lock().unwrap().queued_hooks();
        if hooks.is_empty() {
            return;
        }
        match store.hook_targets(&hooks).await {
            Ok(targets) => self.state.lock().unwrap().update_targets(&hooks, targets),
            Err(err) => {
                tracing::warn!(error = %err, "could not look at the hooks of queued deliveries");
            }
        }
    }

    /// Starts an attempt for every queued delivery that may start now.
    fn start_ready(self: &Arc<Self>) {
        let Some(settlements) = self.settlements.lock().unwrap().clone() else {
            return;
        };
        let (startable, paced_until) = {
            let mut state = self.state.lock().unwrap();
            (
                state.startable(self.clock.now_ms()),
                state.take_paced_until(),
            )
        };
        for delivery in startable {
            self.workers
                .spawn(self.clone().work(delivery, settlements.clone()));
        }
        self.wake_at(paced_until);
    }

    /// Looks for startable deliveries again at `at` (unix ms), when a rate
    /// limit lets the next one go, unless an earlier look is already set.
    fn wake_at(self: &Arc<Self>, at: Option<i64>) {
        let Some(at) = at else {
            return;
        };
        {
            let mut set = self.pace_wake.lock().unwrap();
            if set.is_some_and(|earlier| earlier <= at) {
                return;
            }
            *set = Some(at);
        }
        let wait = Duration::from_millis((at - self.clock.now_ms()).max(0) as u64);
        let dispatcher = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            {
                let mut set = dispatcher.pace_wake.lock().unwrap();
                if *set == Some(at) {
                    *set = None;
                }
            }
            dispatcher.start_ready();
        });
    }

    /// Makes attempts one after another, starting with `first`, while the
    /// queue has one that may start: the attempt that ends hands its slot
    /// straight to the next.
    async fn work(self: Arc<Self>, first: LeasedDelivery, settlements: mpsc::Sender<Settlement>) {
        let mut next = Some(first);
        while let Some(delivery) = next {
            let settled = tokio::select! {
                biased;
                _ = self.cut_off.cancelled() => {
                    let lease = self.state.lock().unwrap().abandoned(&delivery.id);
                    self.to_release.lock().unwrap().extend(lease);
                    return;
                }
                settled = attempt::deliver(&self, &delivery) => settled,
            };
            // From here the recorder owns the lease: it logs the settlement and
            // clears the lease in one transaction. The hook's slot is free:
            // the request is over.
            let disables_hook = matches!(settled.health, Some(HealthChange::Disable(_)));
            let timeout = self.hook_defaults.request_timeout(&delivery.hook.policy);
            let answer = settled
                .attempt
                .as_ref()
                .map(|attempt| Answer::of(&attempt.summary, timeout));
            let mut finished = vec![settled];
            let paced_until = {
                let mut state = self.state.lock().unwrap();
                state.attempted(&delivery.id, answer, self.clock.now_ms());
                if disables_hook {
                    let queued = state.take_queue(&delivery.hook.id);
                    finished.extend(queued.iter().map(attempt::skipped));
                }
                next = state.next(self.clock.now_ms());
                state.take_paced_until()
            };
            self.wake_at(paced_until);
            for settled in finished {
                let _ = settlements.send(settled).await;
            }
        }
    }

    async fn claim(&self, store: &Store, rooms: &ClaimRooms) -> Vec<LeasedDelivery> {
        let now = self.clock.now_ms();
        let token: String = new_id();
        let claim = Claim {
            owner: &self.owner,
            token: &token,
            now,
            lease_until: now + self.settings.lease.as_millis() as i64,
            rooms: &rooms.known,
            per_hook: rooms.other,
            batch: rooms.total,
        };
        match store.claim_due(&claim).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "could not claim deliveries");
                Vec::new()
            }
        }
    }

    /// Gives back the leases this process will not use.
    async fn release(&self, store: &Store) {
        let leases = std::mem::take(&mut *self.to_release.lock().unwrap());
        if leases.is_empty() {
            return;
        }
        if let Err(err) = store.release_leases(&named(&leases)).await {
            // Not renewed any more, they run out if this keeps failing.
            tracing::error!(error = %err, "could not give back leases; trying again");
            self.to_release.lock().unwrap().extend(leases);
        }
    }

    /// How long to sleep when nothing more can be claimed now: until the next
    /// scheduled attempt, at most the poll interval.
    async fn idle_wait(&self, store: &Store) -> Duration {
        let now = self.clock.now_ms();
        match store.next_due_at(now).await {
            Ok(Some(at)) if at > now => POLL_INTERVAL.min(Duration::from_millis((at - now) as u64)),
            _ => POLL_INTERVAL,
        }
    }

    /// The recorder wrote these settlements.
    fn logged(&self, batch: &[Settlement]) {
        self.state
            .lock()
            .unwrap()
            .logged(batch.iter().map(|settled| &settled.delivery_id));
        self.room.notify_one();
        if batch.iter().any(|settled| settled.ordered) {
            // An ordered hook's next delivery may be claimed now.
            self.wake();
        }
    }
}

/// Held leases as the store names them: delivery id and token.
fn named(leases: &[HeldLease]) -> Vec<(&DeliveryId, &str)> {
    leases.iter().map(|(id, token)| (id, &**token)).collect()
}

/// Ingestion's way into the dispatcher (see `store::Intake`).
struct Handoff(Arc<Dispatcher>);

impl Intake for Handoff {
    fn lease_terms(&self) -> Option<LeaseTerms> {
        let dispatcher = &self.0;
        if !dispatcher.state.lock().unwrap().takes_fresh() {
            return None;
        }
        Some(LeaseTerms {
            owner: dispatcher.owner.clone(),
            token: new_id::<String>().into(),
            expires_at: dispatcher.clock.now_ms() + dispatcher.settings.lease.as_millis() as i64,
        })
    }

    fn reserve(&self, hook_id: &HookId, bytes: usize) -> bool {
        let dispatcher = &self.0;
        let (kept, evicted) = {
            let mut state = dispatcher.state.lock().unwrap();
            (state.reserve(hook_id, bytes), state.take_evicted())
        };
        if !evicted.is_empty() {
            // They wait in the database now, for a claim to take in turn.
            dispatcher.to_release.lock().unwrap().extend(evicted);
            dispatcher.backlog.store(true, Ordering::Relaxed);
        }
        kept
    }

    fn cancel(&self, reserved: &[Reservation]) {
        let mut state = self.0.state.lock().unwrap();
        for (hook_id, bytes) in reserved {
            state.cancel(hook_id, *bytes);
        }
    }

    fn hand_off(&self, fresh: Vec<LeasedDelivery>) {
        let refused = self.0.state.lock().unwrap().hand_off(fresh);
        if !refused.is_empty() {
            self.0.to_release.lock().unwrap().extend(refused);
            self.0.wake();
        }
        self.0.start_ready();
    }

    fn overflowed(&self) {
        self.0.backlog.store(true, Ordering::Relaxed);
        self.0.look.notify_one();
    }
}

/// Starts the dispatcher on its own task.
pub fn spawn(
    dispatcher: Arc<Dispatcher>,
    store: Store,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(dispatcher.run(store, shutdown))
}
