//! Events and their ingestion: the event, one delivery per matching enabled
//! hook and the idempotency record, written in one transaction.

use domain::ids::{DeliveryId, EventId};
use std::collections::HashMap;
use std::sync::Arc;

use domain::delivery::EventRecord;
use sqlx::QueryBuilder;

use super::hooks::{HookTarget, TARGET_COLUMNS};
use super::intake::Leasing;
use super::leased::EventToSend;
use super::{on_backend, Backend, Store, StoreResult, Tx};
use crate::ids::new_id;

/// An event about to be stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub name: String,
    /// The producer's fields as a JSON object (see the `events` table).
    pub payload: String,
    pub created_at: i64,
    /// The W3C `traceparent` of the span that stored it, when tracing is on.
    pub trace_parent: Option<String>,
}

impl NewEvent {
    /// The body as the producer posted it, `{"event": …, …fields}`: what
    /// payload filters test.
    fn body(&self) -> serde_json::Value {
        let mut body =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&self.payload)
                .unwrap_or_default();
        body.insert("event".to_owned(), self.name.clone().into());
        serde_json::Value::Object(body)
    }
}

/// The caller's `Idempotency-Key` and a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Whose key it is: two callers may use the same key.
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    pub expires_at: i64,
}

/// What ingestion did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingestion {
    /// Stored, with these delivery ids.
    Stored { deliveries: Vec<DeliveryId> },
    /// The idempotency key was used before (and is still live): nothing was stored.
    Repeat {
        event_id: EventId,
        deliveries: i64,
        same_request: bool,
    },
}

/// Rows per multi-row `INSERT`, well under SQLite's limit of bound values.
const ROWS_PER_INSERT: usize = 1000;

pub(super) async fn insert_events(tx: &mut Tx<'_>, events: &[&NewEvent]) -> StoreResult<()> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        on_backend!(&mut *tx, tx => {
            let mut insert = QueryBuilder::new("INSERT INTO events (id, name, payload, created_at, trace_parent) ");
            insert.push_values(chunk, |mut row, event| {
                row.push_bind(event.id.as_str())
                    .push_bind(event.name.as_str())
                    .push_bind(event.payload.as_str())
                    .push_bind(event.created_at)
                    .push_bind(event.trace_parent.as_deref());
            });
            insert.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// Stores `events` and a pending delivery for every enabled hook that listens
/// to each, in a few statements however many events there are; `leasing`
/// leases those the local dispatcher has room for. Returns each event's
/// delivery ids, new ones.
pub(super) async fn store_events(
    tx: &mut Tx<'_>,
    events: &[&NewEvent],
    leasing: &mut Leasing<'_>,
) -> StoreResult<Vec<Vec<DeliveryId>>> {
    insert_events(tx, events).await?;
    let mut listeners: HashMap<&str, Vec<Arc<HookTarget>>> = HashMap::new();
    for event in events {
        if !listeners.contains_key(event.name.as_str()) {
            listeners.insert(&event.name, listening_hooks(tx, &event.name).await?);
        }
    }
    let mut ids = Vec::with_capacity(events.len());
    let mut deliveries = Vec::new();
    for event in events {
        let hooks = &listeners[event.name.as_str()];
        if hooks.is_empty() {
            ids.push(Vec::new());
            continue;
        }
        let to_send = Arc::new(EventToSend {
            id: event.id.clone(),
            name: event.name.clone(),
            payload: event.payload.clone(),
            created_at: event.created_at,
            trace_parent: event.trace_parent.clone(),
        });
        let mut of_event = Vec::with_capacity(hooks.len());
        // Read only if a listener has a filter: hooks without one cost nothing.
        let mut body = None;
        for hook in hooks {
            if let Some(filter) = &hook.filter {
                if !filter.0.matches(body.get_or_insert_with(|| event.body())) {
                    continue;
                }
            }
            let id: DeliveryId = new_id();
            let lease = leasing.lease(&id, &to_send, hook).cloned();
            deliveries.push((id.clone(), *event, hook.id.as_str(), lease));
            of_event.push(id);
        }
        ids.push(of_event);
    }
    for chunk in deliveries.chunks(ROWS_PER_INSERT) {
        on_backend!(&mut *tx, tx => {
            let mut insert = QueryBuilder::new(
                "INSERT INTO deliveries
                     (id, event_id, hook_id, state, next_attempt_at, lease_token, lease_owner,
                      lease_expires_at, created_at, updated_at) ",
            );
            insert.push_values(chunk, |mut row, (id, event, hook_id, lease)| {
                row.push_bind(id.as_str())
                    .push_bind(event.id.as_str())
                    .push_bind(*hook_id)
                    .push_bind("pending")
                    .push_bind(event.created_at)
                    .push_bind(lease.as_ref().map(|l| l.token.to_string()))
                    .push_bind(lease.as_ref().map(|l| l.owner.to_string()))
                    .push_bind(lease.as_ref().map(|l| l.expires_at))
                    .push_bind(event.created_at)
                    .push_bind(event.created_at);
            });
            insert.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(ids)
}

/// The enabled hooks that listen to `event`.
async fn listening_hooks(tx: &mut Tx<'_>, event: &str) -> StoreResult<Vec<Arc<HookTarget>>> {
    let hooks: Vec<HookTarget> = match tx {
        Backend::Sqlite(tx) => {
            sqlx::query_as(&format!(
                "SELECT {TARGET_COLUMNS} FROM hooks WHERE enabled = TRUE
                 AND EXISTS (SELECT 1 FROM json_each(hooks.events) WHERE value = $1)"
            ))
            .bind(event)
            .fetch_all(&mut **tx)
            .await?
        }
        Backend::Postgres(tx) => {
            sqlx::query_as(&format!(
                "SELECT {TARGET_COLUMNS} FROM hooks WHERE enabled = TRUE AND events::jsonb ? $1"
            ))
            .bind(event)
            .fetch_all(&mut **tx)
            .await?
        }
    };
    Ok(hooks.into_iter().map(Arc::new).collect())
}

/// Stores `event` and a pending delivery for every enabled hook that listens
/// to it, unless `idempotency` names a live key, within `tx`.
pub(super) async fn ingest_in(
    tx: &mut Tx<'_>,
    event: &NewEvent,
    idempotency: Option<&IdempotencyKey>,
    leasing: &mut Leasing<'_>,
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
        .bind(&key.scope)
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(&event.id)
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
                .bind(&key.scope)
                .bind(&key.key)
                .fetch_one(&mut **tx)
                .await)?;
            return Ok(Ingestion::Repeat {
                event_id: event_id.into(),
                deliveries,
                same_request: request_hash == key.request_hash,
            });
        }
    }
    let deliveries = store_events(tx, &[event], leasing)
        .await?
        .pop()
        .unwrap_or_default();
    if let Some(key) = idempotency {
        on_backend!(tx, tx => sqlx::query(
            "UPDATE idempotency_keys SET deliveries = $1 WHERE scope = $2 AND key = $3",
        )
        .bind(deliveries.len() as i64)
        .bind(&key.scope)
        .bind(&key.key)
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()))?;
        // The event keeps its key for search after the record expires.
        on_backend!(tx, tx => sqlx::query("UPDATE events SET idempotency_key = $1 WHERE id = $2")
            .bind(&key.key)
            .bind(&event.id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
    }
    Ok(Ingestion::Stored { deliveries })
}

impl Store {
    /// An event with its deliveries (without their attempts).
    pub async fn event(&self, id: &EventId) -> StoreResult<Option<EventRecord>> {
        let row: Option<(EventId, String, String, i64)> = on_backend!(&self.pool, pool =>
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
