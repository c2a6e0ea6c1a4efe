//! `GET /metrics`: Prometheus' text format, for an API key (a scrape config's
//! `authorization: {credentials: <key>}`), since per-hook figures name hooks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::auth::ApiActor;
use super::error::ApiResult;
use crate::service::Service;

pub async fn metrics(
    State(service): State<Arc<Service>>,
    ApiActor(_): ApiActor,
) -> ApiResult<impl IntoResponse> {
    let text = service.metrics_text().await?;
    Ok(([(CONTENT_TYPE, prometheus::TEXT_FORMAT)], text))
}
