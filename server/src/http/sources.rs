//! `/api/sources`: systems whose webhooks Hookline takes in as events, and
//! `POST /api/sources/:id/events`, where a Logto webhook posts (checked by
//! Logto's signature, not an API key).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use domain::delivery::{Ingested, EVENT_BODY_LIMIT};
use domain::ids::SourceId;
use domain::ports::{PublicOrigin, SourcePort};
use domain::source::{NewSource, Source};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiBody, ApiJson, ApiPath, ApiResult};
use super::openapi::{
    BadRequest, LogtoBody, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(remove))
        // Room over the limit, so the service answers an oversized event with its own 413.
        .routes(routes!(take).layer(DefaultBodyLimit::max(EVENT_BODY_LIMIT + 1)))
}

/// Every source, newest first (their signing keys are never sent back).
#[utoipa::path(
    get,
    path = "/sources",
    operation_id = "listSources",
    tag = "sources",
    responses((status = 200, description = "Every source", body = Vec<Source>), Unauthorized)
)]
async fn list(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Extension(PublicOrigin(origin)): Extension<PublicOrigin>,
) -> ApiResult<Json<Vec<Source>>> {
    Ok(Json(service.list_sources(&actor, &origin).await?))
}

/// Add a source: `url` is what to paste into the Logto webhook's endpoint.
#[utoipa::path(
    post,
    path = "/sources",
    operation_id = "createSource",
    tag = "sources",
    request_body = NewSource,
    responses(
        (status = 201, description = "The new source", body = Source),
        BadRequest,
        Unauthorized
    )
)]
async fn create(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Extension(PublicOrigin(origin)): Extension<PublicOrigin>,
    ApiJson(input): ApiJson<NewSource>,
) -> ApiResult<(StatusCode, Json<Source>)> {
    let source = service.create_source(&actor, input, &origin).await?;
    Ok((StatusCode::CREATED, Json(source)))
}

/// Remove a source: its URL answers 404 from now on.
#[utoipa::path(
    delete,
    path = "/sources/{id}",
    operation_id = "deleteSource",
    tag = "sources",
    params(("id" = String, Path, description = "The source's id")),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, NotFound)
)]
async fn remove(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<SourceId>,
) -> ApiResult<StatusCode> {
    service.delete_source(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A Logto webhook's request, exactly as Logto sends it: checked against
/// `logto-signature-sha-256` (hex HMAC-SHA256 of the raw body with the
/// source's signing key), then taken in as an event named by the body's
/// `event`, its other fields kept (Logto's `hookId` and `createdAt` give way
/// to Hookline's). The same body again within 24 h makes no second event.
#[utoipa::path(
    post,
    path = "/sources/{id}/events",
    operation_id = "takeFromSource",
    tag = "sources",
    security(()),
    params(
        ("id" = String, Path, description = "The source's id"),
        ("logto-signature-sha-256" = String, Header, description = "Hex HMAC-SHA256 of the body")
    ),
    request_body(content = LogtoBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Stored (or a repeat of a stored one); delivery goes on", body = Ingested),
        BadRequest, Unauthorized, NotFound, PayloadTooLarge, ServiceUnavailable
    )
)]
async fn take(
    State(service): State<Arc<Service>>,
    ApiPath(id): ApiPath<SourceId>,
    headers: HeaderMap,
    ApiBody(body): ApiBody,
) -> ApiResult<(StatusCode, Json<Ingested>)> {
    let signature = headers
        .get("logto-signature-sha-256")
        .and_then(|value| value.to_str().ok());
    let ingested = service.take_from_source(&id, signature, &body).await?;
    Ok((StatusCode::ACCEPTED, Json(ingested)))
}
