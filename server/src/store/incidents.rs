//! Incidents (a hook failing, disabled, or letting deliveries run out of
//! retries) and what the alert watch reads to find them. An incident opens
//! or resolves in the same transaction as the alert event that tells of it,
//! and the `incidents_open` index admits one open incident per hook and
//! kind: however many instances watch, each alert is stored once.

use domain::alert::{Incident, IncidentFilter, IncidentKind};
use domain::ids::{DeliveryId, EventId, HookId, IncidentId};
use domain::AppError;
use sqlx::QueryBuilder;

use super::events::{store_events, NewEvent};
use super::intake::Leasing;
use super::{on_backend, Store, StoreResult};

/// An incident with its hook's name and state, as the watch and the
/// console read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: IncidentId,
    pub hook_id: HookId,
    pub hook_name: String,
    pub kind: String,
    pub reason: String,
    pub delivery_id: Option<DeliveryId>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub hook_url: String,
    /// The hook's state now: what decides whether the incident is over.
    pub hook_enabled: bool,
    /// Whether an attempt to the hook succeeded since the incident opened.
    pub answered_since: bool,
}

impl IncidentRow {
    pub fn kind(&self) -> Option<IncidentKind> {
        IncidentKind::parse(&self.kind)
    }

    pub fn into_incident(self) -> Result<Incident, AppError> {
        let kind = self.kind().ok_or_else(|| {
            tracing::error!(incident = %self.id, kind = %self.kind, "an incident of an unknown kind");
            AppError::internal()
        })?;
        Ok(Incident {
            id: self.id,
            hook_id: self.hook_id,
            hook_name: self.hook_name,
            kind,
            reason: self.reason,
            delivery_id: self.delivery_id,
            opened_at: self.opened_at,
            resolved_at: self.resolved_at,
        })
    }
}

const INCIDENT_COLUMNS: &str = "i.id, i.hook_id, h.name AS hook_name, i.kind, i.reason,
     i.delivery_id, i.opened_at, i.resolved_at, h.url AS hook_url, h.enabled AS hook_enabled,
     EXISTS (SELECT 1 FROM attempts a
             WHERE a.hook_id = i.hook_id AND a.success = TRUE AND a.trigger <> 'test'
               AND a.started_at >= i.opened_at) AS answered_since
     FROM incidents i JOIN hooks h ON h.id = i.hook_id";

/// An incident about to open.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub id: IncidentId,
    pub hook_id: HookId,
    pub kind: IncidentKind,
    pub reason: String,
    pub delivery_id: Option<DeliveryId>,
    pub opened_at: i64,
}

/// A hook the watch found in trouble.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TroubledHook {
    pub id: HookId,
    pub name: String,
    pub url: String,
    /// Why: the dispatcher's reason for a disabled hook, else empty.
    pub reason: Option<String>,
}

/// A delivery that ended failed after at least one attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExhaustedDelivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub event: String,
    pub attempt_count: i64,
    pub hook_id: HookId,
    pub hook_name: String,
    pub hook_url: String,
}

/// The most exhausted deliveries one look reads; the rest wait for the next.
const EXHAUSTED_BATCH: i64 = 500;

