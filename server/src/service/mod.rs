//! The service layer: every rule about users, sessions, API keys and hooks,
//! over the store. The REST API and the console (through `app::console::Console`)
//! both call it, so a check fixed here is fixed for both.

mod api_keys;
mod auth;
mod event_types;
mod events;
mod hooks;
mod logs;
pub mod secrets;
mod throttle;
mod users;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::model::AppError;

use crate::dispatcher::{DeliverySettings, Dispatcher};
use crate::store::Store;

/// How long a console session lasts.
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

pub struct Service {
    store: Store,
    /// The one-time first-run token, while no user exists.
    setup_token: Mutex<Option<String>>,
    login_throttle: throttle::LoginThrottle,
    dispatcher: Arc<Dispatcher>,
}

impl Service {
    pub fn new(store: Store, settings: DeliverySettings) -> Self {
        Self {
            store,
            setup_token: Mutex::new(None),
            login_throttle: throttle::LoginThrottle::default(),
            dispatcher: Dispatcher::new(settings),
        }
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

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Logs a database failure and hides its details from the caller.
fn db_error(err: sqlx::Error) -> AppError {
    tracing::error!(error = %err, "database error");
    AppError::internal()
}
