//! Lag: how long hooks' deliveries wait (see `domain::lag` for what counts
//! as waiting). Both reads are bounded by indexes, whatever the size of the
//! queue and the log.

use domain::ids::HookId;
use domain::lag::FIRST_ATTEMPT_SAMPLE;

use super::{on_backend, Store, StoreResult};

/// A hook with a delivery waiting, and since when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaitingHook {
    pub id: HookId,
    pub name: String,
    pub url: String,
    pub enabled: bool,
    /// When its oldest waiting delivery was created (unix ms).
    pub oldest_waiting_at: i64,
}

/// A hook's oldest pending delivery: the first entry of its 'pending' range
/// of `deliveries_hook_state` (hook_id, state, created_at, …), one index
/// probe per hook however many deliveries wait (a `GROUP BY` over the
/// pending ones would read them all).
const OLDEST_WAITING: &str = "(SELECT MIN(d.created_at) FROM deliveries d
                               WHERE d.hook_id = h.id AND d.state = 'pending')";

impl Store {
    /// Every hook whose oldest waiting delivery was created before
    /// `before` (unix ms; `i64::MAX` for every hook with one waiting),
    /// oldest first.
    pub async fn hooks_waiting_since(&self, before: i64) -> StoreResult<Vec<WaitingHook>> {
        // Materialized, so that each hook's probe runs once (a subquery
        // would be folded in and probe again for the WHERE).
        let sql = format!(
            "WITH waiting AS MATERIALIZED (
                 SELECT h.id, h.name, h.url, h.enabled, {OLDEST_WAITING} AS oldest_waiting_at
                 FROM hooks h
             )
             SELECT id, name, url, enabled, oldest_waiting_at FROM waiting
             WHERE oldest_waiting_at < $1
             ORDER BY oldest_waiting_at, id"
        );
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(&sql)
            .bind(before)
            .fetch_all(pool)
            .await)?)
    }

    /// When the hook's oldest waiting delivery was created, if one waits.
    pub async fn oldest_waiting_at(&self, hook_id: &HookId) -> StoreResult<Option<i64>> {
        let sql = format!("SELECT {OLDEST_WAITING} FROM hooks h WHERE h.id = $1");
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(&sql)
            .bind(hook_id)
            .fetch_optional(pool)
            .await)?
        .flatten())
    }

    /// Event age at first attempt (its start minus the event's creation,
    /// in ms) of the hook's newest first attempts since `since`, at most
    /// `FIRST_ATTEMPT_SAMPLE`: read newest first from `attempts_hook_started`,
    /// so retries in between cost a few rows each, never the whole log.
    pub async fn first_attempt_lags(&self, hook_id: &HookId, since: i64) -> StoreResult<Vec<i64>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT a.started_at - e.created_at
             FROM attempts a
             JOIN deliveries d ON d.id = a.delivery_id
             JOIN events e ON e.id = d.event_id
             WHERE a.hook_id = $1 AND a.started_at >= $2 AND a.number = 1
               AND a.trigger <> 'test'
             ORDER BY a.started_at DESC
             LIMIT $3",
        )
        .bind(hook_id)
        .bind(since)
        .bind(FIRST_ATTEMPT_SAMPLE)
        .fetch_all(pool)
        .await)?)
    }
}
