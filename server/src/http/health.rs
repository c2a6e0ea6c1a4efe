//! `GET /health`: open to all, so load balancers can probe it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::service::Service;

pub async fn health(State(service): State<Arc<Service>>) -> (StatusCode, Json<Value>) {
    let database = service.database_answers().await;
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(
            json!({ "status": if database { "ok" } else { "unavailable" }, "database": database }),
        ),
    )
}
