//! All database access. Callers see `Store` and plain types; nothing outside
//! this module writes SQL.
//!
//! Two databases sit behind one `Store`: SQLite for a single node and
//! PostgreSQL for several instances sharing one database. Most statements are
//! the same text on both (`$1` placeholders, `TRUE`/`FALSE`, `CAST`), written
//! once and run through [`on_backend!`], which expands them for each driver.
//! Where the databases differ (claiming work, reading JSON arrays) the two
//! statements sit side by side.

mod api_keys;
mod attempts;
mod deliveries;
mod dispatchers;
mod error;
mod event_types;
mod events;
mod group_commit;
mod hooks;
mod incidents;
mod intake;
mod json_text;
mod lag;
mod leased;
mod notify;
mod overview;
mod retention;
mod search;
mod sessions;
mod settings;
mod sources;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub use api_keys::ApiKeyRow;
pub use deliveries::{Claim, HookRoom, Resend, Settlement, Skip};
pub use dispatchers::RosterEntry;
pub use error::{StoreError, StoreResult};
pub use events::{IdempotencyKey, Ingestion, NewEvent};
pub use hooks::{HealthChange, HookRow, HookTarget};
pub use incidents::{ExhaustedDelivery, IncidentRow, NewIncident, TroubledHook};
pub use intake::{Intake, LeaseTerms, Reservation};
pub use json_text::JsonText;
pub use lag::WaitingHook;
pub use leased::{EventToSend, LeasedDelivery};
pub use notify::AttemptNotices;
pub use overview::{WorkState, ATTENTION_CAP};
pub use retention::Purged;
pub use sources::SourceRow;
pub use users::UserRow;

/// One value per database driver: a pool, a transaction …
pub enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

type Pool = Backend<SqlitePool, PgPool>;
type Tx<'c> = Backend<Transaction<'c, Sqlite>, Transaction<'c, Postgres>>;
/// A connection taken from a pool and held.
type Conn = Backend<PoolConnection<Sqlite>, PoolConnection<Postgres>>;

