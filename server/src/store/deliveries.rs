//! Deliveries: the dispatcher's queue. Workers claim due deliveries with a
//! lease, and record each attempt's outcome together with the delivery's next
//! state in batches.

use std::collections::HashMap;
use std::mem::discriminant;

use app::model::delivery::{Attempt, Delivery, DeliveryState};
use app::model::hook::Headers;
use sqlx::QueryBuilder;

use super::attempts::{count_minutes, insert_attempts, AttemptRow};
use super::dispatchers::Share;
use super::notify::notify_logged;
use super::{on_backend, Backend, JsonText, Store, StoreResult, Tx};

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
    #[sqlx(try_from = "JsonText<Headers>")]
    pub headers: Headers,
    pub signing_key: String,
    pub previous_signing_key: Option<String>,
    pub previous_key_expires_at: Option<i64>,
    pub lease_token: String,
    pub lease_expires_at: i64,
}

/// Who is claiming, and how much it may take (see [`Store::claim_due`]).
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The claiming dispatcher: one per process.
    pub owner: &'a str,
    /// This claim's lease token.
    pub token: &'a str,
    pub now: i64,
    pub lease_until: i64,
    /// At most this many deliveries in all.
    pub batch: i64,
    /// A hook's attempts in flight, over all instances.
    pub per_hook: i64,
    /// How many of a hook's deliveries the claimant may queue past `per_hook`.
    pub queue_per_hook: i64,
    /// The claimant's deliveries whose attempt is over but not yet logged.
    pub finished: &'a [String],
    /// The hooks the claimant serves (see `claim_due`).
    pub share: Share,
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
    /// Leases due deliveries for `claim`, oldest first, and returns them
    /// with their event and hook.
    ///
    /// The live dispatchers split the hooks between them (the claimant's
    /// `share`), so that a hook with a backlog is served by one instance: two
    /// instances taking turns at it could neither queue past its limit, and
    /// each attempt would wait for a claim's round trip. A hook outside the
    /// share is taken only while nobody holds a lease of it.
    ///
    /// A hook's live leases count against its limit (`per_hook`), except the
    /// claimant's own finished ones. Past the limit, a claimant may lease
    /// `queue_per_hook` more of a hook of its share to queue in memory, but
    /// only while no other instance holds a lease of that hook: then no other
    /// instance can claim any until the claimant's leases drop under the
    /// limit, and the claimant itself keeps to the limit in memory, so the
    /// limit holds over all instances.
    pub async fn claim_due(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>> {
        let finished = serde_json::to_string(claim.finished).unwrap_or_else(|_| "[]".to_owned());
        // The two statements take the same parameters (see below).
        macro_rules! claim {
            ($statement:expr) => {
                sqlx::query_scalar($statement)
                    .bind(claim.now)
                    .bind(claim.per_hook)
                    .bind(claim.token)
                    .bind(claim.lease_until)
                    .bind(claim.batch)
                    .bind(&finished)
                    .bind(claim.owner)
                    .bind(claim.queue_per_hook)
                    .bind(claim.share.of)
                    .bind(claim.share.index)
            };
        }
        let ids: Vec<String> = match &self.writer {
            Backend::Sqlite(pool) => {
                // SQLite runs the statement as one write transaction, so two
                // claimers never lease the same row.
                claim!(SQLITE_CLAIM).fetch_all(pool).await?
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // Claims take turns across instances, each in a fresh
                // snapshot, so every claim counts the leases the one before
                // it took and a hook's limit holds over all instances. Rows
                // the recorder is writing are skipped, not waited for. The
                // commit does not wait for the disk: a claim lost in a crash
                // is a lease that never was, and the delivery is claimed
                // again, as after any crash.
                sqlx::query(
                    "SELECT set_config('synchronous_commit', 'off', TRUE), pg_advisory_xact_lock($1)",
                )
                    .bind(CLAIM_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let ids = claim!(POSTGRES_CLAIM).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                ids
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_backend!(&self.pool, pool => {
            let mut query = QueryBuilder::new(
                "SELECT d.id, d.event_id, d.hook_id, d.attempt_count, d.next_trigger,
                        d.lease_token, d.lease_expires_at,
                        e.name AS event_name, e.payload, e.created_at AS event_created_at,
                        h.enabled AS hook_enabled, h.url, h.headers, h.signing_key,
                        h.previous_signing_key, h.previous_key_expires_at
                 FROM deliveries d
                 JOIN events e ON e.id = d.event_id
                 JOIN hooks h ON h.id = d.hook_id
                 WHERE d.lease_token = ",
            );
            query.push_bind(claim.token).push(" AND d.id IN (");
            let mut list = query.separated(", ");
            for id in &ids {
                list.push_bind(id.as_str());
            }
            query.push(") ORDER BY d.next_attempt_at");
            query.build_query_as().fetch_all(pool).await
        })
    }

    /// When the next unleased delivery falls due, if any is scheduled.
    pub async fn next_due_at(&self, now: i64) -> StoreResult<Option<i64>> {
        on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT next_attempt_at FROM deliveries
             WHERE next_attempt_at IS NOT NULL
               AND (lease_expires_at IS NULL OR lease_expires_at <= $1)
             ORDER BY next_attempt_at LIMIT 1",
        )
        .bind(now)
        .fetch_optional(pool)
        .await)
    }

    /// When the oldest delivery still waiting was created, if any waits.
    pub async fn oldest_pending_at(&self) -> StoreResult<Option<i64>> {
        on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT MIN(created_at) FROM deliveries WHERE state = 'pending'",
        )
        .fetch_one(pool)
        .await)
    }

    /// How many deliveries are pending (the queue's depth).
    pub async fn count_pending(&self) -> StoreResult<i64> {
        on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'",
        )
        .fetch_one(pool)
        .await)
    }

    /// Writes a batch of outcomes in one transaction, in a few statements
    /// however large it is: the attempts, each delivery's next state (only
    /// while the lease is still ours) and what they mean for their hooks.
    pub async fn record_outcomes(&self, outcomes: &[Outcome], now: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let attempts: Vec<&Attempt> = outcomes.iter().filter_map(|o| o.attempt.as_ref()).collect();
        let rows: Vec<AttemptRow> = attempts.iter().map(|a| AttemptRow::from(*a)).collect();
        insert_attempts(&mut tx, &rows).await?;
        settle_deliveries(&mut tx, outcomes, now).await?;
        for (hook_id, verdict) in verdicts_to_apply(outcomes) {
            apply_verdict(&mut tx, hook_id, verdict, now).await?;
        }
        count_minutes(&mut tx, &attempts).await?;
        notify_logged(&mut tx, outcomes).await?;
        tx.commit().await
    }

    /// Schedules a manual attempt of a delivery now, unless an attempt of it
    /// is in flight (its lease holds).
    pub async fn schedule_resend(&self, id: &str, now: i64) -> StoreResult<Resend> {
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
        const FAILED_IN_RANGE: &str = "hook_id = $1 AND state = 'failed' AND next_trigger != 'test'
             AND created_at >= $2 AND created_at < $3";
        if dry_run {
            return on_backend!(&self.pool, pool => sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM deliveries WHERE {FAILED_IN_RANGE}"
            ))
            .bind(hook_id)
            .bind(since)
            .bind(until)
            .fetch_one(pool)
            .await);
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

    /// Gives back leases that were claimed but never attempted (shutdown).
    pub async fn release_leases(&self, leases: &[(String, String)]) -> StoreResult<()> {
        if leases.is_empty() {
            return Ok(());
        }
        on_backend!(&self.writer, pool => {
            let mut release = QueryBuilder::new(
                "UPDATE deliveries SET lease_token = NULL, lease_expires_at = NULL
                 WHERE (id, lease_token) IN (VALUES ",
            );
            let mut values = release.separated(", ");
            for (id, token) in leases {
                values.push("(");
                values.push_bind_unseparated(id.as_str());
                values.push_unseparated(", ");
                values.push_bind_unseparated(token.as_str());
                values.push_unseparated(")");
            }
            release.push(")");
            release.build().execute(pool).await.map(|done| done.rows_affected())
        })?;
        Ok(())
    }

    pub(super) async fn deliveries_of_event(&self, event_id: &str) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = on_backend!(&self.pool, pool => sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.event_id = $1 ORDER BY d.created_at, d.id"
        ))
        .bind(event_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_delivery(Vec::new()))
            .collect())
    }

    /// A delivery with every attempt, oldest first.
    pub async fn delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        let row: Option<DeliveryRow> = on_backend!(&self.pool, pool => sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        match row {
            Some(row) => {
                let attempts = self.attempts_of(&row.id).await?;
                Ok(Some(row.into_delivery(attempts)))
            }
            None => Ok(None),
        }
    }
}

