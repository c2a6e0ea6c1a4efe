//! `/api/event-types`: the catalog, built-in and custom.

use std::sync::Arc;

use app::console::EventTypePort;
use app::model::event_type::{EventTypeInfo, NewEventType};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::auth::ApiActor;
use super::error::{ApiJson, ApiResult};
use super::AppState;
use crate::service::Service;

pub fn routes() -> Router<AppState> {
    Router::new().route("/event-types", get(list).post(create))
}

async fn list(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<EventTypeInfo>>> {
    Ok(Json(service.list_event_types(&actor).await?))
}

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