/// Evaluates `$body` with `$conn` bound to the driver-specific value inside
/// `$backend` (a `&Pool`, or a `&mut Tx`): the body is compiled once per
/// driver, so one statement text serves both databases.
macro_rules! on_backend {
    ($backend:expr, $conn:ident => $body:expr) => {
        match $backend {
            $crate::store::Backend::Sqlite($conn) => $body,
            $crate::store::Backend::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_backend;

#[derive(Clone)]
pub struct Store {
    /// For reads.
    pool: Pool,
    /// For writes. On SQLite, one connection: writers queue for it in
    /// order, where several connections would contend for SQLite's single
    /// write lock and back off in sleeps. On PostgreSQL, the same pool.
    writer: Pool,
    /// Events and settled attempts waiting to be committed together (see
    /// `group_commit`).
    writing: Arc<group_commit::Inboxes>,
    /// Where ingestion hands fresh deliveries (see `intake`).
    intake: intake::SharedIntake,
}

impl Clone for Pool {
    fn clone(&self) -> Self {
        match self {
            Backend::Sqlite(pool) => Backend::Sqlite(pool.clone()),
            Backend::Postgres(pool) => Backend::Postgres(pool.clone()),
        }
    }
}

impl Tx<'_> {
    async fn commit(self) -> StoreResult<()> {
        Ok(on_backend!(self, tx => tx.commit().await)?)
    }
}

/// Which database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn of_url(url: &str) -> Option<DatabaseKind> {
        if url.starts_with("sqlite:") {
            Some(DatabaseKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(DatabaseKind::Postgres)
        } else {
            None
        }
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://…`, created if missing, or
    /// `postgres://…`) and applies migrations. On PostgreSQL the migrator
    /// holds an advisory lock, so instances starting together take turns.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let pool = match DatabaseKind::of_url(url) {
            Some(DatabaseKind::Sqlite) => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Statement journals (multi-row writes in a transaction)
                    // stay in memory rather than spilling to temporary files.
                    .pragma("temp_store", "memory")
                    .busy_timeout(Duration::from_secs(5));
                let writer = pool_options(1).connect_with(options.clone()).await?;
                sqlx::migrate!("../migrations/sqlite").run(&writer).await?;
                // Readers cannot write, so a write sent to the wrong pool
                // fails in tests rather than contending in production.
                let readers = pool_options(8)
                    .connect_with(options.clone().read_only(true))
                    .await?;
                return Ok(Store::new(
                    Backend::Sqlite(readers),
                    Backend::Sqlite(writer),
                ));
            }
            Some(DatabaseKind::Postgres) => {
                // A stuck session must not hold locks (the claim lock above
                // all) for ever: its transaction is ended after a minute idle,
                // and nobody waits more than 10 s for a lock. JIT compiling
                // costs hundreds of milliseconds and never pays off for
                // these short statements.
                let options = PgConnectOptions::from_str(url)?.options([
                    ("lock_timeout", "10s"),
                    ("idle_in_transaction_session_timeout", "60s"),
                    ("jit", "off"),
                ]);
                let pool = pool_options(16)
                    .acquire_timeout(PG_ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                sqlx::migrate!("../migrations/postgres").run(&pool).await?;
                Backend::Postgres(pool)
            }
            None => {
                return Err(StoreError::from(sqlx::Error::Configuration(
                    format!("unsupported database URL {url:?}: use sqlite://… or postgres://…")
                        .into(),
                )))
            }
        };
        Ok(Store::new(pool.clone(), pool))
    }

    fn new(readers: Pool, writer: Pool) -> Store {
        let intake = intake::SharedIntake::default();
        Store {
            writing: Arc::new(group_commit::spawn(
                writer.clone(),
                intake.clone(),
                format!("{:016x}", rand::random::<u64>()),
            )),
            intake,
            pool: readers,
            writer,
        }
    }

    /// From now on, ingestion leases fresh deliveries to `intake` and hands
    /// them over (see `intake`); `None` stops that.
    pub fn hand_fresh_deliveries_to(&self, intake: Option<Arc<dyn Intake>>) {
        *self.intake.write().unwrap_or_else(|e| e.into_inner()) = intake;
    }

    /// A write transaction.
    async fn begin(&self) -> StoreResult<Tx<'static>> {
        begin(&self.writer).await
    }

    /// The value of a SQLite `PRAGMA`, for checking the connection's settings;
    /// `None` on PostgreSQL.
    pub async fn pragma(&self, name: &str) -> StoreResult<Option<String>> {
        let Backend::Sqlite(pool) = &self.pool else {
            return Ok(None);
        };
        let value: sqlx::sqlite::SqliteRow = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(pool)
            .await?;
        use sqlx::{Row, ValueRef};
        let raw = value.try_get_raw(0)?;
        if raw.is_null() {
            return Ok(Some(String::new()));
        }
        let text = value
            .try_get::<String, _>(0)
            .or_else(|_| value.try_get::<i64, _>(0).map(|n| n.to_string()))?;
        Ok(Some(text))
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        on_backend!(&self.pool, pool => sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }
}

/// A pool of at most `max` connections. sqlx pings a connection when it goes
/// back to the pool, and by default again before handing out an idle one:
/// that second ping, a round trip to SQLite's worker thread or to PostgreSQL
/// per statement, is left out. A connection that broke while idle fails its
/// next statement instead, which every caller handles as a database error.
/// How long a statement waits for a PostgreSQL connection, connecting
/// included. While the server cannot be reached (a restart) sqlx keeps
/// retrying refused connections until then, so this is how long a request
/// takes to be answered 503 rather than hang.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

fn pool_options<DB: sqlx::Database>(max: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(max)
        .test_before_acquire(false)
}

/// Takes a connection from `pool` to hold.
async fn acquire(pool: &Pool) -> StoreResult<Conn> {
    Ok(match pool {
        Backend::Sqlite(pool) => Backend::Sqlite(pool.acquire().await?),
        Backend::Postgres(pool) => Backend::Postgres(pool.acquire().await?),
    })
}

/// A transaction on a held connection.
async fn begin_on(conn: &mut Conn) -> StoreResult<Tx<'_>> {
    use sqlx::Connection;
    Ok(match conn {
        Backend::Sqlite(conn) => Backend::Sqlite(conn.begin().await?),
        Backend::Postgres(conn) => Backend::Postgres(conn.begin().await?),
    })
}

async fn begin(pool: &Pool) -> StoreResult<Tx<'static>> {
    Ok(match pool {
        Backend::Sqlite(pool) => Backend::Sqlite(pool.begin().await?),
        Backend::Postgres(pool) => Backend::Postgres(pool.begin().await?),
    })
}