impl Store {
    /// Incidents as `filter` asks, newest first.
    pub async fn incidents(&self, filter: &IncidentFilter) -> StoreResult<Vec<IncidentRow>> {
        on_backend!(&self.pool, pool => {
            let mut query = QueryBuilder::new(format!("SELECT {INCIDENT_COLUMNS} WHERE TRUE"));
            match filter.open {
                Some(true) => {
                    query.push(" AND i.resolved_at IS NULL");
                }
                Some(false) => {
                    query.push(" AND i.resolved_at IS NOT NULL");
                }
                None => {}
            }
            if let Some(hook_id) = &filter.hook_id {
                query.push(" AND i.hook_id = ").push_bind(hook_id.as_str());
            }
            query
                .push(" ORDER BY i.opened_at DESC, i.id LIMIT ")
                .push_bind(i64::from(filter.limit));
            Ok(query.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Every open incident (at most three per hook).
    pub async fn open_incidents(&self) -> StoreResult<Vec<IncidentRow>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} WHERE i.resolved_at IS NULL");
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Opens `incident` and stores `alert` with it, unless an incident of
    /// its kind is open for its hook already (opened by another instance
    /// meanwhile): then neither. True when it opened.
    pub async fn open_incident(
        &self,
        incident: &NewIncident,
        alert: &NewEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let opened = on_backend!(&mut tx, tx => sqlx::query(
            "INSERT INTO incidents (id, hook_id, kind, reason, delivery_id, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&incident.id)
        .bind(&incident.hook_id)
        .bind(incident.kind.as_str())
        .bind(&incident.reason)
        .bind(&incident.delivery_id)
        .bind(incident.opened_at)
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()))?
            == 1;
        if !opened {
            return Ok(false);
        }
        self.store_alert_in(tx, alert).await?;
        Ok(true)
    }

    /// Resolves those of `ids` still open at `now`, with `alert` if it is
    /// given and any was: true when this call resolved one.
    pub async fn resolve_incidents(
        &self,
        ids: &[&IncidentId],
        now: i64,
        alert: Option<&NewEvent>,
    ) -> StoreResult<bool> {
        if ids.is_empty() {
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        let resolved = on_backend!(&mut tx, tx => {
            let mut query = QueryBuilder::new("UPDATE incidents SET resolved_at = ");
            query.push_bind(now).push(" WHERE resolved_at IS NULL AND id IN (");
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(id.as_str());
            }
            query.push(")");
            query.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })? > 0;
        if !resolved {
            return Ok(false);
        }
        match alert {
            Some(alert) => self.store_alert_in(tx, alert).await?,
            None => tx.commit().await?,
        }
        Ok(true)
    }

    /// Stores `alert` within `tx` (for the alerts hook, the only listener
    /// of operational events) and commits.
    async fn store_alert_in(
        &self,
        mut tx: super::Tx<'static>,
        alert: &NewEvent,
    ) -> StoreResult<()> {
        let intake = self
            .intake
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut leasing = Leasing::new(intake.as_deref());
        store_events(&mut tx, &[alert], &mut leasing).await?;
        tx.commit().await?;
        leasing.committed();
        Ok(())
    }

    /// Enabled hooks whose last `n` attempts (at least) all failed, but
    /// `except`: failures since the hook's last success, counted no
    /// further than `n` (indexed by hook, success and time).
    pub async fn hooks_failing_in_a_row(
        &self,
        n: u32,
        except: &HookId,
    ) -> StoreResult<Vec<TroubledHook>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT h.id, h.name, h.url, NULL AS reason FROM hooks h
             WHERE h.enabled = TRUE AND h.failing_since IS NOT NULL AND h.id <> $1
               AND (SELECT COUNT(*) FROM (
                        SELECT 1 FROM attempts a
                        WHERE a.hook_id = h.id AND a.success = FALSE AND a.trigger <> 'test'
                          AND a.started_at > COALESCE((
                              SELECT MAX(s.started_at) FROM attempts s
                              WHERE s.hook_id = h.id AND s.success = TRUE AND s.trigger <> 'test'
                          ), -1)
                        LIMIT $2) AS in_a_row) >= $2",
        )
        .bind(except)
        .bind(i64::from(n))
        .fetch_all(pool)
        .await)?)
    }

    /// Enabled hooks but `except` with at least `min_attempts` attempts
    /// since `since_minute` (from the per-minute counters) of which fewer
    /// than `percent` % succeeded, with their requests and successes.
    pub async fn hooks_below_success_rate(
        &self,
        since_minute: i64,
        min_attempts: u32,
        percent: u32,
        except: &HookId,
    ) -> StoreResult<Vec<(TroubledHook, i64, i64)>> {
        let rows: Vec<(HookId, String, String, i64, i64)> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT h.id, h.name, h.url,
                    CAST(SUM(m.requests) AS BIGINT), CAST(SUM(m.successes) AS BIGINT)
             FROM attempt_minutes m JOIN hooks h ON h.id = m.hook_id
             WHERE m.minute >= $1 AND h.enabled = TRUE AND h.id <> $2
             GROUP BY h.id, h.name, h.url
             HAVING SUM(m.requests) >= $3 AND SUM(m.successes) * 100 < $4 * SUM(m.requests)",
        )
        .bind(since_minute)
        .bind(except)
        .bind(i64::from(min_attempts))
        .bind(i64::from(percent))
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, url, requests, successes)| {
                let hook = TroubledHook {
                    id,
                    name,
                    url,
                    reason: None,
                };
                (hook, requests, successes)
            })
            .collect())
    }

    /// Hooks but `except` the dispatcher disabled (a `410 Gone`, or failing
    /// for too long): those with a reason. An admin's switch leaves none.
    pub async fn hooks_disabled_by_dispatcher(
        &self,
        except: &HookId,
    ) -> StoreResult<Vec<TroubledHook>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT id, name, url, disabled_reason AS reason FROM hooks
             WHERE enabled = FALSE AND disabled_reason IS NOT NULL AND id <> $1",
        )
        .bind(except)
        .fetch_all(pool)
        .await)?)
    }

    /// Deliveries to hooks but `except` that ended failed in `(after,
    /// until]` after at least one attempt, while their hook is still
    /// failing or disabled, oldest first.
    pub async fn exhausted_deliveries(
        &self,
        after: i64,
        until: i64,
        except: &HookId,
    ) -> StoreResult<Vec<ExhaustedDelivery>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT d.id, d.event_id, e.name AS event, d.attempt_count, d.hook_id,
                    h.name AS hook_name, h.url AS hook_url
             FROM deliveries d JOIN hooks h ON h.id = d.hook_id JOIN events e ON e.id = d.event_id
             WHERE d.state = 'failed' AND d.updated_at > $1 AND d.updated_at <= $2
               AND d.attempt_count > 0 AND d.next_trigger <> 'test' AND d.hook_id <> $3
               AND (h.failing_since IS NOT NULL OR h.enabled = FALSE)
             ORDER BY d.updated_at LIMIT $4",
        )
        .bind(after)
        .bind(until)
        .bind(except)
        .bind(EXHAUSTED_BATCH)
        .fetch_all(pool)
        .await)?)
    }
}
