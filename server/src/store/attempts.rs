//! Attempts: the log of every request sent and what came back.

use domain::ids::{AttemptId, DeliveryId, HookId};
use std::collections::HashMap;

use domain::delivery::{
    Attempt, AttemptSummary, Bucket, DeliveryState, LogFilter, StatusFilter, Trigger,
};
use domain::hook::ExecutionStats;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::events::{insert_events, NewEvent};
use super::{on_backend, JsonText, Store, StoreResult, Tx};

type HeaderList = Vec<(String, String)>;

/// An attempt's row in a hook's log: the columns of [`AttemptSummary`].
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: AttemptId,
    delivery_id: DeliveryId,
    hook_id: HookId,
    event: String,
    number: i64,
    trigger: String,
    response_status: Option<i64>,
    error: Option<String>,
    success: bool,
    started_at: i64,
    duration_ms: i64,
}

impl SummaryRow {
    fn into_summary(self) -> StoreResult<AttemptSummary> {
        Ok(AttemptSummary {
            id: self.id,
            delivery_id: self.delivery_id,
            hook_id: self.hook_id,
            event: self.event,
            number: self.number,
            trigger: self.trigger.parse()?,
            response_status: self.response_status.and_then(|s| u16::try_from(s).ok()),
            error: self.error,
            success: self.success,
            started_at: self.started_at,
            duration_ms: self.duration_ms,
        })
    }
}

impl From<&AttemptSummary> for SummaryRow {
    fn from(a: &AttemptSummary) -> Self {
        SummaryRow {
            id: a.id.clone(),
            delivery_id: a.delivery_id.clone(),
            hook_id: a.hook_id.clone(),
            event: a.event.clone(),
            number: a.number,
            trigger: a.trigger.as_str().to_owned(),
            response_status: a.response_status.map(i64::from),
            error: a.error.clone(),
            success: a.success,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
        }
    }
}

/// A whole attempt's row: the summary's columns and the request and
/// response in full.
#[derive(sqlx::FromRow)]
pub(super) struct AttemptRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    url: String,
    request_headers: JsonText<HeaderList>,
    request_body: String,
    response_headers: Option<JsonText<HeaderList>>,
    response_body: Option<String>,
    response_body_truncated: bool,
}

impl From<&Attempt> for AttemptRow {
    fn from(a: &Attempt) -> Self {
        AttemptRow {
            summary: SummaryRow::from(&a.summary),
            url: a.url.clone(),
            request_headers: JsonText(a.request_headers.clone()),
            request_body: a.request_body.clone(),
            response_headers: a.response_headers.clone().map(JsonText),
            response_body: a.response_body.clone(),
            response_body_truncated: a.response_body_truncated,
        }
    }
}

impl AttemptRow {
    fn into_attempt(self) -> StoreResult<Attempt> {
        Ok(Attempt {
            summary: self.summary.into_summary()?,
            url: self.url,
            request_headers: self.request_headers.0,
            request_body: self.request_body,
            response_headers: self.response_headers.map(|h| h.0),
            response_body: self.response_body,
            response_body_truncated: self.response_body_truncated,
        })
    }
}

const MINUTE_MS: i64 = 60_000;

