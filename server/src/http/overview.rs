//! `/api/overview`: the whole system at a glance, as the console's home page
//! shows it.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use domain::overview::Overview;
use domain::ports::OverviewPort;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::ApiResult;
use super::openapi::Unauthorized;
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(overview))
}

/// Requests and success rate over the last hour and day (by hour), the
/// deliveries waiting and the age of the oldest, attempts in flight,
/// instances alive, and the hooks that need attention (disabled, failing,
/// or an ordered hook held by a failing delivery; at most 100 of each).
#[utoipa::path(
    get,
    path = "/overview",
    operation_id = "getOverview",
    tag = "overview",
    responses(
        (status = 200, description = "The system now", body = Overview),
        Unauthorized
    )
)]
async fn overview(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Overview>> {
    Ok(Json(service.overview(&actor).await?))
}
