//! Deliveries: the dispatcher's queue. Workers claim due deliveries with a
//! lease, and record each attempt's outcome together with the delivery's next
//! state in batches.

use app::model::delivery::{Attempt, Delivery, DeliveryState};
use app::model::hook::Headers;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Sqlite};

use super::attempts::{count_minutes, insert_attempt, AttemptRow};
use super::{Store, StoreResult};

/// A claimed delivery, with everything needed to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub hook_id: String,
    pub attempt_count: i64,
    pub next_trigger: String,
    pub event_name: String,
    pub payload: String,
    pub event_created_at: i64,
    pub hook_enabled: bool,
    pub url: String,
    #[sqlx(json)]
    pub headers: Headers,
    pub signing_key: String,
    pub previous_signing_key: Option<String>,
    pub previous_key_expires_at: Option<i64>,
    pub lease_token: String,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// Give up: no attempt succeeded and none is left.
    Failed,
}

/// What an attempt says about its hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookVerdict {
    /// A success: the hook is healthy again.
    Answered,
    /// A failure; if the hook has failed without a break since
    /// `disable_if_failing_since` or earlier, disable it for `reason`.
    Failing {
        disable_if_failing_since: i64,
        reason: String,
    },
    /// Switch the hook off at once, for this reason (a `410 Gone`).
    Disable(String),
}

/// One finished claim: the attempt made (none when the hook was disabled in
/// the meantime), and what follows.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivery_id: String,
    pub hook_id: String,
    pub lease_token: String,
    pub attempt: Option<Attempt>,
    pub next: NextStep,
    pub verdict: Option<HookVerdict>,
}

/// What asking for a resend did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    Scheduled,
    NotFound,
    HookDisabled,
    /// An attempt is in flight; a resend now would race it.
    InFlight,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    hook_id: String,
    event: String,
    state: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl DeliveryRow {
    fn into_delivery(self, attempts: Vec<Attempt>) -> Delivery {
        Delivery {
            id: self.id,
            event_id: self.event_id,
            hook_id: self.hook_id,
            event: self.event,
            state: DeliveryState::parse(&self.state).unwrap_or(DeliveryState::Pending),
            attempt_count: self.attempt_count,
            next_attempt_at: self.next_attempt_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            attempts,
        }
    }
}

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.hook_id, e.name AS event, d.state,
     d.attempt_count, d.next_attempt_at, d.created_at, d.updated_at";

