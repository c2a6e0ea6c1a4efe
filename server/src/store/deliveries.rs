//! Deliveries: the dispatcher's queue in the database. A dispatcher holds a
//! lease on each delivery it is about to attempt (taken at ingestion, or by a
//! claim for retries that came due and leases that ran out), renews its leases
//! once a beat, and records each attempt's settlement together with the
//! delivery's next state in batches.

use domain::ids::EventId;
use domain::ids::{DeliveryId, HookId};
use std::sync::Arc;

use domain::delivery::{Attempt, Delivery, DeliveryState, Trigger};
use domain::policy::HeldDelivery;
use sqlx::QueryBuilder;

use super::attempts::{count_minutes, insert_attempts, AttemptRow};
use super::hooks::{apply_health_changes, HealthChange, HookTarget};
use super::leased::{EventToSend, LeasedDelivery};
use super::notify::notify_logged;
use super::{on_backend, Backend, Store, StoreResult, Tx};

/// Who is claiming, and how much it may take (see [`Store::claim_due`]).
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The claiming dispatcher: one per process.
    pub owner: &'a str,
    /// This claim's lease token.
    pub token: &'a str,
    pub now: i64,
    pub lease_until: i64,
    /// Limits, not counts: the claim takes at most so many deliveries of
    /// each hook named here, and `per_hook` of any other (fewer when fewer
    /// are due) ...
    pub rooms: &'a [HookRoom],
    pub per_hook: usize,
    /// ... and at most `batch` in all, the hooks taking turns.
    pub batch: usize,
}

/// How many deliveries of one hook a claim may take, and how many the
/// claiming dispatcher has of it already (queued or in flight): of the
/// hooks' next deliveries, those of hooks that have least go first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRoom {
    pub hook: HookId,
    pub room: usize,
    pub has: usize,
}

impl Claim<'_> {
    /// The rooms as the claim statements take them: a JSON object of hook
    /// id to `[room, has]`.
    fn rooms_json(&self) -> String {
        let rooms: serde_json::Map<String, serde_json::Value> = self
            .rooms
            .iter()
            .map(|known| {
                (
                    known.hook.to_string(),
                    serde_json::json!([known.room, known.has]),
                )
            })
            .collect();
        serde_json::Value::Object(rooms).to_string()
    }
}

/// What to write once a leased delivery's attempt is over: the attempt (none
/// when the hook was disabled in the meantime), the delivery's next state, and
/// what the attempt says about its hook.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub delivery_id: DeliveryId,
    pub hook_id: HookId,
    /// The lease the attempt was made under: a delivery whose lease has since
    /// passed to another dispatcher is left to that one.
    pub lease_token: Arc<str>,
    pub attempt: Option<Attempt>,
    pub state: DeliveryState,
    /// When the next attempt is due, if one is.
    pub next_attempt_at: Option<i64>,
    pub health: Option<HealthChange>,
    /// Its hook delivers in order: once this is written, the hook's next
    /// delivery may be claimed.
    pub ordered: bool,
}

/// One row of the claim (see `sql/claim.*.sql`).
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: DeliveryId,
    hook_id: HookId,
    attempt_count: i64,
    next_trigger: String,
    next_attempt_at: i64,
    lease_expires_at: i64,
    event_id: EventId,
    event_name: String,
    payload: String,
    event_created_at: i64,
    trace_parent: Option<String>,
}

const SQLITE_CLAIM: &str = include_str!("sql/claim.sqlite.sql");
const POSTGRES_CLAIM: &str = include_str!("sql/claim.postgres.sql");

/// What asking for a resend did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    Scheduled,
    NotFound,
    HookDisabled,
    /// An attempt is in flight; a resend now would race it.
    InFlight,
}

/// What asking to skip a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    Skipped,
    NotFound,
    /// Delivered or failed already: nothing to skip.
    NotPending,
    /// An attempt is in flight; its outcome decides.
    InFlight,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: DeliveryId,
    event_id: EventId,
    hook_id: HookId,
    hook_name: String,
    event: String,
    idempotency_key: Option<String>,
    state: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    trace_parent: Option<String>,
}

impl DeliveryRow {
    fn into_delivery(self, attempts: Vec<Attempt>) -> StoreResult<Delivery> {
        Ok(Delivery {
            id: self.id,
            event_id: self.event_id,
            hook_id: self.hook_id,
            hook_name: self.hook_name,
            event: self.event,
            idempotency_key: self.idempotency_key,
            state: self.state.parse()?,
            attempt_count: self.attempt_count,
            next_attempt_at: self.next_attempt_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            trace_id: self.trace_parent.as_deref().and_then(trace_id),
            attempts,
        })
    }
}

