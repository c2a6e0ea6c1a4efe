//! The service layer: every rule about users, sessions, API keys and hooks,
//! over the store. The REST API and the console (through `app::console::Console`)
//! both call it, so a check fixed here is fixed for both.

mod api_keys;
mod auth;
mod hooks;
pub mod secrets;
mod throttle;
mod users;

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::model::AppError;

use crate::store::Store;

/// How long a console session lasts.
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a rotated-out signing key stays valid (SPEC §3).
const KEY_ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

pub struct Service {
    store: Store,
    /// The one-time first-run token, while no user exists.
    setup_token: Mutex<Option<String>>,
    login_throttle: throttle::LoginThrottle,
}

impl Service {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            setup_token: Mutex::new(None),
            login_throttle: throttle::LoginThrottle::default(),
        }
    }

    /// True when the database answers.
    pub async fn database_answers(&self) -> bool {
        self.store.ping().await
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
