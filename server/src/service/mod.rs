//! The service layer: every rule about users, sessions, API keys and hooks,
//! over the store. The REST API and the console (through `domain::ports::Console`)
//! both call it, so a check fixed here is fixed for both.

mod alerts;
mod api_keys;
mod auth;
mod event_body;
mod event_types;
mod events;
mod hooks;
mod known_keys;
mod logs;
mod overview;
pub mod password_checks;
mod retention;
mod search;
pub mod secrets;
mod sources;
mod throttle;
mod users;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use api_keys::issue_api_key;
use domain::AppError;
pub use event_body::{EventBody, MAX_EVENT_DEPTH};
pub use users::add_user;

use crate::clock::{now_ms, Clock};
use crate::dispatcher::{DeliverySettings, Dispatcher};
use crate::metrics::Metrics;
use crate::store::Store;

/// How long a console session lasts.
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

pub struct Service {
    store: Store,
    /// The one-time first-run token, while no user exists.
    setup_token: Mutex<Option<String>>,
    login_throttle: throttle::LoginThrottle,
    /// Bounds the argon2 checks of sign-in, setup and new users.
    password_checks: password_checks::PasswordChecks,
    known_keys: known_keys::KnownKeys,
    dispatcher: Arc<Dispatcher>,
    metrics: Arc<Metrics>,
    /// How long the log is kept unless the console says otherwise.
    retention_default: Duration,
    /// How often the alert watch looks for incidents.
    alert_check_interval: Duration,
}

/// How long the delivery log is kept unless `--retention` or the console
/// says otherwise: 14 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

/// How often the alert watch looks unless `--alert-check-interval` says
/// otherwise: an alert comes at most this long after its cause.
pub const DEFAULT_ALERT_CHECK_INTERVAL: Duration = Duration::from_secs(10);

impl Service {
    pub fn new(store: Store, settings: DeliverySettings) -> Self {
        let metrics = Arc::new(Metrics::new());
        Self {
            store,
            setup_token: Mutex::new(None),
            login_throttle: throttle::LoginThrottle::default(),
            password_checks: password_checks::PasswordChecks::new(
                password_checks::PasswordChecks::default_slots(),
            ),
            known_keys: known_keys::KnownKeys::default(),
            dispatcher: Dispatcher::new(settings, metrics.clone(), Clock::system()),
            metrics,
            retention_default: DEFAULT_RETENTION,
            alert_check_interval: DEFAULT_ALERT_CHECK_INTERVAL,
        }
    }

    /// Looks for incidents every `interval` (default 10 s).
    pub fn with_alert_check_interval(mut self, interval: Duration) -> Self {
        self.alert_check_interval = interval;
        self
    }

    pub fn alert_check_interval(&self) -> Duration {
        self.alert_check_interval
    }

    /// Keeps the log for `retention` unless the console saves another window.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention_default = retention;
        self
    }

    /// Runs at most `slots` password checks at once (default: two per core).
    pub fn with_password_checks(mut self, slots: usize) -> Self {
        self.password_checks = password_checks::PasswordChecks::new(slots);
        self
    }

    /// The dispatcher this service hands new deliveries to; `main` runs it.
    pub fn dispatcher(&self) -> Arc<Dispatcher> {
        self.dispatcher.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// How the service stands, for `/health`.
    pub async fn health(&self) -> Health {
        let database = self.store.ping().await;
        let oldest = if database {
            self.store.oldest_pending_at().await.ok().flatten()
        } else {
            None
        };
        Health {
            database,
            dispatcher: self.dispatcher.is_running(),
            oldest_pending_age_ms: oldest.map(|at| (now_ms() - at).max(0)),
        }
    }
}

impl Service {
    /// `/metrics`: this instance's counters and the shared queue's figures.
    pub async fn metrics_text(&self) -> Result<String, AppError> {
        let pending = self.store.count_pending().await?;
        let oldest = self.store.oldest_pending_at().await?;
        let hooks = self.store.hooks_waiting_since(i64::MAX).await?;
        let now = now_ms();
        self.metrics
            .set_queue(pending, oldest.map(|at| (now - at).max(0)));
        self.metrics.set_hooks_waiting(
            hooks
                .iter()
                .map(|hook| (&hook.id, (now - hook.oldest_waiting_at).max(0))),
        );
        Ok(self.metrics.render())
    }
}

/// What `/health` reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// The database answers.
    pub database: bool,
    /// The dispatcher's claim loop runs.
    pub dispatcher: bool,
    /// How long the oldest undelivered delivery has waited, if one waits.
    pub oldest_pending_age_ms: Option<i64>,
}

impl Health {
    pub fn ok(&self) -> bool {
        self.database && self.dispatcher
    }
}