/// Adds attempts to `writer`'s per-minute figures, each hook's and every
/// hook's together (test sends do not count).
pub(super) async fn count_minutes(
    tx: &mut Tx<'_>,
    attempts: &[&Attempt],
    writer: &str,
) -> StoreResult<()> {
    let mut minutes: HashMap<(Option<&str>, i64), (i64, i64)> = HashMap::new();
    for attempt in attempts
        .iter()
        .filter(|a| a.summary.trigger != Trigger::Test)
    {
        let minute = attempt.summary.started_at - attempt.summary.started_at.rem_euclid(MINUTE_MS);
        let success = i64::from(attempt.summary.success);
        // The hook's row, then the total (no hook).
        for hook in [Some(attempt.summary.hook_id.as_str()), None] {
            let entry = minutes.entry((hook, minute)).or_default();
            *entry = (entry.0 + 1, entry.1 + success);
        }
    }
    // Sorted, so concurrent recorders (several instances on PostgreSQL)
    // lock the counters' rows in the same order and never deadlock.
    let mut minutes: Vec<_> = minutes.into_iter().collect();
    minutes.sort();
    for ((hook, minute), (requests, successes)) in minutes {
        // A hook's row in `attempt_minutes`, the total in `attempt_totals`.
        let (table, hook_column, hook_value) = match hook {
            Some(_) => ("attempt_minutes", "hook_id, ", "$5, "),
            None => ("attempt_totals", "", ""),
        };
        let sql = format!(
            "INSERT INTO {table} AS c ({hook_column}minute, writer, requests, successes)
             VALUES ({hook_value}$1, $2, $3, $4)
             ON CONFLICT ({hook_column}minute, writer) DO UPDATE SET
                 requests = c.requests + excluded.requests,
                 successes = c.successes + excluded.successes"
        );
        on_backend!(&mut *tx, tx => {
            let query = sqlx::query(&sql)
                .bind(minute)
                .bind(writer)
                .bind(requests)
                .bind(successes);
            match hook {
                Some(hook) => query.bind(hook),
                None => query,
            }
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// Appends `filter`'s conditions to a query on `attempts` for one hook.
fn push_filter<'a, DB: Database>(
    query: &mut QueryBuilder<'a, DB>,
    hook_id: &'a HookId,
    filter: &'a LogFilter,
) where
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    query.push(" WHERE hook_id = ").push_bind(hook_id.as_str());
    if let Some(event) = &filter.event {
        query.push(" AND event = ").push_bind(event.as_str());
    }
    match filter.status {
        Some(StatusFilter::Success) => {
            query.push(" AND success = TRUE");
        }
        Some(StatusFilter::Failed) => {
            query.push(" AND success = FALSE");
        }
        Some(StatusFilter::Code(code)) => {
            query
                .push(" AND response_status = ")
                .push_bind(i64::from(code));
        }
        None => {}
    }
    if let Some(start) = filter.start_time {
        query.push(" AND started_at >= ").push_bind(start);
    }
    if let Some(end) = filter.end_time {
        query.push(" AND started_at < ").push_bind(end);
    }
}

/// Rows per multi-row `INSERT`: 17 values each, well under SQLite's limit.
const ATTEMPTS_PER_INSERT: usize = 500;

/// Logs attempts, in a few statements however many there are; an attempt
/// whose delivery is gone (its hook was deleted while the request was in
/// flight) is left out.
pub(super) async fn insert_attempts(tx: &mut Tx<'_>, rows: &[AttemptRow]) -> StoreResult<()> {
    for chunk in rows.chunks(ATTEMPTS_PER_INSERT) {
        on_backend!(&mut *tx, tx => {
            // A `VALUES` list names its columns column1, column2 … on both
            // databases; column2 is the delivery.
            let mut insert = QueryBuilder::new(
                "INSERT INTO attempts (id, delivery_id, hook_id, event, number, trigger, url,
                     request_headers, request_body, response_status, response_headers, response_body,
                     response_body_truncated, error, success, started_at, duration_ms)
                 SELECT * FROM (",
            );
            insert.push_values(chunk, |mut values, row| {
                let summary = &row.summary;
                values
                    .push_bind(&summary.id)
                    .push_bind(&summary.delivery_id)
                    .push_bind(&summary.hook_id)
                    .push_bind(&summary.event)
                    .push_bind(summary.number)
                    .push_bind(&summary.trigger)
                    .push_bind(&row.url)
                    .push_bind(&row.request_headers)
                    .push_bind(&row.request_body)
                    .push_bind(summary.response_status)
                    .push_bind(&row.response_headers)
                    .push_bind(&row.response_body)
                    .push_bind(row.response_body_truncated)
                    .push_bind(&summary.error)
                    .push_bind(summary.success)
                    .push_bind(summary.started_at)
                    .push_bind(summary.duration_ms);
            });
            insert.push(") AS v WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = v.column2)");
            insert.build().execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

impl Store {
    /// One page of a hook's attempts, newest first, and how many match,
    /// counted up to `count_limit + 1`.
    pub async fn recent_attempts(
        &self,
        hook_id: &HookId,
        filter: &LogFilter,
        count_limit: i64,
    ) -> StoreResult<(Vec<AttemptSummary>, i64)> {
        let (rows, total): (Vec<SummaryRow>, i64) = on_backend!(&self.pool, pool => {
            let mut page = QueryBuilder::new(
                "SELECT id, delivery_id, hook_id, event, number, trigger, response_status, error,
                        success, started_at, duration_ms FROM attempts",
            );
            push_filter(&mut page, hook_id, filter);
            page.push(" ORDER BY started_at DESC, id DESC LIMIT ")
                .push_bind(filter.page_size)
                .push(" OFFSET ")
                .push_bind((filter.page - 1) * filter.page_size);
            let rows = page.build_query_as().fetch_all(pool).await?;
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM attempts");
            push_filter(&mut count, hook_id, filter);
            count.push(" LIMIT ").push_bind(count_limit + 1).push(") AS matching");
            (rows, count.build_query_scalar().fetch_one(pool).await?)
        });
        Ok((
            rows.into_iter()
                .map(SummaryRow::into_summary)
                .collect::<StoreResult<_>>()?,
            total,
        ))
    }

    /// Requests and successes per hook since `since` (unix ms, rounded down
    /// to its minute), for every hook with any.
    pub async fn execution_stats(
        &self,
        since: i64,
    ) -> StoreResult<HashMap<HookId, ExecutionStats>> {
        let rows: Vec<(HookId, i64, i64)> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT hook_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(successes) AS BIGINT)
             FROM attempt_minutes WHERE minute >= $1 GROUP BY hook_id",
        )
        .bind(since - since.rem_euclid(MINUTE_MS))
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(hook, request_count, success_count)| {
                (
                    hook,
                    ExecutionStats {
                        request_count,
                        success_count,
                    },
                )
            })
            .collect())
    }

    /// Requests in `[from, to)` in buckets of `bucket_ms` (a whole number
    /// of minutes), empty buckets included: one hook's, or with `None` every
    /// hook's together.
    pub async fn attempt_buckets(
        &self,
        hook_id: Option<&HookId>,
        from: i64,
        to: i64,
        bucket_ms: i64,
    ) -> StoreResult<Vec<Bucket>> {
        let bucket_ms = bucket_ms.max(MINUTE_MS);
        let from = from - from.rem_euclid(bucket_ms);
        // One hook's rows, or every hook's totals (a row per minute and writer).
        let (table, of_hook) = if hook_id.is_some() {
            ("attempt_minutes", "AND hook_id = $4")
        } else {
            ("attempt_totals", "")
        };
        let sql = format!(
            "SELECT $1 + ((minute - $1) / $3) * $3 AS bucket,
                    CAST(SUM(requests) AS BIGINT), CAST(SUM(successes) AS BIGINT)
             FROM {table} WHERE minute >= $1 AND minute < $2 {of_hook}
             GROUP BY bucket ORDER BY bucket"
        );
        let rows: Vec<(i64, i64, i64)> = on_backend!(&self.pool, pool => {
            let query = sqlx::query_as(&sql).bind(from).bind(to).bind(bucket_ms);
            match hook_id {
                Some(hook_id) => query.bind(hook_id),
                None => query,
            }
            .fetch_all(pool)
            .await
        })?;
        let filled: HashMap<i64, (i64, i64)> =
            rows.into_iter().map(|(b, r, s)| (b, (r, s))).collect();
        Ok((0..)
            .map(|i| from + i * bucket_ms)
            .take_while(|start| *start < to)
            .map(|start| {
                let (requests, successes) = filled.get(&start).copied().unwrap_or_default();
                Bucket {
                    start,
                    requests,
                    successes,
                }
            })
            .collect())
    }

    /// Every attempt of a delivery, oldest first.
    pub async fn attempts_of(&self, delivery_id: &DeliveryId) -> StoreResult<Vec<Attempt>> {
        let rows: Vec<AttemptRow> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY number, started_at",
        )
        .bind(delivery_id)
        .fetch_all(pool)
        .await)?;
        rows.into_iter().map(AttemptRow::into_attempt).collect()
    }

    /// The first attempt of each of these deliveries that has one.
    pub async fn first_attempts(&self, delivery_ids: &[DeliveryId]) -> StoreResult<Vec<Attempt>> {
        if delivery_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<AttemptRow> = on_backend!(&self.pool, pool => {
            let mut query = QueryBuilder::new("SELECT * FROM attempts WHERE number = 1 AND delivery_id IN (");
            let mut ids = query.separated(", ");
            for id in delivery_ids {
                ids.push_bind(id.as_str());
            }
            query.push(")");
            query.build_query_as().fetch_all(pool).await
        })?;
        rows.into_iter().map(AttemptRow::into_attempt).collect()
    }

    /// Logs a test send: its event, a finished delivery and the one attempt,
    /// in one transaction. Test deliveries are never retried.
    pub async fn record_test_attempt(
        &self,
        event: &NewEvent,
        attempt: &Attempt,
    ) -> StoreResult<()> {
        let state = if attempt.summary.success {
            DeliveryState::Delivered
        } else {
            DeliveryState::Failed
        };
        let mut tx = self.begin().await?;
        insert_events(&mut tx, &[event]).await?;
        on_backend!(&mut tx, tx => sqlx::query(
            "INSERT INTO deliveries (id, event_id, hook_id, state, attempt_count, next_trigger,
                                     created_at, updated_at)
             VALUES ($1, $2, $3, $4, 1, 'test', $5, $5)",
        )
        .bind(&attempt.summary.delivery_id)
        .bind(&event.id)
        .bind(&attempt.summary.hook_id)
        .bind(state.as_str())
        .bind(event.created_at)
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()))?;
        insert_attempts(&mut tx, &[AttemptRow::from(attempt)]).await?;
        tx.commit().await
    }
}
