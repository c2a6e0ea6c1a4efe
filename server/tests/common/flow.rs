//! The steps most delivery tests take: add a hook, ingest an event, wait for
//! its delivery to get somewhere.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::TestApp;

/// Long enough for any delivery in these tests, short enough to fail fast.
pub const WAIT: Duration = Duration::from_secs(10);

/// Creates a hook for `events` posting to `url`; returns its JSON.
pub async fn add_hook(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let response = app
        .create_hook(json!({ "name": "receiver", "events": events, "config": { "url": url } }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub async fn ingest(app: &TestApp, body: Value) -> reqwest::Response {
    app.api(Method::POST, "/api/events")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Ingests `body`, which must be accepted; returns the answer.
pub async fn ingest_ok(app: &TestApp, body: Value) -> Value {
    let response = ingest(app, body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.json().await.unwrap()
}

/// Polls a delivery until `done` holds for it (panics after `within`).
pub async fn delivery_when(
    app: &TestApp,
    id: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let delivery = app.get_json(&format!("/api/deliveries/{id}")).await;
        if done(&delivery) {
            return delivery;
        }
        assert!(
            Instant::now() < deadline,
            "delivery never got there: {delivery:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The only delivery of event `event_id`.
pub async fn only_delivery(app: &TestApp, event_id: &str) -> String {
    let event = app.get_json(&format!("/api/events/{event_id}")).await;
    let deliveries = event["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{event:#}");
    deliveries[0]["id"].as_str().unwrap().to_owned()
}

pub async fn finished(app: &TestApp, delivery_id: &str, within: Duration) -> Value {
    delivery_when(app, delivery_id, within, |d| d["state"] != "pending").await
}

pub fn attempts(delivery: &Value) -> &Vec<Value> {
    delivery["attempts"].as_array().unwrap()
}
