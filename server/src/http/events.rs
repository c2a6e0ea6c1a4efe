//! `/api/events`: ingestion (asynchronous or with `?wait=`) and reading an
//! event back with its deliveries.

use std::sync::Arc;
use std::time::Duration;

use app::console::DeliveryPort;
use app::model::delivery::{EventRecord, Ingested, EVENT_BODY_LIMIT};
use app::model::AppError;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::ApiActor;
use super::error::{ApiBody, ApiQuery, ApiResult};
use super::AppState;
use crate::service::Service;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/events",
            // A little room over the limit, so the service sees an oversized
            // event and answers with its own 413 message.
            post(ingest).layer(DefaultBodyLimit::max(EVENT_BODY_LIMIT + 1)),
        )
        .route("/events/{id}", get(one))
}

#[derive(Deserialize)]
struct IngestQuery {
    /// How long to wait for the first attempts, e.g. `5s` (at most 30 s).
    wait: Option<String>,
}

async fn ingest(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<IngestQuery>,
    headers: HeaderMap,
    ApiBody(body): ApiBody,
) -> ApiResult<(StatusCode, Json<Ingested>)> {
    let wait = query.wait.as_deref().map(parse_wait).transpose()?;
    let idempotency_key = match headers.get("idempotency-key") {
        Some(value) => Some(value.to_str().map_err(|_| {
            AppError::invalid("Idempotency-Key", "Idempotency-Key must be visible ASCII")
        })?),
        None => None,
    };
    let answer = service
        .ingest_event(&actor, &body, idempotency_key, wait)
        .await?;
    let status = if wait.is_some() && answer.complete {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(answer.ingested)))
}

fn parse_wait(text: &str) -> Result<Duration, AppError> {
    humantime::parse_duration(text)
        .map_err(|_| AppError::invalid("wait", format!("wait `{text}` is not a duration like 5s")))
}

async fn one(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<EventRecord>> {
    Ok(Json(service.get_event(&actor, &id).await?))
}
