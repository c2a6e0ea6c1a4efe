//! `/api/deliveries`: one delivery with every attempt.

use std::sync::Arc;

use app::console::{DeliveryPort, LogPort};
use app::model::delivery::Delivery;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::auth::ApiActor;
use super::error::ApiResult;
use super::AppState;
use crate::service::Service;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/deliveries/{id}", get(one))
        .route("/deliveries/{id}/resend", post(resend))
}

async fn one(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    Ok(Json(service.get_delivery(&actor, &id).await?))
}

/// A new attempt now, on the same delivery (same `webhook-id`).
async fn resend(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service.resend(&actor, &id).await?;
    Ok(StatusCode::ACCEPTED)
}
