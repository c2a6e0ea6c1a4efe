//! The dispatcher: claims due deliveries with a lease, sends them signed,
//! decides what follows each attempt, and hands the outcomes to the recorder,
//! which logs them in batches.
//!
//! A lease is a row update any process could make, so several instances can
//! share one database; a process that dies just lets its leases run out.

mod attempt;
pub mod endpoint;
mod recorder;
pub mod retry;
mod sender;
pub mod signer;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use attempt::Target;
use endpoint::EndpointPolicy;
use retry::RetrySchedule;
use sender::Sender;

use crate::metrics::Metrics;
use crate::service::now_ms;
use crate::service::secrets::new_id;
use crate::store::{ClaimedDelivery, Store};

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
    /// get `shutdown_grace` to finish, the rest are cancelled and their leases
    /// released, and every outcome is logged before this returns.
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
        let in_flight = InFlight::default();
        let slots = Arc::new(Semaphore::new(self.settings.max_in_flight as usize));
        let mut tasks = JoinSet::new();
        self.running.store(true, Ordering::Relaxed);
        while !shutdown.is_cancelled() {
            while tasks.try_join_next().is_some() {}
            let free = slots.available_permits();
            let claimed = self.claim(&store, free, &finished.list()).await;
            let full_batch = free > 0 && claimed.len() == free;
            for delivery in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                in_flight.add(&delivery);
                let (dispatcher, outcomes, in_flight, finished) = (
                    self.clone(),
                    outcomes.clone(),
                    in_flight.clone(),
                    finished.clone(),
                );
                tasks.spawn(async move {
                    let outcome = attempt::deliver(&dispatcher, &delivery).await;
                    // From here the recorder owns the lease: it logs the
                    // outcome and clears the lease in one transaction. Till
                    // then the hook's slot is free: the request is over.
                    finished.add(&delivery.id);
                    let _ = outcomes.send(outcome).await;
                    in_flight.remove(&delivery.id);
                    drop(slot);
                    dispatcher.wake();
                });
            }
            if full_batch {
                continue;
            }
            let wait = self.idle_wait(&store).await;
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.running.store(false, Ordering::Relaxed);
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.settings.shutdown_grace, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                left = in_flight.len(),
                "attempts still in flight at the end of the shutdown grace period; cancelling them"
            );
            // Cancelled before their leases are released, so no other worker
            // can start the same delivery while one of these is still sending.
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        let leftover = in_flight.take();
        if let Err(err) = store.release_leases(&leftover).await {
            tracing::error!(error = %err, "could not release leases; they will run out");
        }
        drop(outcomes);
        let _ = recorder.await;
        if let Some(relay) = relay {
            let _ = relay.await;
        }
    }

    async fn claim(&self, store: &Store, free: usize, finished: &[String]) -> Vec<ClaimedDelivery> {
        if free == 0 {
            return Vec::new();
        }
        let now = now_ms();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        match store
            .claim_due(
                now,
                lease_until,
                &new_id(),
                free as i64,
                i64::from(self.settings.hook_max_in_flight),
                finished,
            )
            .await
        {
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

/// The leases this process holds for attempts in flight, so shutdown can
/// release the ones that did not finish.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<HashMap<String, String>>>);

impl InFlight {
    fn add(&self, delivery: &ClaimedDelivery) {
        self.0
            .lock()
            .unwrap()
            .insert(delivery.id.clone(), delivery.lease_token.clone());
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
