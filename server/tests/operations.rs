//! What operators rely on, on both databases: `/metrics`, the retention
//! sweep and its console setting.

mod common;

use std::time::Duration;

use common::flow::{add_hook, finished, ingest_ok, only_delivery, WAIT};
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, TestApp};
use domain::user::Role;
use hookline::clock::now_ms;
use hookline::store::NewEvent;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const DAY_MS: i64 = 24 * 3600 * 1000;
const PASSWORD: &str = "correct horse battery";

/// The value of the sample `name` (labels included, as printed) in `/metrics`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_events_attempts_and_failures_for_api_keys_only() {
    let app = spawn_app().await;
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let healthy = Receiver::start(Reply::status(204)).await;
    let broken = Receiver::start(Reply::status(503)).await;
    add_hook(&app, &healthy.url, &["User.Created"]).await;
    let failing = add_hook(&app, &broken.url, &["Role.Created"]).await;
    let ok = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    finished(
        &app,
        &only_delivery(&app, ok["id"].as_str().unwrap()).await,
        WAIT,
    )
    .await;
    ingest_ok(&app, json!({ "event": "Role.Created" })).await;
    broken.wait_for(1, WAIT).await;

    // The failure is logged shortly after the receiver answered.
    let deadline = std::time::Instant::now() + WAIT;
    let text = loop {
        let response = app.call(Method::GET, "/metrics").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = response.text().await.unwrap();
        if sample(
            &text,
            r#"hookline_attempts_total{outcome="failure",status_class="5xx"}"#,
        )
        .is_some()
        {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        sample(&text, "hookline_events_ingested_total"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"hookline_attempts_total{outcome="success",status_class="2xx"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"hookline_attempt_duration_seconds_count{outcome="success"}"#
        ),
        Some(1.0),
        "{text}"
    );
    let hook_id = failing["id"].as_str().unwrap();
    assert!(
        sample(
            &text,
            &format!(r#"hookline_hook_failures_total{{hook_id="{hook_id}"}}"#)
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // The failed delivery waits for its retry: the queue shows it.
    assert_eq!(
        sample(&text, "hookline_deliveries_pending"),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "hookline_oldest_pending_age_seconds").is_some(),
        "{text}"
    );
}

/// Stores an event as if it had arrived `days_ago`, with a delivery to each
/// hook listening to it; returns the event id.
async fn old_event(app: &TestApp, name: &str, days_ago: i64) -> String {
    let id = format!("old-{name}-{days_ago}");
    app.service
        .store()
        .ingest_event(
            NewEvent {
                id: id.clone().into(),
                name: name.to_owned(),
                payload: "{}".to_owned(),
                created_at: now_ms() - days_ago * DAY_MS,
                trace_parent: None,
            },
            None,
        )
        .await
        .unwrap();
    app.service.dispatcher().wake();
    id
}

async fn event_status(app: &TestApp, id: &str) -> StatusCode {
    app.call(Method::GET, &format!("/api/events/{id}"))
        .await
        .status()
}

async fn retention_forgets_old_finished_events_and_the_console_sets_the_window() {
    let app = spawn_app().await; // retries after 1 s, then 2 s
    let answering = Receiver::start(Reply::status(200)).await;
    let failing = Receiver::start(Reply::status(500)).await;
    add_hook(&app, &answering.url, &["User.Created"]).await;
    add_hook(&app, &failing.url, &["Role.Created"]).await;

    let twenty_days = old_event(&app, "User.Created", 20).await;
    let sixty_days = old_event(&app, "User.Created", 60).await;
    let still_retried = old_event(&app, "Role.Created", 30).await;
    let fresh = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    let fresh = fresh["id"].as_str().unwrap().to_owned();
    for event in [&twenty_days, &sixty_days, &fresh] {
        finished(&app, &only_delivery(&app, event).await, WAIT).await;
    }
    failing.wait_for(1, WAIT).await;

    // An admin keeps the log for 30 days: only the 60-day-old event goes.
    app.add_user("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let admin = app.sign_in("admin@example.com", PASSWORD).await;
    let saved: Value = app
        .rpc_form("save_retention", Some(&admin), &[("days", "30")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["effectiveMs"], 30 * DAY_MS);
    assert_eq!(saved["defaultMs"], 14 * DAY_MS);
    assert_eq!(saved["saved"], true);
    let delivery_of_sixty = only_delivery(&app, &sixty_days).await;
    assert_eq!(app.service.sweep_expired().await.unwrap(), 1);
    assert_eq!(event_status(&app, &sixty_days).await, StatusCode::NOT_FOUND);
    let gone = app
        .call(Method::GET, &format!("/api/deliveries/{delivery_of_sixty}"))
        .await;
    assert_eq!(
        gone.status(),
        StatusCode::NOT_FOUND,
        "its delivery and attempts went too"
    );
    assert_eq!(event_status(&app, &twenty_days).await, StatusCode::OK);

    // Back to the server's default (14 days): the 20-day-old event goes; the
    // one still being retried stays until it finishes, and today's stays.
    let reset: Value = app
        .rpc_form("save_retention", Some(&admin), &[("days", "")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reset["saved"], false);
    assert_eq!(reset["effectiveMs"], 14 * DAY_MS);
    assert_eq!(app.service.sweep_expired().await.unwrap(), 1);
    assert_eq!(
        event_status(&app, &twenty_days).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(event_status(&app, &still_retried).await, StatusCode::OK);
    assert_eq!(event_status(&app, &fresh).await, StatusCode::OK);

    // Out-of-range days are refused, naming the field; nothing changes.
    for days in ["0", "3651", "soon"] {
        let refused = app
            .rpc_form("save_retention", Some(&admin), &[("days", days)])
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{days}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["field"], "days", "{body}");
    }
    let current: Value = app
        .rpc_form("get_retention", Some(&admin), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["saved"], false);
}

crate::on_both_databases!(
    metrics_count_events_attempts_and_failures_for_api_keys_only,
    retention_forgets_old_finished_events_and_the_console_sets_the_window,
);
