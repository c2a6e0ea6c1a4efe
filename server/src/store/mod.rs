//! All database access. Callers see `Store` and plain types; nothing outside
//! this module writes SQL, so a second database only changes what is in here.

mod api_keys;
mod attempts;
mod deliveries;
mod event_types;
mod events;
mod hooks;
mod sessions;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use api_keys::ApiKeyRow;
pub use deliveries::{ClaimedDelivery, HookVerdict, NextStep, Outcome, Resend};
pub use events::{IdempotencyKey, Ingestion, NewEvent};
pub use hooks::HookRow;
pub use users::UserRow;

pub type StoreResult<T> = Result<T, sqlx::Error>;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and applies migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    /// The value of a SQLite `PRAGMA`, for checking the connection's settings.
    pub async fn pragma(&self, name: &str) -> StoreResult<String> {
        let value: sqlx::sqlite::SqliteRow = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(&self.pool)
            .await?;
        use sqlx::{Row, ValueRef};
        let raw = value.try_get_raw(0)?;
        if raw.is_null() {
            return Ok(String::new());
        }
        value
            .try_get::<String, _>(0)
            .or_else(|_| value.try_get::<i64, _>(0).map(|n| n.to_string()))
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// True when `err` is a UNIQUE constraint violation.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
