//! `/api/deliveries`: one delivery with every attempt.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::delivery::Delivery;
use domain::ids::DeliveryId;
use domain::ports::{DeliveryPort, LogPort};
use domain::AppError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiPath, ApiResult};
use super::openapi::{BadRequest, NotFound, Unauthorized};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(one))
        .routes(routes!(resend))
        .routes(routes!(skip))
}

/// One delivery with every attempt, oldest first.
#[utoipa::path(
    get,
    path = "/deliveries/{id}",
    operation_id = "getDelivery",
    tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id (its `webhook-id`)")),
    responses(
        (status = 200, description = "The delivery", body = Delivery),
        BadRequest,
        Unauthorized,
        NotFound
    )
)]
async fn one(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<DeliveryId>,
) -> ApiResult<Json<Delivery>> {
    Ok(Json(service.get_delivery(&actor, &id).await?))
}

/// A new attempt now, on the same delivery (same `webhook-id`), trigger `manual`.
#[utoipa::path(
    post,
    path = "/deliveries/{id}/resend",
    operation_id = "resendDelivery",
    tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "The attempt is scheduled"),
        BadRequest,
        Unauthorized,
        NotFound,
        (status = 409, description = "An attempt is in flight, or the hook is disabled (`conflict`)",
         body = AppError)
    )
)]
async fn resend(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<DeliveryId>,
) -> ApiResult<StatusCode> {
    service.resend(&actor, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Gives up on a pending delivery without an attempt: it ends as failed. What
/// lets an ordered hook's next delivery go when one keeps failing (README,
/// *Delivery policies*).
#[utoipa::path(
    post,
    path = "/deliveries/{id}/skip",
    operation_id = "skipDelivery",
    tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 204, description = "Skipped: the delivery failed"),
        BadRequest,
        Unauthorized,
        NotFound,
        (status = 409, description = "An attempt is in flight, or the delivery is not pending (`conflict`)",
         body = AppError)
    )
)]
async fn skip(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<DeliveryId>,
) -> ApiResult<StatusCode> {
    service.skip(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
