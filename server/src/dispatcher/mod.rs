//! The dispatcher: claims due deliveries with a lease, sends them signed,
//! decides what follows each attempt, and hands the outcomes to the recorder,
//! which logs them in batches.
//!
//! A lease is a row update any process could make, so several instances can
//! share one database; a process that dies just lets its leases run out.

mod attempt;
pub mod endpoint;
mod ready;
mod recorder;
pub mod retry;
mod roster;
mod sender;
pub mod signer;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use attempt::Target;
use endpoint::EndpointPolicy;
use ready::Ready;
use retry::RetrySchedule;
use roster::Roster;
use sender::Sender;

use crate::metrics::Metrics;
use crate::service::now_ms;
use crate::service::secrets::new_id;
use crate::store::{Claim, ClaimedDelivery, HookVerdict, Share, Store};

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
    /// At most this many attempts in flight in this process.
    pub max_in_flight: u32,
    /// How long shutdown waits for attempts in flight.
    pub shutdown_grace: Duration,
    /// How long a rotated-out signing key still signs (SPEC §3).
    pub key_rotation_overlap: Duration,
}

impl DeliverySettings {
    /// How many of a hook's deliveries a claim may queue past its in-flight
    /// limit: as many as can wait their turn and still be sent before their
    /// lease runs out, each turn taking at most a request's timeout, with a
    /// second to spare.
    fn queue_per_hook(&self) -> i64 {
        let spare = Duration::from_secs(1);
        let turns =
            self.lease.saturating_sub(spare).as_millis() / self.request_timeout.as_millis().max(1);
        (turns.max(1) as i64 - 1) * i64::from(self.hook_max_in_flight)
    }
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            endpoint_policy: EndpointPolicy::default(),
            retry_schedule: RetrySchedule::default(),
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(40),
            disable_after: Duration::from_secs(24 * 3600),
            hook_max_in_flight: 10,
            max_in_flight: 256,
            shutdown_grace: Duration::from_secs(15),
            key_rotation_overlap: Duration::from_secs(24 * 3600),
        }
    }
}

/// A delivery whose attempt was just logged, and its hook.
#[derive(Debug, Clone)]
pub struct Logged {
    pub delivery_id: String,
    pub hook_id: String,
}

/// Where finished attempts go to be logged.
type OutcomeSender = mpsc::Sender<crate::store::Outcome>;

/// Without any wake-up, look for due work this often: retries scheduled by
/// another instance and leases that ran out.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What the dispatcher shares with the rest of the server.
pub struct Dispatcher {
    settings: DeliverySettings,
    sender: Sender,
    /// Rung when new deliveries are stored or attempts are logged.
    wake: Notify,
    /// The deliveries whose attempts were just logged.
    logged: broadcast::Sender<Arc<[Logged]>>,
    /// True while the claim loop runs (for `/health`).
    running: AtomicBool,
    /// Whose leases this process's claims take (see `Store::claim_due`).
    owner: String,
    metrics: Arc<Metrics>,
}

impl Dispatcher {
    pub fn new(settings: DeliverySettings, metrics: Arc<Metrics>) -> Arc<Dispatcher> {
        Arc::new(Dispatcher {
            metrics,
            sender: Sender::new(settings.endpoint_policy.clone(), settings.request_timeout),
            settings,
            wake: Notify::new(),
            logged: broadcast::channel(256).0,
            running: AtomicBool::new(false),
            owner: new_id(),
        })
    }

    pub fn settings(&self) -> &DeliverySettings {
        &self.settings
    }

