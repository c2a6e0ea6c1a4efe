//! Retention: forgetting the log past its window, a batch at a time.

use super::{on_backend, Store, StoreResult};

/// What one retention batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
}

impl Store {
    /// Deletes up to `batch` events created before `cutoff` (unix ms) whose
    /// deliveries have all finished, with their deliveries and attempts, in
    /// one short transaction. An event still being retried is kept until it
    /// finishes, so no delivery loses its log mid-way.
    pub async fn purge_events_before(&self, cutoff: i64, batch: i64) -> StoreResult<Purged> {
        let events = on_backend!(&self.writer, pool => sqlx::query(
            "DELETE FROM events WHERE id IN (
                 SELECT e.id FROM events e
                 WHERE e.created_at < $1
                   AND NOT EXISTS (SELECT 1 FROM deliveries d
                                   WHERE d.event_id = e.id AND d.state = 'pending')
                 ORDER BY e.created_at LIMIT $2)",
        )
        .bind(cutoff)
        .bind(batch)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(Purged { events })
    }

    /// Deletes per-minute figures, incidents resolved before `cutoff` and
    /// idempotency records past their use.
    pub async fn purge_counters(&self, cutoff: i64, now: i64) -> StoreResult<()> {
        on_backend!(&self.writer, pool => {
            for table in ["attempt_minutes", "attempt_totals"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE minute < $1"))
                    .bind(cutoff)
                    .execute(pool)
                    .await?;
            }
            sqlx::query("DELETE FROM incidents WHERE resolved_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(())
    }
}
