//! What can go wrong in the store, sorted once where sqlx's error arrives, and
//! the one conversion that turns it into the `AppError` callers answer with.

use std::sync::Arc;

use domain::{AppError, UnknownValue};

pub type StoreResult<T> = Result<T, StoreError>;

/// A failed store call. Cloneable (the sqlx error is shared) because the
/// group commit answers every caller of a failed batch with the same error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A UNIQUE constraint refused the row: what it names exists already.
    #[error("a row with the same key exists: {0}")]
    Duplicate(Arc<sqlx::Error>),
    /// The database cannot be reached for now (see [`is_unavailable`]); to be
    /// retried.
    #[error("database unavailable: {0}")]
    Unavailable(Arc<sqlx::Error>),
    /// Any other database failure: a fault on our side.
    #[error("database error: {0}")]
    Database(Arc<sqlx::Error>),
    /// A stored text this version does not know: an error, never a guess.
    #[error("in the database: {0}")]
    Unreadable(#[from] UnknownValue),
    /// The process's writer has stopped: it is shutting down.
    #[error("the database writer has stopped")]
    WriterStopped,
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if matches!(&err, sqlx::Error::Database(db) if db.is_unique_violation()) {
            Self::Duplicate(Arc::new(err))
        } else if is_unavailable(&err) {
            Self::Unavailable(Arc::new(err))
        } else {
            Self::Database(Arc::new(err))
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        sqlx::Error::from(err).into()
    }
}

/// The writer's inbox is closed: the process is shutting down.
impl<T> From<tokio::sync::mpsc::error::SendError<T>> for StoreError {
    fn from(_: tokio::sync::mpsc::error::SendError<T>) -> Self {
        Self::WriterStopped
    }
}

/// The writer dropped a caller's answer: it stopped before writing.
impl From<tokio::sync::oneshot::error::RecvError> for StoreError {
    fn from(_: tokio::sync::oneshot::error::RecvError) -> Self {
        Self::WriterStopped
    }
}

impl StoreError {
    /// Whether waiting and trying again may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::WriterStopped)
    }
}

/// The one place a store failure becomes an answer: 503 while the database
/// cannot be reached, and 500, logged, for anything else, a duplicate
/// included: callers that expect one (an email taken, a name in use) answer
/// it themselves with what exists.
impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) | StoreError::WriterStopped => {
                tracing::warn!(error = %err, "database unavailable");
                AppError::unavailable()
            }
            StoreError::Duplicate(_) | StoreError::Database(_) | StoreError::Unreadable(_) => {
                tracing::error!(error = %err, "database error");
                AppError::internal()
            }
        }
    }
}

/// True when `err` says the database cannot be reached for now rather than
/// that the statement is wrong: no connection could be had in time, the pool
/// is closed, the connection broke, or the server is shutting down, starting
/// up, out of connections or (SQLite) locked by another process. Callers
/// answer these 503, to be retried.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                postgres_unavailable(&code)
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_unavailable(&code)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// SQLSTATEs of a server that cannot serve for now: class 08 (connection
/// exception), 53300 (too many connections), 57P01-57P03 (admin shutdown,
/// crash shutdown, cannot connect now).
fn postgres_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "53300" | "57P01" | "57P02" | "57P03")
}

/// SQLite's extended result codes whose primary code is `SQLITE_BUSY` (5,
/// "database is locked") or `SQLITE_LOCKED` (6).
fn sqlite_unavailable(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{ConnectOptions, Connection};

    use super::*;
    use domain::ErrorCode;

    #[test]
    fn server_states_that_pass_are_unavailable_and_faults_are_not() {
        for code in [
            "57P01", "57P02", "57P03", "53300", "08006", "08001", "08000",
        ] {
            assert!(postgres_unavailable(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "57014", "XX000"] {
            assert!(!postgres_unavailable(code), "{code}");
        }
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED; not SQLITE_CONSTRAINT_UNIQUE, SQLITE_FULL.
        for (code, unavailable) in [
            ("5", true),
            ("517", true),
            ("6", true),
            ("2067", false),
            ("13", false),
        ] {
            assert_eq!(sqlite_unavailable(code), unavailable, "{code}");
        }
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::from(sqlx::Error::PoolClosed).is_unavailable());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unavailable());
    }

    #[test]
    fn each_kind_of_failure_becomes_its_own_answer() {
        let code = |err: StoreError| AppError::from(err).code;
        assert_eq!(
            code(sqlx::Error::PoolTimedOut.into()),
            ErrorCode::Unavailable
        );
        assert_eq!(code(StoreError::WriterStopped), ErrorCode::Unavailable);
        assert_eq!(code(sqlx::Error::RowNotFound.into()), ErrorCode::Internal);
        let unknown = "lost".parse::<domain::delivery::DeliveryState>();
        assert_eq!(code(unknown.unwrap_err().into()), ErrorCode::Internal);
    }

    /// Another process holding the write lock: "database is locked"; and a
    /// duplicate key sorted as such.
    #[tokio::test]
    async fn a_locked_sqlite_database_is_unavailable_and_a_duplicate_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("locked.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::ZERO);
        let mut holder = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut holder)
            .await
            .unwrap();
        let duplicate: StoreError = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut holder)
            .await
            .unwrap_err()
            .into();
        assert!(
            matches!(duplicate, StoreError::Duplicate(_)),
            "{duplicate:?}"
        );
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut holder)
            .await
            .unwrap();
        let mut other = options.connect().await.unwrap();
        let locked: StoreError = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut other)
            .await
            .unwrap_err()
            .into();
        assert!(locked.is_unavailable(), "{locked:?}");
        other.close().await.unwrap();
    }
}