    /// True while the claim loop runs.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// New deliveries are waiting: look now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
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
        trigger: app::model::delivery::Trigger,
    ) -> app::model::delivery::Attempt {
        attempt::make(&self.sender, target, number, trigger).await
    }

    /// Runs the claim loop until `shutdown`, then drains: attempts in flight
    /// get `shutdown_grace` to finish, the rest are cancelled, the leases of
    /// those and of the deliveries still queued are released, and every
    /// outcome is logged before this returns.
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
        let finished = Finished::default();
        let (outcomes, recorder) = recorder::spawn(
            store.clone(),
            self.clone(),
            finished.clone(),
            announce_locally,
        );
        let work = Work {
            outcomes,
            held: Held::default(),
            finished,
            ready: Arc::new(Mutex::new(Ready::new(
                self.settings.hook_max_in_flight as usize,
                self.settings.max_in_flight as usize,
            ))),
            stopping: shutdown.clone(),
        };
        // Enough leases to keep every slot busy while the next claim runs.
        let capacity = 2 * self.settings.max_in_flight as usize;
        let mut workers = JoinSet::new();
        let mut roster = Roster::new(&self.owner);
        self.running.store(true, Ordering::Relaxed);
        while !shutdown.is_cancelled() {
            while workers.try_join_next().is_some() {}
            let room = capacity.saturating_sub(work.held.len());
            let share = roster.share(&store).await;
            let claimed = self.claim(&store, room, &work.finished.list(), share).await;
            let full_batch = room > 0 && claimed.len() == room;
            let claimed_some = !claimed.is_empty();
            work.held.add(&claimed);
            let startable = {
                let mut ready = work.ready.lock().unwrap();
                ready.push(claimed);
                ready.startable()
            };
            for delivery in startable {
                workers.spawn(self.clone().work(delivery, work.clone()));
            }
            if full_batch {
                continue;
            }
            // Deliveries just claimed wake this loop when their attempts
            // end; only an empty claim needs to know when the next is due.
            let wait = if claimed_some {
                POLL_INTERVAL
            } else {
                self.idle_wait(&store).await
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.running.store(false, Ordering::Relaxed);
        let drain = async { while workers.join_next().await.is_some() {} };
        if tokio::time::timeout(self.settings.shutdown_grace, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                left = work.ready.lock().unwrap().running(),
                "attempts still in flight at the end of the shutdown grace period; cancelling them"
            );
            // Cancelled before their leases are released, so no other worker
            // can start the same delivery while one of these is still sending.
            workers.abort_all();
            while workers.join_next().await.is_some() {}
        }
        let leftover = work.held.take();
        if let Err(err) = store.release_leases(&leftover).await {
            tracing::error!(error = %err, "could not release leases; they will run out");
        }
        roster.leave(&store).await;
        drop(work);
        let _ = recorder.await;
        if let Some(relay) = relay {
            let _ = relay.await;
        }
    }

    /// Makes attempts one after another, starting with `first`, while the
    /// ready queue has one that may start; the attempt that ends hands its
    /// slot straight to the next.
    async fn work(self: Arc<Self>, first: ClaimedDelivery, work: Work) {
        let mut next = Some(first);
        while let Some(delivery) = next {
            let mut logged = Vec::new();
            if self.lease_lasts(&delivery) {
                logged.push(attempt::deliver(&self, &delivery).await);
            } else {
                // Queued too long: the lease could run out mid-request and
                // another worker take the delivery. It is left to run out.
                tracing::warn!(delivery_id = %delivery.id, "lease too short to attempt; leaving it to run out");
                work.held.remove(&delivery.id);
            }
            // From here the recorder owns the lease of an attempted delivery:
            // it logs the outcome and clears the lease in one transaction.
            // Till then the hook's slot is free: the request is over.
            let disables_hook = logged
                .first()
                .is_some_and(|o| matches!(o.verdict, Some(HookVerdict::Disable(_))));
            {
                let mut ready = work.ready.lock().unwrap();
                ready.done(&delivery.hook_id);
                if disables_hook {
                    let queued = ready.remove_hook(&delivery.hook_id);
                    logged.extend(queued.iter().map(attempt::skipped));
                }
            }
            let attempted = !logged.is_empty();
            for outcome in logged {
                work.finished.add(&outcome.delivery_id);
                work.held.remove(&outcome.delivery_id);
                let _ = work.outcomes.send(outcome).await;
            }
            next = work.next();
            if attempted {
                self.wake();
            }
        }
    }

    /// True when the delivery's lease outlasts a request started now.
    fn lease_lasts(&self, delivery: &ClaimedDelivery) -> bool {
        let left = delivery.lease_expires_at - now_ms();
        left > self.settings.request_timeout.as_millis() as i64
    }

    async fn claim(
        &self,
        store: &Store,
        room: usize,
        finished: &[String],
        share: Share,
    ) -> Vec<ClaimedDelivery> {
        if room == 0 {
            return Vec::new();
        }
        let now = now_ms();
        let claim = Claim {
            owner: &self.owner,
            token: &new_id(),
            now,
            lease_until: now + self.settings.lease.as_millis() as i64,
            batch: room as i64,
            per_hook: i64::from(self.settings.hook_max_in_flight),
            queue_per_hook: self.settings.queue_per_hook(),
            finished,
            share,
        };
        match store.claim_due(&claim).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = %err, "could not claim deliveries");
                Vec::new()
            }
        }
    }

    /// How long to sleep when nothing more can be claimed now: until the next
    /// scheduled attempt, at most the poll interval.
    async fn idle_wait(&self, store: &Store) -> Duration {
        let now = now_ms();
        match store.next_due_at(now).await {
            Ok(Some(at)) if at > now => POLL_INTERVAL.min(Duration::from_millis((at - now) as u64)),
            _ => POLL_INTERVAL,
        }
    }
}

/// What the claim loop shares with the workers it starts.
#[derive(Clone)]
struct Work {
    outcomes: OutcomeSender,
    held: Held,
    finished: Finished,
    ready: Arc<Mutex<Ready>>,
    /// Once cancelled, no queued delivery starts.
    stopping: CancellationToken,
}

impl Work {
    fn next(&self) -> Option<ClaimedDelivery> {
        if self.stopping.is_cancelled() {
            return None;
        }
        self.ready.lock().unwrap().next()
    }
}

/// The leases this process holds for deliveries queued or in flight, so
/// shutdown can release the ones that were not attempted.
#[derive(Clone, Default)]
struct Held(Arc<Mutex<HashMap<String, String>>>);

impl Held {
    fn add(&self, claimed: &[ClaimedDelivery]) {
        let mut held = self.0.lock().unwrap();
        for delivery in claimed {
            held.insert(delivery.id.clone(), delivery.lease_token.clone());
        }
    }

    fn remove(&self, id: &str) {
        self.0.lock().unwrap().remove(id);
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn take(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().drain().collect()
    }
}

/// Deliveries whose attempt is over but not yet logged: their leases hold
/// until the recorder clears them, but they no longer take a slot of their
/// hook's in-flight limit.
#[derive(Clone, Default)]
struct Finished(Arc<Mutex<HashSet<String>>>);

impl Finished {
    fn add(&self, id: &str) {
        self.0.lock().unwrap().insert(id.to_owned());
    }

    fn remove<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        let mut finished = self.0.lock().unwrap();
        for id in ids {
            finished.remove(id);
        }
    }

    fn list(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().cloned().collect()
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