impl Store {
    /// Leases up to `batch` due deliveries until `lease_until`, oldest first,
    /// taking no more from a hook than keeps its leased deliveries at
    /// `per_hook` or fewer. Returns them with their event and hook.
    pub async fn claim_due(
        &self,
        now: i64,
        lease_until: i64,
        lease_token: &str,
        batch: i64,
        per_hook: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        // Each hook's oldest due deliveries come from its own index range, so
        // one hook's backlog never hides another hook's deliveries. The whole
        // claim is one statement, and SQLite runs it as one write
        // transaction, so two claimers never lease the same row.
        // (PostgreSQL will need `FOR UPDATE SKIP LOCKED` on the candidates.)
        let ids: Vec<String> = sqlx::query_scalar(
            "WITH due AS (
                 SELECT d.id, d.hook_id, d.next_attempt_at
                 FROM hooks h
                 JOIN deliveries d ON d.id IN (
                     SELECT x.id FROM deliveries x
                     WHERE x.hook_id = h.id AND x.next_attempt_at <= ?1
                       AND (x.lease_expires_at IS NULL OR x.lease_expires_at <= ?1)
                     ORDER BY x.next_attempt_at LIMIT ?2)
             ),
             ranked AS (
                 SELECT id, next_attempt_at,
                        ROW_NUMBER() OVER (PARTITION BY hook_id ORDER BY next_attempt_at)
                        + (SELECT COUNT(*) FROM deliveries l
                           WHERE l.hook_id = due.hook_id AND l.lease_expires_at > ?1) AS slot
                 FROM due
             )
             UPDATE deliveries SET lease_token = ?3, lease_expires_at = ?4
             WHERE id IN (SELECT id FROM ranked WHERE slot <= ?2 ORDER BY next_attempt_at LIMIT ?5)
             RETURNING id",
        )
        .bind(now)
        .bind(per_hook)
        .bind(lease_token)
        .bind(lease_until)
        .bind(batch)
        .fetch_all(&self.pool)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as(
            "SELECT d.id, d.event_id, d.hook_id, d.attempt_count, d.next_trigger, d.lease_token,
                    e.name AS event_name, e.payload, e.created_at AS event_created_at,
                    h.enabled AS hook_enabled, h.url, h.headers, h.signing_key,
                    h.previous_signing_key, h.previous_key_expires_at
             FROM deliveries d
             JOIN events e ON e.id = d.event_id
             JOIN hooks h ON h.id = d.hook_id
             WHERE d.id IN (SELECT value FROM json_each(?)) AND d.lease_token = ?
             ORDER BY d.next_attempt_at",
        )
        .bind(Json(&ids))
        .bind(lease_token)
        .fetch_all(&self.pool)
        .await
    }

    /// When the next unleased delivery falls due, if any is scheduled.
    pub async fn next_due_at(&self, now: i64) -> StoreResult<Option<i64>> {
        sqlx::query_scalar(
            "SELECT next_attempt_at FROM deliveries
             WHERE next_attempt_at IS NOT NULL
               AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
             ORDER BY next_attempt_at LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await
    }

    /// When the oldest delivery still waiting was created, if any waits.
    pub async fn oldest_pending_at(&self) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT MIN(created_at) FROM deliveries WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await
    }

    /// Writes a batch of outcomes in one transaction: each attempt, its
    /// delivery's next state (only while the lease is still ours) and what it
    /// means for the hook.
    pub async fn record_outcomes(&self, outcomes: &[Outcome], now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for outcome in outcomes {
            if let Some(attempt) = &outcome.attempt {
                insert_attempt(&mut tx, &AttemptRow::from(attempt)).await?;
            }
            let (state, next_attempt_at) = match outcome.next {
                NextStep::Delivered => (DeliveryState::Delivered, None),
                NextStep::RetryAt(at) => (DeliveryState::Pending, Some(at)),
                NextStep::Failed => (DeliveryState::Failed, None),
            };
            sqlx::query(
                "UPDATE deliveries SET state = ?, next_attempt_at = ?, next_trigger = 'retry',
                     attempt_count = COALESCE(?, attempt_count),
                     lease_token = NULL, lease_expires_at = NULL, updated_at = ?
                 WHERE id = ? AND lease_token = ?",
            )
            .bind(state.as_str())
            .bind(next_attempt_at)
            .bind(outcome.attempt.as_ref().map(|a| a.number))
            .bind(now)
            .bind(&outcome.delivery_id)
            .bind(&outcome.lease_token)
            .execute(&mut *tx)
            .await?;
            if let Some(verdict) = &outcome.verdict {
                apply_verdict(&mut tx, &outcome.hook_id, verdict, now).await?;
            }
        }
        let attempts: Vec<&Attempt> = outcomes.iter().filter_map(|o| o.attempt.as_ref()).collect();
        count_minutes(&mut tx, &attempts).await?;
        tx.commit().await
    }

    /// Schedules a manual attempt of a delivery now, unless an attempt of it
    /// is in flight (its lease holds).
    pub async fn schedule_resend(&self, id: &str, now: i64) -> StoreResult<Resend> {
        let row: Option<(bool, Option<i64>)> = sqlx::query_as(
            "SELECT h.enabled, d.lease_expires_at FROM deliveries d
             JOIN hooks h ON h.id = d.hook_id WHERE d.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => return Ok(Resend::NotFound),
            Some((false, _)) => return Ok(Resend::HookDisabled),
            Some((true, Some(lease))) if lease > now => return Ok(Resend::InFlight),
            Some(_) => {}
        }
        let updated = sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?1, next_trigger = 'manual',
                 updated_at = ?1
             WHERE id = ?2 AND (lease_expires_at IS NULL OR lease_expires_at <= ?1)",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(if updated.rows_affected() == 1 {
            Resend::Scheduled
        } else {
            Resend::InFlight
        })
    }

    /// Schedules a manual attempt, now, of every failed delivery of a hook
    /// created in `[since, until)` (test sends aside); with `dry_run`, only
    /// counts them.
    pub async fn schedule_recover(
        &self,
        hook_id: &str,
        since: i64,
        until: i64,
        now: i64,
        dry_run: bool,
    ) -> StoreResult<i64> {
        const FAILED_IN_RANGE: &str = "hook_id = ?1 AND state = 'failed' AND next_trigger != 'test'
             AND created_at >= ?2 AND created_at < ?3";
        if dry_run {
            return sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM deliveries WHERE {FAILED_IN_RANGE}"
            ))
            .bind(hook_id)
            .bind(since)
            .bind(until)
            .fetch_one(&self.pool)
            .await;
        }
        let updated = sqlx::query(&format!(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?4,
                 next_trigger = 'manual', updated_at = ?4
             WHERE {FAILED_IN_RANGE}"
        ))
        .bind(hook_id)
        .bind(since)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() as i64)
    }

    /// Gives back leases that were claimed but never attempted (shutdown).
    pub async fn release_leases(&self, leases: &[(String, String)]) -> StoreResult<()> {
        if leases.is_empty() {
            return Ok(());
        }
        let mut release = QueryBuilder::<Sqlite>::new(
            "UPDATE deliveries SET lease_token = NULL, lease_expires_at = NULL
             WHERE (id, lease_token) IN (VALUES ",
        );
        let mut values = release.separated(", ");
        for (id, token) in leases {
            values.push("(");
            values.push_bind_unseparated(id);
            values.push_unseparated(", ");
            values.push_bind_unseparated(token);
            values.push_unseparated(")");
        }
        release.push(")");
        release.build().execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn deliveries_of_event(&self, event_id: &str) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.event_id = ? ORDER BY d.created_at, d.id"
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_delivery(Vec::new()))
            .collect())
    }

    /// A delivery with every attempt, oldest first.
    pub async fn delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        let row: Option<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => {
                let attempts = self.attempts_of(&row.id).await?;
                Ok(Some(row.into_delivery(attempts)))
            }
            None => Ok(None),
        }
    }
}