/// The trace id in a W3C `traceparent` (`version-traceid-parentid-flags`).
fn trace_id(trace_parent: &str) -> Option<String> {
    trace_parent.split('-').nth(1).map(str::to_owned)
}

/// A delivery's columns, from `DELIVERY_TABLES`.
const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.hook_id, h.name AS hook_name,
     e.name AS event, e.idempotency_key, d.state, d.attempt_count, d.next_attempt_at,
     d.created_at, d.updated_at, e.trace_parent";
const DELIVERY_TABLES: &str =
    "deliveries d JOIN events e ON e.id = d.event_id JOIN hooks h ON h.id = d.hook_id";

impl Store {
    /// Leases due deliveries for `claim`, per hook in turn (each hook's oldest
    /// first, then each one's second ...; in each turn the hooks the claimer
    /// has least of first), and returns them with their events and hooks. Several dispatchers may claim at once: none
    /// waits for another, and no delivery is leased twice.
    pub async fn claim_due(&self, claim: &Claim<'_>) -> StoreResult<Vec<LeasedDelivery>> {
        let mut rows: Vec<ClaimedRow> = on_backend!(&self.writer, pool => {
            let statement = match self.pool {
                Backend::Sqlite(_) => SQLITE_CLAIM,
                Backend::Postgres(_) => POSTGRES_CLAIM,
            };
            sqlx::query_as(statement)
                .bind(claim.now)
                .bind(claim.token)
                .bind(claim.owner)
                .bind(claim.lease_until)
                .bind(claim.per_hook as i64)
                .bind(claim.batch as i64)
                .bind(claim.rooms_json())
                .fetch_all(pool)
                .await
        })?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        rows.sort_by_key(|row| row.next_attempt_at);
        let mut hook_ids: Vec<HookId> = rows.iter().map(|row| row.hook_id.clone()).collect();
        hook_ids.sort_unstable();
        hook_ids.dedup();
        let hooks: std::collections::HashMap<HookId, Arc<HookTarget>> = self
            .hook_targets(&hook_ids)
            .await?
            .into_iter()
            .map(|hook| (hook.id.clone(), Arc::new(hook)))
            .collect();
        let token: Arc<str> = claim.token.into();
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            // The hook was deleted since: so is the delivery, by cascade.
            let Some(hook) = hooks.get(&row.hook_id) else {
                continue;
            };
            let trigger: Trigger = row.next_trigger.parse()?;
            claimed.push(LeasedDelivery {
                id: row.id,
                event: Arc::new(EventToSend {
                    id: row.event_id,
                    name: row.event_name,
                    payload: row.payload,
                    created_at: row.event_created_at,
                    trace_parent: row.trace_parent,
                }),
                hook: hook.clone(),
                attempt_count: row.attempt_count,
                trigger,
                lease_token: token.clone(),
                lease_expires_at: row.lease_expires_at,
            });
        }
        Ok(claimed)
    }

    /// Extends the leases named (delivery id and token) that are still live
    /// to `until`; returns how many. Naming them, rather than all of an
    /// owner's, lets a lease the dispatcher has let go of run out. A row
    /// another transaction holds is skipped, not waited for: that is the
    /// writer settling the delivery, which ends the lease anyway.
    pub async fn renew_leases(
        &self,
        leases: &[(&DeliveryId, &str)],
        now: i64,
        until: i64,
    ) -> StoreResult<u64> {
        let skip_locked = match self.pool {
            Backend::Sqlite(_) => "",
            Backend::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let mut renewed = 0;
        for chunk in leases.chunks(LEASES_PER_UPDATE) {
            renewed += on_backend!(&self.writer, pool => {
                let mut update = QueryBuilder::new("UPDATE deliveries SET lease_expires_at = ");
                update
                    .push_bind(until)
                    .push(" WHERE id IN (SELECT id FROM deliveries WHERE lease_expires_at > ")
                    .push_bind(now);
                push_lease_list(&mut update, chunk);
                update.push(skip_locked).push(")");
                update.build().execute(pool).await.map(|done| done.rows_affected())
            })?;
        }
        Ok(renewed)
    }

    /// When the next unleased delivery falls due, if any is scheduled.
    pub async fn next_due_at(&self, now: i64) -> StoreResult<Option<i64>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT next_attempt_at FROM deliveries
             WHERE next_attempt_at IS NOT NULL
               AND (lease_expires_at IS NULL OR lease_expires_at <= $1)
             ORDER BY next_attempt_at LIMIT 1",
        )
        .bind(now)
        .fetch_optional(pool)
        .await)?)
    }

    /// When the oldest delivery still waiting was created, if any waits.
    pub async fn oldest_pending_at(&self) -> StoreResult<Option<i64>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT MIN(created_at) FROM deliveries WHERE state = 'pending'",
        )
        .fetch_one(pool)
        .await)?)
    }

    /// How many deliveries are pending (the queue's depth).
    pub async fn count_pending(&self) -> StoreResult<i64> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
        )
        .fetch_one(pool)
        .await)?)
    }

    /// Schedules a manual attempt of a delivery now, unless an attempt of it
    /// is in flight (its lease holds).
    pub async fn schedule_resend(&self, id: &DeliveryId, now: i64) -> StoreResult<Resend> {
        let row: Option<(bool, Option<i64>)> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT h.enabled, d.lease_expires_at FROM deliveries d
             JOIN hooks h ON h.id = d.hook_id WHERE d.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        match row {
            None => return Ok(Resend::NotFound),
            Some((false, _)) => return Ok(Resend::HookDisabled),
            Some((true, Some(lease))) if lease > now => return Ok(Resend::InFlight),
            Some(_) => {}
        }
        let updated = on_backend!(&self.writer, pool => sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = $1, next_trigger = 'manual',
                 updated_at = $1
             WHERE id = $2 AND (lease_expires_at IS NULL OR lease_expires_at <= $1)",
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(if updated == 1 {
            Resend::Scheduled
        } else {
            Resend::InFlight
        })
    }

    /// Ends a pending delivery as failed without an attempt, unless an
    /// attempt of it is in flight.
    pub async fn skip_delivery(&self, id: &DeliveryId, now: i64) -> StoreResult<Skip> {
        let updated = on_backend!(&self.writer, pool => sqlx::query(
            "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, updated_at = $1
             WHERE id = $2 AND state = 'pending'
               AND (lease_expires_at IS NULL OR lease_expires_at <= $1)",
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 1 {
            return Ok(Skip::Skipped);
        }
        let state: Option<String> = on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT state FROM deliveries WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        Ok(match state.as_deref() {
            None => Skip::NotFound,
            Some("pending") => Skip::InFlight,
            Some(_) => Skip::NotPending,
        })
    }

    /// The delivery an ordered hook waits on: its oldest pending one (in the
    /// claim's order, `sql/claim.*.sql`), if that has failed before.
    pub async fn held_delivery(&self, hook_id: &HookId) -> StoreResult<Option<HeldDelivery>> {
        let head: Option<(DeliveryId, String, i64, Option<i64>)> = on_backend!(&self.pool, pool => {
            let order = match self.pool {
                Backend::Sqlite(_) => "d.created_at, d.rowid",
                Backend::Postgres(_) => "d.created_at, d.seq",
            };
            sqlx::query_as(&format!(
                "SELECT d.id, e.name, d.attempt_count, d.next_attempt_at
                 FROM deliveries d JOIN events e ON e.id = d.event_id
                 JOIN hooks h ON h.id = d.hook_id
                 WHERE d.hook_id = $1 AND d.state = 'pending' AND h.ordered
                 ORDER BY {order} LIMIT 1"
            ))
            .bind(hook_id)
            .fetch_optional(pool)
            .await
        })?;
        let Some((delivery_id, event, attempt_count, next_attempt_at)) = head else {
            return Ok(None);
        };
        if attempt_count == 0 {
            return Ok(None);
        }
        let pending: i64 = on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE hook_id = $1 AND state = 'pending'",
        )
        .bind(hook_id)
        .fetch_one(pool)
        .await)?;
        Ok(Some(HeldDelivery {
            delivery_id,
            event,
            attempt_count,
            next_attempt_at,
            waiting: pending - 1,
        }))
    }

    /// Schedules a manual attempt, now, of every failed delivery of a hook
    /// created in `[since, until)` (test sends aside); with `dry_run`, only
    /// counts them.
    pub async fn schedule_recover(
        &self,
        hook_id: &HookId,
        since: i64,
        until: i64,
        now: i64,
        dry_run: bool,
    ) -> StoreResult<i64> {
        const FAILED_IN_RANGE: &str = "hook_id = $1 AND state = 'failed' AND next_trigger != 'test'
             AND created_at >= $2 AND created_at < $3";
        if dry_run {
            return Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM deliveries WHERE {FAILED_IN_RANGE}"
            ))
            .bind(hook_id)
            .bind(since)
            .bind(until)
            .fetch_one(pool)
            .await)?);
        }
        let updated = on_backend!(&self.writer, pool => sqlx::query(&format!(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = $4,
                 next_trigger = 'manual', updated_at = $4
             WHERE {FAILED_IN_RANGE}"
        ))
        .bind(hook_id)
        .bind(since)
        .bind(until)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(updated as i64)
    }

    /// Gives back leases that were taken but will not be attempted.
    pub async fn release_leases(&self, leases: &[(&DeliveryId, &str)]) -> StoreResult<()> {
        for chunk in leases.chunks(LEASES_PER_UPDATE) {
            on_backend!(&self.writer, pool => {
                let mut release = QueryBuilder::new(
                    "UPDATE deliveries SET lease_token = NULL, lease_expires_at = NULL WHERE TRUE",
                );
                push_lease_list(&mut release, chunk);
                release.build().execute(pool).await.map(|done| done.rows_affected())
            })?;
        }
        Ok(())
    }

    pub(super) async fn deliveries_of_event(
        &self,
        event_id: &EventId,
    ) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = on_backend!(&self.pool, pool => sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_TABLES}
             WHERE d.event_id = $1 ORDER BY d.created_at, d.id"
        ))
        .bind(event_id)
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|row| row.into_delivery(Vec::new()))
            .collect()
    }

    /// A delivery with every attempt, oldest first.
    pub async fn delivery(&self, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
        let row: Option<DeliveryRow> = on_backend!(&self.pool, pool => sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_TABLES}
             WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        match row {
            Some(row) => {
                let attempts = self.attempts_of(&row.id).await?;
                Ok(Some(row.into_delivery(attempts)?))
            }
            None => Ok(None),
        }
    }
}

