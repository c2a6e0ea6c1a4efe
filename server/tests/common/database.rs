//! A fresh database for each test, on SQLite or on PostgreSQL.
//!
//! Tests listed in `on_both_databases!` run twice: once on a SQLite file in a
//! temporary folder, once in a new schema of the PostgreSQL server named by
//! `HOOKLINE_TEST_POSTGRES_URL` (so tests run in parallel without meeting).
//! Without that variable the PostgreSQL half says it is skipped and passes;
//! `scripts/test.sh` sets it whenever a server answers, and CI always does.

use std::future::Future;

use sqlx::Connection;

const POSTGRES_URL_VAR: &str = "HOOKLINE_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    static BACKEND: Backend;
}

/// Runs `test` with `backend` as the database that `TestDatabase::fresh`
/// (and so `spawn_app`) creates; PostgreSQL tests pass without running when
/// no server is configured.
pub async fn run_on(backend: Backend, test: impl Future<Output = ()>) {
    if backend == Backend::Postgres && std::env::var(POSTGRES_URL_VAR).is_err() {
        eprintln!("skipped: set {POSTGRES_URL_VAR} to run the PostgreSQL half");
        return;
    }
    BACKEND.scope(backend, test).await
}

/// The backend of the running test (SQLite outside `run_on`).
pub fn current_backend() -> Backend {
    BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
}

/// A database for one test. SQLite's goes with its folder when this is
/// dropped; PostgreSQL schemas are dropped by a later run (see
/// `drop_stale_schemas`), since a test's server may still hold locks in
/// them when the test ends.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _folder: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// An empty database on the running test's backend.
    pub async fn fresh() -> TestDatabase {
        match current_backend() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDatabase {
                    url: format!("sqlite://{}", dir.path().join("hookline.db").display()),
                    backend: Backend::Sqlite,
                    _folder: Some(dir),
                }
            }
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_URL_VAR).expect(POSTGRES_URL_VAR);
                let mut conn = sqlx::PgConnection::connect(&server)
                    .await
                    .unwrap_or_else(|err| panic!("PostgreSQL at {server}: {err}"));
                drop_stale_schemas(&mut conn).await;
                let name = format!("{SCHEMA_PREFIX}{}_{}", unix_secs(), random_letters());
                sqlx::query(&format!("CREATE SCHEMA {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create schema");
                let separator = if server.contains('?') { '&' } else { '?' };
                TestDatabase {
                    url: format!("{server}{separator}options[search_path]={name}"),
                    backend: Backend::Postgres,
                    _folder: None,
                }
            }
        }
    }
}

impl TestDatabase {
    /// The text `sql` selects (one row, one column), read straight from the
    /// database: for what no API shows.
    pub async fn scalar(&self, sql: &str) -> Option<String> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
            }
        }
    }

    /// Runs `sql` straight on the database (for what no API may do, such
    /// as making rows older than a test can wait); returns the rows changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .unwrap()
                    .rows_affected()
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .unwrap()
                    .rows_affected()
            }
        }
    }
}

const SCHEMA_PREFIX: &str = "hookline_test_";

/// Test schemas older than this belong to runs that have ended.
const STALE_AFTER_SECS: u64 = 30 * 60;

/// Drops the schemas earlier test runs left, without waiting on any lock.
async fn drop_stale_schemas(conn: &mut sqlx::PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(SCHEMA_PREFIX)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    let now = unix_secs();
    for name in names {
        let created = name[SCHEMA_PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|created| created + STALE_AFTER_SECS < now) {
            let _ = sqlx::query("SET lock_timeout = '1s'")
                .execute(&mut *conn)
                .await;
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&mut *conn)
                .await;
        }
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn random_letters() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect()
}

/// Turns the listed `async fn`s into tests on both databases: `sqlite::name`
/// and `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    $crate::common::database::run_on(
                        $crate::common::database::Backend::Sqlite,
                        super::$test(),
                    )
                    .await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    $crate::common::database::run_on(
                        $crate::common::database::Backend::Postgres,
                        super::$test(),
                    )
                    .await
                }
            )+
        }
    };
}
