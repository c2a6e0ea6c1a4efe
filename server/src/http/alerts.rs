//! `/api/settings/alerts`: where alerts go and when a hook counts as
//! failing; `/api/incidents`: what the alert watch found (README, "Alerts").

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::alert::{AlertSettings, AlertSettingsInput, Incident, IncidentQuery};
use domain::ports::AlertPort;
use domain::AppError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiJson, ApiQuery, ApiResult};
use super::openapi::{BadRequest, NotFound, Unauthorized};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings, delete_settings))
        .routes(routes!(list_incidents))
}

/// The alert settings; 404 while alerts are off. Viewers get the URL's
/// origin only.
#[utoipa::path(
    get,
    path = "/settings/alerts",
    operation_id = "getAlertSettings",
    tag = "alerts",
    responses(
        (status = 200, description = "The settings in force", body = AlertSettings),
        Unauthorized,
        NotFound
    )
)]
async fn get_settings(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<AlertSettings>> {
    let settings = service
        .alert_settings(&actor)
        .await?
        .ok_or_else(|| AppError::not_found("alert settings"))?;
    Ok(Json(settings))
}

/// Turn alerts on, or change them: `hook.failing`, `hook.disabled`,
/// `hook.recovered` and `delivery.exhausted` go to `url`, through the
/// alerts hook (`hookId`: its log, signing key and resends), which is
/// enabled again by every save.
#[utoipa::path(
    put,
    path = "/settings/alerts",
    operation_id = "putAlertSettings",
    tag = "alerts",
    request_body = AlertSettingsInput,
    responses(
        (status = 200, description = "The settings now in force", body = AlertSettings),
        BadRequest,
        Unauthorized,
    )
)]
async fn put_settings(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<AlertSettingsInput>,
) -> ApiResult<Json<AlertSettings>> {
    Ok(Json(service.save_alert_settings(&actor, input).await?))
}

/// Turn alerts off: the alerts hook and its log go too.
#[utoipa::path(
    delete,
    path = "/settings/alerts",
    operation_id = "deleteAlertSettings",
    tag = "alerts",
    responses(
        (status = 204, description = "Alerts are off"),
        Unauthorized,
        NotFound
    )
)]
async fn delete_settings(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
) -> ApiResult<StatusCode> {
    service.remove_alert_settings(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Incidents, newest first: a hook failing, disabled by the dispatcher,
/// or letting deliveries run out of retries, from when it began until it
/// ended (`resolvedAt`, null while it lasts).
#[utoipa::path(
    get,
    path = "/incidents",
    operation_id = "listIncidents",
    tag = "alerts",
    params(IncidentQuery),
    responses(
        (status = 200, description = "The incidents asked for", body = Vec<Incident>),
        BadRequest,
        Unauthorized
    )
)]
async fn list_incidents(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<IncidentQuery>,
) -> ApiResult<Json<Vec<Incident>>> {
    Ok(Json(service.incidents(&actor, query).await?))
}
