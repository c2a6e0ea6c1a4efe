//! Events and their ingestion: the event, one delivery per matching enabled
//! hook and the idempotency record, written in one transaction.

use app::model::delivery::EventRecord;
use sqlx::QueryBuilder;

use super::group_commit::Pending;
use super::{on_backend, Backend, Store, StoreResult, Tx};

/// An event about to be stored.
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The producer's fields as a JSON object (see the `events` table).
    pub payload: &'a str,
    pub created_at: i64,
}

/// The caller's `Idempotency-Key` and a hash of the request it came with.
pub struct IdempotencyKey<'a> {
    /// Whose key it is: two callers may use the same key.
    pub scope: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub expires_at: i64,
}

/// What ingestion did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingestion {
    /// Stored, with these delivery ids.
    Stored { deliveries: Vec<String> },
    /// The idempotency key was used before (and is still live): nothing was stored.
    Repeat {
        event_id: String,
        deliveries: i64,
        same_request: bool,
    },
}

pub(super) async fn insert_event(tx: &mut Tx, event: &NewEvent<'_>) -> StoreResult<()> {
    on_backend!(tx, tx => sqlx::query(
        "INSERT INTO events (id, name, payload, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(event.id)
    .bind(event.name)
    .bind(event.payload)
    .bind(event.created_at)
    .execute(&mut **tx)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Stores `event` and a pending delivery for every enabled hook that listens
/// to it, unless `idempotency` names a live key, within `tx`. `new_id` names
/// each delivery.
pub(super) async fn ingest_in(
    tx: &mut Tx,
    event: &NewEvent<'_>,
    idempotency: Option<&IdempotencyKey<'_>>,
    new_id: &(dyn Fn() -> String + Sync),
) -> StoreResult<Ingestion> {
    // Write first: a concurrent request with the same key waits here (for
    // SQLite's write lock, or PostgreSQL's lock on the key's row) and then
    // sees ours.
    if let Some(key) = idempotency {
        let claimed = on_backend!(tx, tx => sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, request_hash, event_id, deliveries, expires_at)
             VALUES ($1, $2, $3, $4, 0, $5)
             ON CONFLICT (scope, key) DO UPDATE SET
                 request_hash = excluded.request_hash, event_id = excluded.event_id,
                 deliveries = 0, expires_at = excluded.expires_at
             WHERE idempotency_keys.expires_at <= $6",
        )
        .bind(key.scope)
        .bind(key.key)
        .bind(key.request_hash)
        .bind(event.id)
        .bind(key.expires_at)
        .bind(event.created_at)
        .execute(&mut **tx)
        .await?
        .rows_affected())
            == 1;
        if !claimed {
            let (event_id, deliveries, request_hash): (String, i64, String) = on_backend!(tx, tx => sqlx::query_as(
                    "SELECT event_id, deliveries, request_hash FROM idempotency_keys
                     WHERE scope = $1 AND key = $2",
                )
                .bind(key.scope)
                .bind(key.key)
                .fetch_one(&mut **tx)
                .await)?;
            return Ok(Ingestion::Repeat {
                event_id,
                deliveries,
                same_request: request_hash == key.request_hash,
            });
        }
    }
    insert_event(tx, event).await?;
    let hook_ids: Vec<String> = match tx {
        Backend::Sqlite(tx) => {
            sqlx::query_scalar(
                "SELECT id FROM hooks WHERE enabled = TRUE
               AND EXISTS (SELECT 1 FROM json_each(hooks.events) WHERE value = $1)",
            )
            .bind(event.name)
            .fetch_all(&mut **tx)
            .await?
        }
        Backend::Postgres(tx) => {
            sqlx::query_scalar("SELECT id FROM hooks WHERE enabled = TRUE AND events::jsonb ? $1")
                .bind(event.name)
                .fetch_all(&mut **tx)
                .await?
        }
    };
    let deliveries: Vec<(String, String)> =
        hook_ids.into_iter().map(|hook| (new_id(), hook)).collect();
    if !deliveries.is_empty() {
        on_backend!(tx, tx => {
            let mut insert = QueryBuilder::new(
                "INSERT INTO deliveries
                     (id, event_id, hook_id, state, next_attempt_at, created_at, updated_at) ",
            );
            insert.push_values(&deliveries, |mut row, (id, hook_id)| {
                row.push_bind(id)
                    .push_bind(event.id)
                    .push_bind(hook_id)
                    .push_bind("pending")
                    .push_bind(event.created_at)
                    .push_bind(event.created_at)
                    .push_bind(event.created_at);
            });
            insert.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
    }
    if let Some(key) = idempotency {
        on_backend!(tx, tx => sqlx::query(
            "UPDATE idempotency_keys SET deliveries = $1 WHERE scope = $2 AND key = $3",
        )
        .bind(deliveries.len() as i64)
        .bind(key.scope)
        .bind(key.key)
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(Ingestion::Stored {
        deliveries: deliveries.into_iter().map(|(id, _)| id).collect(),
    })
}

impl Store {
    /// Stores `event` and a pending delivery for every enabled hook that
    /// listens to it, unless `idempotency` names a live key, atomically and
    /// durably before it returns; events arriving together share a commit.
    /// `new_id` names each delivery.
    pub async fn ingest_event(
        &self,
        event: &NewEvent<'_>,
        idempotency: Option<&IdempotencyKey<'_>>,
        new_id: impl Fn() -> String + Send + Sync + 'static,
    ) -> StoreResult<Ingestion> {
        let (pending, answer) = Pending::new(event, idempotency, Box::new(new_id));
        self.ingestion
            .send(pending)
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// An event with its deliveries (without their attempts).
    pub async fn event(&self, id: &str) -> StoreResult<Option<EventRecord>> {
        let row: Option<(String, String, String, i64)> = on_backend!(&self.pool, pool =>
            sqlx::query_as("SELECT id, name, payload, created_at FROM events WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await)?;
        let Some((id, event, payload, created_at)) = row else {
            return Ok(None);
        };
        let deliveries = self.deliveries_of_event(&id).await?;
        Ok(Some(EventRecord {
            id,
            event,
            payload: serde_json::from_str(&payload).unwrap_or_default(),
            created_at,
            deliveries,
        }))
    }
}