/// Writes `settled` within `tx`, in a few statements however many there are.
/// The per-minute counters come last: several instances' writers update the
/// same counter rows, so each holds their locks for as short a time as it can.
pub(super) async fn write_settlements(
    tx: &mut Tx<'_>,
    settled: &[&Settlement],
    now: i64,
    writer: &str,
) -> StoreResult<()> {
    let attempts: Vec<&Attempt> = settled.iter().filter_map(|s| s.attempt.as_ref()).collect();
    let rows: Vec<AttemptRow> = attempts.iter().map(|a| AttemptRow::from(*a)).collect();
    insert_attempts(tx, &rows).await?;
    settle_deliveries(tx, settled, now).await?;
    apply_health_changes(
        tx,
        settled
            .iter()
            .filter_map(|s| Some((s.hook_id.as_str(), s.health.as_ref()?))),
        now,
    )
    .await?;
    let logged: Vec<(&str, &str)> = settled
        .iter()
        .map(|s| (s.delivery_id.as_str(), s.hook_id.as_str()))
        .collect();
    notify_logged(tx, &logged).await?;
    count_minutes(tx, &attempts, writer).await
}

/// Leases named per statement, well under SQLite's limit of bound values.
const LEASES_PER_UPDATE: usize = 1000;

/// Adds ` AND id IN (…) AND lease_token IN (…)` for `leases`: a delivery
/// named whose lease is one of the tokens named. Looked up by primary key,
/// where a list of `(id, token)` pairs would scan the table; a dispatcher
/// holds each delivery under one token, so the two lists name the same leases.
fn push_lease_list<'a, DB: sqlx::Database>(
    query: &mut QueryBuilder<'a, DB>,
    leases: &[(&'a DeliveryId, &'a str)],
) where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    query.push(" AND id IN (");
    let mut ids = query.separated(", ");
    for (id, _) in leases {
        ids.push_bind(id.as_str());
    }
    query.push(") AND lease_token IN (");
    let mut tokens: Vec<&str> = leases.iter().map(|(_, token)| *token).collect();
    tokens.sort_unstable();
    tokens.dedup();
    let mut list = query.separated(", ");
    for token in tokens {
        list.push_bind(token);
    }
    query.push(")");
}

