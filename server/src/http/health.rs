//! `GET /health`: open to all, so load balancers can probe it. 200 when the
//! database answers and the dispatcher runs, 503 otherwise; the body says
//! which, and how long the oldest waiting delivery has waited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::service::Service;

pub async fn health(State(service): State<Arc<Service>>) -> (StatusCode, Json<Value>) {
    let health = service.health().await;
    let (status, label) = if health.ok() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let mut body = json!({ "status": label, "version": env!("CARGO_PKG_VERSION") });
    if let (Some(body), Ok(Value::Object(details))) =
        (body.as_object_mut(), serde_json::to_value(&health))
    {
        body.extend(details);
    }
    (status, Json(body))
}
