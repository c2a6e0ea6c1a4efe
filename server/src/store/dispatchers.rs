//! The dispatchers at work, one per process, each with when it last said it
//! was alive and the set of dispatchers it keeps its shares of the hooks'
//! limits to (see `dispatcher/roster.rs`).

use super::{on_backend, Store, StoreResult};

/// A live dispatcher, and the set it keeps to (its `view`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RosterEntry {
    pub owner: String,
    pub view: String,
}

/// Rows of dispatchers not seen for this long (ms) are deleted.
const FORGET_AFTER_MS: i64 = 3_600_000;

impl Store {
    /// Every dispatcher seen since `since`, sorted by owner.
    pub async fn live_dispatchers(&self, since: i64) -> StoreResult<Vec<RosterEntry>> {
        let mut alive: Vec<RosterEntry> = on_backend!(&self.writer, pool => sqlx::query_as(
            "SELECT owner, view FROM dispatchers WHERE seen_at >= $1",
        )
        .bind(since)
        .fetch_all(pool)
        .await)?;
        // Sorted here, not by the database's collation: every instance must
        // see the same order.
        alive.sort_by(|a, b| a.owner.cmp(&b.owner));
        Ok(alive)
    }

    /// Records that `owner` is alive at `now`, keeps to `view` and is
    /// `sending` attempts, and forgets dispatchers long gone.
    pub async fn dispatcher_beat(
        &self,
        owner: &str,
        now: i64,
        view: &str,
        sending: usize,
    ) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query(
            "INSERT INTO dispatchers (owner, seen_at, view, sending) VALUES ($1, $2, $3, $4)
             ON CONFLICT (owner) DO UPDATE
                 SET seen_at = excluded.seen_at, view = excluded.view, sending = excluded.sending",
        )
        .bind(owner)
        .bind(now)
        .bind(view)
        .bind(sending as i64)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        on_backend!(&self.writer, pool => sqlx::query("DELETE FROM dispatchers WHERE seen_at < $1")
            .bind(now - FORGET_AFTER_MS)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// `owner` has stopped: the others take its shares at their next look.
    pub async fn dispatcher_gone(&self, owner: &str) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query("DELETE FROM dispatchers WHERE owner = $1")
            .bind(owner)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