/// Rows per `UPDATE … FROM (VALUES …)`.
const SETTLED_PER_UPDATE: usize = 1000;

/// Moves each delivery to what follows its attempt and gives back its lease,
/// if the lease is still the one the attempt was made under.
async fn settle_deliveries(tx: &mut Tx<'_>, settled: &[&Settlement], now: i64) -> StoreResult<()> {
    for chunk in settled.chunks(SETTLED_PER_UPDATE) {
        on_backend!(&mut *tx, tx => {
            let mut update = QueryBuilder::new("UPDATE deliveries SET state = v.column3, next_attempt_at = v.column4,
                 next_trigger = 'retry', attempt_count = COALESCE(v.column5, attempt_count),
                 lease_token = NULL, lease_expires_at = NULL, updated_at = ");
            update.push_bind(now).push(" FROM (");
            update.push_values(chunk, |mut values, settlement| {
                values
                    .push_bind(settlement.delivery_id.as_str())
                    .push_bind(&*settlement.lease_token)
                    .push_bind(settlement.state.as_str())
                    .push_bind(settlement.next_attempt_at)
                    .push_bind(settlement.attempt.as_ref().map(|a| a.summary.number));
            });
            update.push(") AS v WHERE deliveries.id = v.column1 AND deliveries.lease_token = v.column2");
            update.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}
