//! The dispatchers at work, one per process, so that live ones can split the
//! hooks between them (see [`Share`] and `Store::claim_due`).

use super::{on_backend, Store, StoreResult};

/// Which part of the hooks a dispatcher claims: those whose place in the
/// order of hook ids, counted from 0, leaves `index` when divided by `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub index: i64,
    pub of: i64,
}

impl Share {
    /// Every hook: the share of a dispatcher that is alone.
    pub const ALL: Share = Share { index: 0, of: 1 };

    /// `owner`'s share among the live dispatchers `alive`, sorted; all of
    /// the hooks if `owner` is not among them.
    pub fn among(alive: &[String], owner: &str) -> Share {
        match alive.iter().position(|o| o == owner) {
            Some(index) => Share {
                index: index as i64,
                of: alive.len() as i64,
            },
            None => Share::ALL,
        }
    }
}

/// Rows of dispatchers not seen for this long (ms) are deleted.
const FORGET_AFTER_MS: i64 = 3_600_000;

impl Store {
    /// Records that `owner` is alive at `now`, and returns every dispatcher
    /// seen since `since`, sorted.
    pub async fn dispatcher_alive(
        &self,
        owner: &str,
        now: i64,
        since: i64,
    ) -> StoreResult<Vec<String>> {
        on_backend!(&self.writer, pool => sqlx::query(
            "INSERT INTO dispatchers (owner, seen_at) VALUES ($1, $2)
             ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(owner)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        on_backend!(&self.writer, pool => sqlx::query("DELETE FROM dispatchers WHERE seen_at < $1")
            .bind(now - FORGET_AFTER_MS)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        let mut alive: Vec<String> = on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT owner FROM dispatchers WHERE seen_at >= $1",
        )
        .bind(since)
        .fetch_all(pool)
        .await)?;
        // Sorted here, not by the database's collation: every instance must
        // see the same order.
        alive.sort();
        Ok(alive)
    }

    /// `owner` has stopped: the others take its hooks at their next look.
    pub async fn dispatcher_gone(&self, owner: &str) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query("DELETE FROM dispatchers WHERE owner = $1")
            .bind(owner)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