async fn apply_verdict(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    hook_id: &str,
    verdict: &HookVerdict,
    now: i64,
) -> StoreResult<()> {
    match verdict {
        HookVerdict::Answered => {
            sqlx::query(
                "UPDATE hooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
            )
            .bind(hook_id)
            .execute(&mut **tx)
            .await?;
        }
        HookVerdict::Failing {
            disable_if_failing_since,
            reason,
        } => {
            sqlx::query(
                "UPDATE hooks SET
                     failing_since = COALESCE(failing_since, ?1),
                     disabled_reason = CASE WHEN COALESCE(failing_since, ?1) <= ?2
                                            THEN ?3 ELSE disabled_reason END,
                     enabled = CASE WHEN COALESCE(failing_since, ?1) <= ?2 THEN 0 ELSE enabled END,
                     updated_at = CASE WHEN COALESCE(failing_since, ?1) <= ?2 THEN ?1 ELSE updated_at END
                 WHERE id = ?4 AND enabled = 1",
            )
            .bind(now)
            .bind(disable_if_failing_since)
            .bind(reason)
            .bind(hook_id)
            .execute(&mut **tx)
            .await?;
        }
        HookVerdict::Disable(reason) => {
            sqlx::query(
                "UPDATE hooks SET enabled = 0, disabled_reason = ?, updated_at = ?
                 WHERE id = ? AND enabled = 1",
            )
            .bind(reason)
            .bind(now)
            .bind(hook_id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
