//! Attempts: the log of every request sent and what came back.

use app::model::delivery::{Attempt, DeliveryState, Trigger};
use sqlx::types::Json;
use sqlx::Sqlite;

use super::events::{insert_event, NewEvent};
use super::{Store, StoreResult};

type HeaderList = Vec<(String, String)>;

#[derive(sqlx::FromRow)]
pub(super) struct AttemptRow {
    id: String,
    delivery_id: String,
    hook_id: String,
    event: String,
    number: i64,
    trigger: String,
    url: String,
    request_headers: Json<HeaderList>,
    request_body: String,
    response_status: Option<i64>,
    response_headers: Option<Json<HeaderList>>,
    response_body: Option<String>,
    response_body_truncated: bool,
    error: Option<String>,
    success: bool,
    started_at: i64,
    duration_ms: i64,
}

impl From<&Attempt> for AttemptRow {
    fn from(a: &Attempt) -> Self {
        AttemptRow {
            id: a.id.clone(),
            delivery_id: a.delivery_id.clone(),
            hook_id: a.hook_id.clone(),
            event: a.event.clone(),
            number: a.number,
            trigger: a.trigger.as_str().to_owned(),
            url: a.url.clone(),
            request_headers: Json(a.request_headers.clone()),
            request_body: a.request_body.clone(),
            response_status: a.response_status.map(i64::from),
            response_headers: a.response_headers.clone().map(Json),
            response_body: a.response_body.clone(),
            response_body_truncated: a.response_body_truncated,
            error: a.error.clone(),
            success: a.success,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
        }
    }
}

impl AttemptRow {
    fn into_attempt(self) -> Attempt {
        Attempt {
            id: self.id,
            delivery_id: self.delivery_id,
            hook_id: self.hook_id,
            event: self.event,
            number: self.number,
            trigger: Trigger::parse(&self.trigger).unwrap_or(Trigger::Auto),
            url: self.url,
            request_headers: self.request_headers.0,
            request_body: self.request_body,
            response_status: self.response_status.and_then(|s| u16::try_from(s).ok()),
            response_headers: self.response_headers.map(|h| h.0),
            response_body: self.response_body,
            response_body_truncated: self.response_body_truncated,
            error: self.error,
            success: self.success,
            started_at: self.started_at,
            duration_ms: self.duration_ms,
        }
    }
}

/// Logs an attempt, unless its delivery is gone (its hook was deleted while
/// the request was in flight).
pub(super) async fn insert_attempt(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    row: &AttemptRow,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO attempts (id, delivery_id, hook_id, event, number, trigger, url,
             request_headers, request_body, response_status, response_headers, response_body,
             response_body_truncated, error, success, started_at, duration_ms)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ?)",
    )
    .bind(&row.id)
    .bind(&row.delivery_id)
    .bind(&row.hook_id)
    .bind(&row.event)
    .bind(row.number)
    .bind(&row.trigger)
    .bind(&row.url)
    .bind(&row.request_headers)
    .bind(&row.request_body)
    .bind(row.response_status)
    .bind(&row.response_headers)
    .bind(&row.response_body)
    .bind(row.response_body_truncated)
    .bind(&row.error)
    .bind(row.success)
    .bind(row.started_at)
    .bind(row.duration_ms)
    .bind(&row.delivery_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Every attempt of a delivery, oldest first.
    pub async fn attempts_of(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY number, started_at",
        )
        .bind(delivery_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AttemptRow::into_attempt).collect())
    }

    /// The first attempt of each of these deliveries that has one.
    pub async fn first_attempts(&self, delivery_ids: &[String]) -> StoreResult<Vec<Attempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT * FROM attempts
             WHERE delivery_id IN (SELECT value FROM json_each(?)) AND number = 1",
        )
        .bind(Json(delivery_ids))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AttemptRow::into_attempt).collect())
    }

    /// Logs a test send: its event, a finished delivery and the one attempt,
    /// in one transaction. Test deliveries are never retried.
    pub async fn record_test_attempt(
        &self,
        event: &NewEvent<'_>,
        attempt: &Attempt,
    ) -> StoreResult<()> {
        let state = if attempt.success {
            DeliveryState::Delivered
        } else {
            DeliveryState::Failed
        };
        let mut tx = self.pool.begin().await?;
        insert_event(&mut tx, event).await?;
        sqlx::query(
            "INSERT INTO deliveries (id, event_id, hook_id, state, attempt_count, next_trigger,
                                     created_at, updated_at)
             VALUES (?, ?, ?, ?, 1, 'test', ?, ?)",
        )
        .bind(&attempt.delivery_id)
        .bind(event.id)
        .bind(&attempt.hook_id)
        .bind(state.as_str())
        .bind(event.created_at)
        .bind(event.created_at)
        .execute(&mut *tx)
        .await?;
        insert_attempt(&mut tx, &AttemptRow::from(attempt)).await?;
        tx.commit().await
    }
}
