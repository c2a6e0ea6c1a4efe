//! `/api/event-types`: the catalog, built-in and custom.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::event_type::{EventTypeInfo, NewEventType};
use domain::ports::EventTypePort;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiJson, ApiResult};
use super::openapi::{BadRequest, Conflict, PayloadTooLarge, Unauthorized};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create))
}

/// The catalog: built-in types (group, description, example), then custom ones (schema).
#[utoipa::path(
    get,
    path = "/event-types",
    operation_id = "listEventTypes",
    tag = "event-types",
    responses(
        (status = 200, description = "Every event type", body = Vec<EventTypeInfo>),
        Unauthorized
    )
)]
async fn list(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<EventTypeInfo>>> {
    Ok(Json(service.list_event_types(&actor).await?))
}

/// Add a custom event type, optionally with a JSON Schema its events must match.
#[utoipa::path(
    post,
    path = "/event-types",
    operation_id = "createEventType",
    tag = "event-types",
    request_body = NewEventType,
    responses(
        (status = 201, description = "The new type", body = EventTypeInfo),
        BadRequest,
        Unauthorized,
        Conflict,
        PayloadTooLarge
    )
)]
async fn create(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewEventType>,
) -> ApiResult<(StatusCode, Json<EventTypeInfo>)> {
    Ok((
        StatusCode::CREATED,
        Json(service.create_event_type(&actor, input).await?),
    ))
}
