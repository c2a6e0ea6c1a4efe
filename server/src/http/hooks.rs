//! `/api/hooks`: Logto's Management API routes for hooks, same paths and fields.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::delivery::{
    AttemptSummary, HookTest, HookTestResult, LogPage, LogQuery, Recover, Recovered,
};
use domain::hook::{Hook, HookPatch, NewHook};
use domain::ids::HookId;
use domain::lag::HookLag;
use domain::ports::{DeliveryPort, HookPort, LogPort};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use super::openapi::{BadRequest, Conflict, NotFound, PayloadTooLarge, Unauthorized};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, update, remove))
        .routes(routes!(rotate_signing_key))
        .routes(routes!(test))
        .routes(routes!(recent_logs))
        .routes(routes!(recover))
        .routes(routes!(lag))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// Add `executionStats`: requests and successes over the last 24 hours.
    #[serde(default)]
    include_execution_stats: bool,
}

/// Every hook.
#[utoipa::path(
    get,
    path = "/hooks",
    operation_id = "listHooks",
    tag = "hooks",
    params(StatsQuery),
    responses(
        (status = 200, description = "Every hook", body = Vec<Hook>),
        BadRequest,
        Unauthorized
    )
)]
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

/// Create a hook; the answer carries its signing key.
#[utoipa::path(
    post,
    path = "/hooks",
    operation_id = "createHook",
    tag = "hooks",
    request_body = NewHook,
    responses(
        (status = 201, description = "The new hook", body = Hook, links(
            ("getHook" = (operation_id = "getHook", parameters(("id" = "$response.body#/id")))),
            ("updateHook" = (operation_id = "updateHook", parameters(("id" = "$response.body#/id")))),
            ("rotateSigningKey" = (operation_id = "rotateSigningKey", parameters(("id" = "$response.body#/id")))),
            ("testHook" = (operation_id = "testHook", parameters(("id" = "$response.body#/id")))),
            ("recentLogs" = (operation_id = "recentLogs", parameters(("id" = "$response.body#/id")))),
            ("recoverHook" = (operation_id = "recoverHook", parameters(("id" = "$response.body#/id")))),
            ("hookLag" = (operation_id = "hookLag", parameters(("id" = "$response.body#/id")))),
            ("deleteHook" = (operation_id = "deleteHook", parameters(("id" = "$response.body#/id"))))
        )),
        BadRequest,
        Unauthorized,
        PayloadTooLarge
    )
)]
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

/// One hook.
#[utoipa::path(
    get,
    path = "/hooks/{id}",
    operation_id = "getHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id"), StatsQuery),
    responses(
        (status = 200, description = "The hook", body = Hook),
        BadRequest,
        Unauthorized,
        NotFound
    )
)]
async fn one(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(
        service
            .get_hook(&actor, &id, query.include_execution_stats)
            .await?,
    ))
}

/// Change any of `name`, `events`, `config` (replaced whole) and `enabled`.
/// The alerts hook is changed through `PUT /api/settings/alerts` (409 here).
#[utoipa::path(
    patch,
    path = "/hooks/{id}",
    operation_id = "updateHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id")),
    request_body = HookPatch,
    responses(
        (status = 200, description = "The hook as changed", body = Hook),
        BadRequest,
        Unauthorized,
        NotFound,
        Conflict,
        PayloadTooLarge
    )
)]
async fn update(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
    ApiJson(input): ApiJson<HookPatch>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(service.update_hook(&actor, &id, input).await?))
}

/// Delete a hook (the alerts hook goes with `DELETE /api/settings/alerts`: 409 here).
#[utoipa::path(
    delete,
    path = "/hooks/{id}",
    operation_id = "deleteHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id")),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest,
        Unauthorized,
        NotFound,
        Conflict
    )
)]
async fn remove(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
) -> ApiResult<StatusCode> {
    service.delete_hook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing key; the previous one keeps signing for the rotation overlap (24 h by default).
#[utoipa::path(
    patch,
    path = "/hooks/{id}/signing-key",
    operation_id = "rotateSigningKey",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id")),
    responses(
        (status = 200, description = "The hook with its new key", body = Hook),
        BadRequest,
        Unauthorized,
        NotFound
    )
)]
async fn rotate_signing_key(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
) -> ApiResult<Json<Hook>> {
    Ok(Json(service.rotate_signing_key(&actor, &id).await?))
}

/// Sends a sample of each event to the hook now and answers with what came back.
#[utoipa::path(
    post,
    path = "/hooks/{id}/test",
    operation_id = "testHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id")),
    request_body = HookTest,
    responses(
        (status = 200, description = "What the receiver answered, one outcome per event",
         body = HookTestResult),
        BadRequest,
        Unauthorized,
        NotFound,
        PayloadTooLarge
    )
)]
async fn test(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
    ApiJson(input): ApiJson<HookTest>,
) -> ApiResult<Json<HookTestResult>> {
    Ok(Json(service.test_hook(&actor, &id, input).await?))
}

/// Attempts newest first, filtered and paged; `Total-Number` says how many
/// match, counted up to 10,000 (`Total-Number-Capped: true` when more do).
#[utoipa::path(
    get,
    path = "/hooks/{id}/recent-logs",
    operation_id = "recentLogs",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id"), LogQuery),
    responses(
        (status = 200, description = "One page of attempts, newest first", body = Vec<AttemptSummary>,
         headers(
             ("Total-Number" = i64, description = "How many attempts match the filters, at most 10,000"),
             ("Total-Number-Capped" = bool, description = "`true` when more than 10,000 match"),
         )),
        BadRequest,
        Unauthorized,
        NotFound
    )
)]
async fn recent_logs(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<([(&'static str, String); 2], Json<Vec<AttemptSummary>>)> {
    let LogPage {
        attempts,
        total,
        total_capped,
    } = service.recent_logs(&actor, &id, query).await?;
    Ok((
        [
            ("total-number", total.to_string()),
            ("total-number-capped", total_capped.to_string()),
        ],
        Json(attempts),
    ))
}

/// Resends every failed delivery of the hook in `[since, until)`.
#[utoipa::path(
    post,
    path = "/hooks/{id}/recover",
    operation_id = "recoverHook",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id")),
    request_body = Recover,
    responses(
        (status = 202, description = "How many deliveries got a new attempt", body = Recovered),
        BadRequest,
        Unauthorized,
        NotFound,
        Conflict,
        PayloadTooLarge
    )
)]
async fn recover(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
    ApiJson(range): ApiJson<Recover>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(service.recover(&actor, &id, range, false).await?),
    ))
}

/// How long the hook's deliveries wait: the age of its oldest waiting one
/// (pending, whatever holds it: a retry not yet due, an ordered hook's
/// earlier delivery, a rate limit), and event age at first attempt over its
/// newest 1,000 first attempts of the last hour (test sends excluded).
#[utoipa::path(
    get,
    path = "/hooks/{id}/lag",
    operation_id = "hookLag",
    tag = "hooks",
    params(("id" = String, Path, description = "The hook's id")),
    responses(
        (status = 200, description = "The hook's lag now", body = HookLag),
        BadRequest,
        Unauthorized,
        NotFound
    )
)]
async fn lag(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<HookId>,
) -> ApiResult<Json<HookLag>> {
    Ok(Json(service.hook_lag(&actor, &id).await?))
}
