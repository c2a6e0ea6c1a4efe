//! News of logged attempts for every instance. On PostgreSQL the recorder's
//! transaction NOTIFYs which deliveries it logged, and each instance LISTENs,
//! so a console tab on one instance sees attempts another made. On SQLite
//! there is one process, and the recorder tells it directly.

use domain::ids::DeliveryId;
use domain::ids::HookId;
use sqlx::postgres::PgListener;

use super::{Backend, Store, StoreResult, Tx};

const CHANNEL: &str = "hookline_attempts";

/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7000;

/// Sends, with the transaction's commit, which deliveries (and their hooks)
/// had an attempt logged: a JSON array of `[delivery id, hook id]` pairs per
/// notification. Nothing on SQLite.
pub(super) async fn notify_logged(tx: &mut Tx<'_>, logged: &[(&str, &str)]) -> StoreResult<()> {
    let Backend::Postgres(tx) = tx else {
        return Ok(());
    };
    for payload in payloads(logged) {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn payloads(logged: &[(&str, &str)]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut pairs: Vec<[&str; 2]> = Vec::new();
    let mut size = 0;
    for &(delivery_id, hook_id) in logged {
        let pair_size = delivery_id.len() + hook_id.len() + 8;
        if size + pair_size > MAX_PAYLOAD && !pairs.is_empty() {
            payloads.push(serde_json::to_string(&pairs).unwrap_or_default());
            pairs.clear();
            size = 0;
        }
        pairs.push([delivery_id, hook_id]);
        size += pair_size;
    }
    if !pairs.is_empty() {
        payloads.push(serde_json::to_string(&pairs).unwrap_or_default());
    }
    payloads
}

/// Every instance's logged attempts, as PostgreSQL announces them.
pub struct AttemptNotices(PgListener);

impl Store {
    /// Listens for logged attempts on PostgreSQL; `None` on SQLite.
    pub async fn attempt_notices(&self) -> StoreResult<Option<AttemptNotices>> {
        let Backend::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(AttemptNotices(listener)))
    }
}

impl AttemptNotices {
    /// The next batch of `(delivery id, hook id)` pairs. After a lost
    /// connection the listener reconnects; what was sent meanwhile is missed.
    pub async fn next(&mut self) -> StoreResult<Vec<(DeliveryId, HookId)>> {
        let notification = self.0.recv().await?;
        Ok(
            serde_json::from_str::<Vec<(DeliveryId, HookId)>>(notification.payload())
                .unwrap_or_default(),
        )
    }
}
