//! `/api/hooks`: Logto's Management API routes for hooks, same paths and fields.

use std::sync::Arc;

use app::console::{DeliveryPort, HookPort, LogPort};
use app::model::delivery::{HookTest, HookTestResult, LogPage, LogQuery, Recover, Recovered};
use app::model::hook::{Hook, HookPatch, NewHook};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::ApiActor;
use super::error::{ApiJson, ApiQuery, ApiResult};
use super::AppState;
use crate::service::Service;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks", get(list).post(create))
        .route("/hooks/{id}", get(one).patch(update).delete(remove))
        .route("/hooks/{id}/signing-key", patch(rotate_signing_key))
        .route("/hooks/{id}/test", post(test))
        .route("/hooks/{id}/recent-logs", get(recent_logs))
        .route("/hooks/{id}/recover", post(recover))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatsQuery {
    #[serde(default)]
    include_execution_stats: bool,
}

async fn list(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Vec<Hook>>> {
    Ok(Json(
        service
            .list_hooks(&actor, query.include_execution_stats)
            .await?,
    ))
}

async fn create(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewHook>,
) -> ApiResult<(StatusCode, Json<Hook>)> {
    Ok((
        StatusCode::CREATED,
        Json(service.create_hook(&actor, input).await?),
    ))
}

async fn one(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(
        service
            .get_hook(&actor, &id, query.include_execution_stats)
            .await?,
    ))
}

async fn update(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<HookPatch>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(service.update_hook(&actor, &id, input).await?))
}

async fn remove(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service.delete_hook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_signing_key(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(service.rotate_signing_key(&actor, &id).await?))
}

/// Sends a sample of each event to the hook now and answers with what came back.
async fn test(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<HookTest>,
) -> ApiResult<Json<HookTestResult>> {
    Ok(Json(service.test_hook(&actor, &id, input).await?))
}

/// Attempts newest first, filtered and paged; `Total-Number` says how many match.
async fn recent_logs(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<(
    [(&'static str, String); 1],
    Json<Vec<app::model::delivery::AttemptSummary>>,
)> {
    let LogPage { attempts, total } = service.recent_logs(&actor, &id, query).await?;
    Ok(([("total-number", total.to_string())], Json(attempts)))
}

/// Resends every failed delivery of the hook in `[since, until)`.
async fn recover(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(range): ApiJson<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(service.recover(&actor, &id, range, false).await?),
    ))
}
