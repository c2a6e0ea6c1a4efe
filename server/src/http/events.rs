//! `/api/events`: ingestion (asynchronous or with `?wait=`) and reading an
//! event back with its deliveries.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use domain::delivery::{EventRecord, Ingested, EVENT_BODY_LIMIT};
use domain::ids::EventId;
use domain::ports::DeliveryPort;
use domain::AppError;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiBody, ApiPath, ApiQuery, ApiResult};
use super::openapi::{
    BadRequest, Conflict, EventBody, NotFound, PayloadTooLarge, SchemaMismatch, ServiceUnavailable,
    Unauthorized,
};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // A little room over the limit, so the service sees an oversized
        // event and answers with its own 413 message.
        .routes(routes!(ingest).layer(DefaultBodyLimit::max(EVENT_BODY_LIMIT + 1)))
        .routes(routes!(one))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IngestQuery {
    /// Synchronous mode: how long to wait for the first attempt of each
    /// delivery, e.g. `5s` (at most 30 s).
    #[param(example = "5s")]
    wait: Option<String>,
}

/// Ingest an event: it and one delivery per matching enabled hook are stored
/// before the answer. With `wait`, the answer is 200 with each delivery's first
/// outcome, or 202 with what is known when the wait runs out.
#[utoipa::path(
    post,
    path = "/events",
    operation_id = "ingestEvent",
    tag = "events",
    params(
        IngestQuery,
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
         description = "1 to 255 visible ASCII characters, remembered for 24 h per API key: \
                        a repeat gets the first answer and stores nothing")
    ),
    request_body(content = EventBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Synchronous mode: every delivery's first attempt is known", body = Ingested,
         links(("getEvent" = (operation_id = "getEvent", parameters(("id" = "$response.body#/id")))))),
        (status = 202, description = "Stored; delivery goes on", body = Ingested,
         links(("getEvent" = (operation_id = "getEvent", parameters(("id" = "$response.body#/id")))))),
        BadRequest, Unauthorized, Conflict, PayloadTooLarge, SchemaMismatch, ServiceUnavailable
    )
)]
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

/// An event (`payload` is the producer's fields) and its deliveries.
#[utoipa::path(
    get,
    path = "/events/{id}",
    operation_id = "getEvent",
    tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event", body = EventRecord, links(
            ("getDelivery" = (operation_id = "getDelivery",
                              parameters(("id" = "$response.body#/deliveries/0/id")))),
            ("resendDelivery" = (operation_id = "resendDelivery",
                                 parameters(("id" = "$response.body#/deliveries/0/id"))))
        )),
        BadRequest,
        Unauthorized,
        NotFound,
        ServiceUnavailable
    )
)]
async fn one(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<EventId>,
) -> ApiResult<Json<EventRecord>> {
    Ok(Json(service.get_event(&actor, &id).await?))
}