/// Rows per `UPDATE … FROM (VALUES …)`.
const SETTLED_PER_UPDATE: usize = 1000;

/// Moves each delivery to what follows its attempt and gives back its lease,
/// if the lease is still the one the attempt was made under.
async fn settle_deliveries(tx: &mut Tx, outcomes: &[Outcome], now: i64) -> StoreResult<()> {
    for chunk in outcomes.chunks(SETTLED_PER_UPDATE) {
        on_backend!(&mut *tx, tx => {
            let mut update = QueryBuilder::new("UPDATE deliveries SET state = v.column3, next_attempt_at = v.column4,
                 next_trigger = 'retry', attempt_count = COALESCE(v.column5, attempt_count),
                 lease_token = NULL, lease_expires_at = NULL, updated_at = ");
            update.push_bind(now).push(" FROM (");
            update.push_values(chunk, |mut values, outcome| {
                let (state, next_attempt_at) = match outcome.next {
                    NextStep::Delivered => (DeliveryState::Delivered, None),
                    NextStep::RetryAt(at) => (DeliveryState::Pending, Some(at)),
                    NextStep::Failed => (DeliveryState::Failed, None),
                };
                values
                    .push_bind(outcome.delivery_id.as_str())
                    .push_bind(outcome.lease_token.as_str())
                    .push_bind(state.as_str())
                    .push_bind(next_attempt_at)
                    .push_bind(outcome.attempt.as_ref().map(|a| a.number));
            });
            update.push(") AS v WHERE deliveries.id = v.column1 AND deliveries.lease_token = v.column2");
            update.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// The verdicts worth applying, per hook in order, sorted by hook (so
/// recorders of several instances lock hooks in the same order). Of a run of
/// one kind for a hook only the last counts: it has the effect of them all.
fn verdicts_to_apply(outcomes: &[Outcome]) -> Vec<(&str, &HookVerdict)> {
    let mut kept: Vec<(&str, &HookVerdict)> = Vec::new();
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for outcome in outcomes {
        let Some(verdict) = &outcome.verdict else {
            continue;
        };
        let hook = outcome.hook_id.as_str();
        match latest.get(hook) {
            Some(&index) if discriminant(kept[index].1) == discriminant(verdict) => {
                kept[index].1 = verdict;
            }
            _ => {
                latest.insert(hook, kept.len());
                kept.push((hook, verdict));
            }
        }
    }
    kept.sort_by_key(|(hook, _)| *hook);
    kept
}

async fn apply_verdict(
    tx: &mut Tx,
    hook_id: &str,
    verdict: &HookVerdict,
    now: i64,
) -> StoreResult<()> {
    match verdict {
        HookVerdict::Answered => {
            on_backend!(tx, tx => sqlx::query(
                "UPDATE hooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(hook_id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        }
        HookVerdict::Failing {
            disable_if_failing_since,
            reason,
        } => {
            on_backend!(tx, tx => sqlx::query(
                "UPDATE hooks SET
                     failing_since = COALESCE(failing_since, $1),
                     disabled_reason = CASE WHEN COALESCE(failing_since, $1) <= $2
                                            THEN $3 ELSE disabled_reason END,
                     enabled = CASE WHEN COALESCE(failing_since, $1) <= $2 THEN FALSE ELSE enabled END,
                     updated_at = CASE WHEN COALESCE(failing_since, $1) <= $2 THEN $1 ELSE updated_at END
                 WHERE id = $4 AND enabled = TRUE",
            )
            .bind(now)
            .bind(disable_if_failing_since)
            .bind(reason)
            .bind(hook_id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        }
        HookVerdict::Disable(reason) => {
            on_backend!(tx, tx => sqlx::query(
                "UPDATE hooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2
                 WHERE id = $3 AND enabled = TRUE",
            )
            .bind(reason)
            .bind(now)
            .bind(hook_id)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        }
    }
    Ok(())
}

/// Serialises claims across instances on PostgreSQL (`pg_advisory_xact_lock`).
const CLAIM_LOCK: i64 = 0x686f6f6b_6c696e65; // "hookline"

// The claim, in one statement: each hook's oldest due deliveries come from
// its own index range, so one hook's backlog never hides another hook's
// deliveries, and a hook gets no more than keeps its live leases at `$2`, or
// at `$2 + $8` while all of them are the claimant's (see `claim_due`).
// `$1` now, `$3` the lease token, `$4` its expiry, `$5` the batch size, `$6`
// the claimant's finished deliveries (a JSON array of ids), `$7` the claimant,
// `$9` and `$10` its share of the hooks: those whose place in the order of
// hook ids leaves `$10` when divided by `$9`. Every instance orders the same
// table the same way, so between them they cover each hook once.

/// Every hook, and whether it is in the claimant's share (`mine`).
macro_rules! share {
    () => {
        "share AS (
             SELECT id, place % $9 = $10 AS mine
             FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS place FROM hooks) ranked_hooks
         )"
    };
}

/// After the candidates (`due`): count each hook's live leases (less the
/// finished ones, which `$finished` lists) and those of other claimants, rank
/// the candidates per hook after them, and lease those within the limit,
/// oldest first. A hook outside the claimant's share is taken only while
/// nobody holds a lease of it, up to the limit: so an event that reaches
/// another instance than its hook's goes out at once, yet a hook with a
/// backlog stays with the instance whose share it is, which alone may queue
/// its deliveries.
macro_rules! rank_and_lease {
    ($finished:literal) => {
        concat!(
            "held AS (
                 SELECT l.hook_id,
                        COUNT(*) FILTER (WHERE l.id NOT IN (",
            $finished,
            ")) AS busy,
                        COUNT(*) FILTER (WHERE l.lease_owner IS DISTINCT FROM $7) AS others,
                        COUNT(*) AS leased
                 FROM deliveries l
                 WHERE l.hook_id IN (SELECT hook_id FROM due) AND l.lease_expires_at > $1
                 GROUP BY l.hook_id
             ),
             ranked AS (
                 SELECT due.id, due.next_attempt_at,
                        ROW_NUMBER() OVER (PARTITION BY due.hook_id ORDER BY due.next_attempt_at)
                        + COALESCE(held.busy, 0) AS slot,
                        COALESCE(held.others, 0) AS others,
                        COALESCE(held.leased, 0) AS leased,
                        due.mine
                 FROM due LEFT JOIN held ON held.hook_id = due.hook_id
             )
             UPDATE deliveries SET lease_token = $3, lease_owner = $7, lease_expires_at = $4
             WHERE id IN (SELECT id FROM ranked
                          WHERE slot <= $2 + CASE WHEN mine AND others = 0 THEN $8 ELSE 0 END
                            AND (mine OR leased = 0)
                          ORDER BY next_attempt_at LIMIT $5)
             RETURNING id"
        )
    };
}

const SQLITE_CLAIM: &str = concat!(
    "WITH ",
    share!(),
    ", due AS (
         SELECT d.id, d.hook_id, d.next_attempt_at, h.mine
         FROM share h
         JOIN deliveries d ON d.id IN (
             SELECT x.id FROM deliveries x
             WHERE x.hook_id = h.id AND x.next_attempt_at <= $1
               AND (x.lease_expires_at IS NULL OR x.lease_expires_at <= $1)
             ORDER BY x.next_attempt_at LIMIT $2 + $8)
     ), ",
    rank_and_lease!("SELECT value FROM json_each($6)")
);

/// PostgreSQL reads each hook's range through `LATERAL` (its planner would
/// otherwise test every delivery against every hook), and skips rows another
/// transaction holds.
const POSTGRES_CLAIM: &str = concat!(
    "WITH ",
    share!(),
    ", due AS (
         SELECT x.id, x.hook_id, x.next_attempt_at, h.mine
         FROM share h
         CROSS JOIN LATERAL (
             SELECT d.id, d.hook_id, d.next_attempt_at FROM deliveries d
             WHERE d.hook_id = h.id AND d.next_attempt_at <= $1
               AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
             ORDER BY d.next_attempt_at LIMIT $2 + $8
             FOR UPDATE SKIP LOCKED) x
     ), ",
    rank_and_lease!("SELECT jsonb_array_elements_text($6::jsonb)")
);
