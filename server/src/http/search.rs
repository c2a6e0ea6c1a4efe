//! `/api/search`: events and deliveries by id, idempotency key or payload
//! words, across every hook.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use domain::ports::SearchPort;
use domain::search::{SearchMatch, SearchPage, SearchQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiActor;
use super::error::{ApiQuery, ApiResult};
use super::openapi::{BadRequest, Unauthorized};
use super::AppState;
use crate::service::Service;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// Events and their deliveries whose event id, delivery id (`webhook-id`),
/// `Idempotency-Key` or payload words match `q`, newest first, filtered and
/// paged as recent-logs. One match per delivery; an event no hook took is
/// one match with `deliveryId`, `hookId`, `hookName` and `state` null. A
/// delivery id finds that delivery alone. Payload words are matched whole,
/// as one phrase, among the newest 1,000 events holding them.
/// `Total-Number` says how many match, counted up to 1,000
/// (`Total-Number-Capped: true` when more do).
#[utoipa::path(
    get,
    path = "/search",
    operation_id = "search",
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of matches, newest first", body = Vec<SearchMatch>,
         headers(
             ("Total-Number" = i64, description = "How many matches there are, at most 1,000"),
             ("Total-Number-Capped" = bool, description = "`true` when more than 1,000 match"),
         )),
        BadRequest,
        Unauthorized
    )
)]
async fn search(
    State(service): State<Arc<Service>>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<([(&'static str, String); 2], Json<Vec<SearchMatch>>)> {
    let SearchPage {
        matches,
        total,
        total_capped,
    } = service.search(&actor, query).await?;
    Ok((
        [
            ("total-number", total.to_string()),
            ("total-number-capped", total_capped.to_string()),
        ],
        Json(matches),
    ))
}
