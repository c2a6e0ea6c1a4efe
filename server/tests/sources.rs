//! Logto as a source, on both databases: requests built as Logto builds
//! them (its header, its HMAC over the raw body, its body's fields) are taken
//! in and delivered to Hookline's hooks; a wrong signature or an unknown
//! source is refused and stores nothing; Logto's retry of the same body
//! makes no second event.

mod common;

use common::flow::{add_hook, WAIT};
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, TestApp};
use hmac::Mac;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const LOGTO_KEY: &str = "Vx2kXqJ0dLm8RfT3pWc9HsYb6NaE4uGz";

/// A body as Logto's webhook sends it (`JSON.stringify` of its payload).
fn logto_body(session: &str) -> String {
    json!({
        "hookId": "logto_hook_0123",
        "event": "PostRegister",
        "createdAt": "2026-12-02T10:00:00.000Z",
        "sessionId": session,
        "userAgent": "Mozilla/5.0",
        "userIp": "203.0.113.7",
        "user": { "id": "u_42", "primaryEmail": "ada@example.com" },
        "application": { "id": "app_1", "name": "Web" },
    })
    .to_string()
}

/// Logto's `logto-signature-sha-256`: hex HMAC-SHA256 of the body.
fn logto_signature(key: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn post_as_logto(url: &str, body: &str, signature: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Logto (https://logto.io/)")
        .header("logto-signature-sha-256", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn create_source(app: &TestApp) -> Value {
    let response = app
        .api(Method::POST, "/api/sources")
        .json(&json!({ "name": "Logto production", "kind": "logto", "signingKey": LOGTO_KEY }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// How many events a search for `session` finds (the payload index).
async fn events_with(app: &TestApp, session: &str) -> usize {
    let found = app.get_json(&format!("/api/search?q={session}")).await;
    found.as_array().expect("a list of matches").len()
}

async fn logtos_requests_are_taken_in_and_delivered_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(204)).await;
    let hook = add_hook(&app, &receiver.url, &["PostRegister"]).await;
    let source = create_source(&app).await;
    assert_eq!(source["kind"], "logto");
    assert!(source.get("signingKey").is_none(), "{source}");
    let url = source["url"].as_str().unwrap();
    let id = source["id"].as_str().unwrap();
    assert_eq!(url, app.url(&format!("/api/sources/{id}/events")));
    assert_eq!(app.get_json("/api/sources").await[0]["url"], url);

    let body = logto_body("sess_first");
    let taken = post_as_logto(url, &body, &logto_signature(LOGTO_KEY, &body)).await;
    assert_eq!(taken.status(), StatusCode::ACCEPTED);
    let taken: Value = taken.json().await.unwrap();
    assert_eq!(taken["deliveries"], 1);

    // The receiver gets Hookline's hookId and every other field Logto sent.
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    let delivered = request.json();
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(delivered["hookId"], hook["id"]);
    assert_eq!(delivered["event"], "PostRegister");
    for field in ["sessionId", "userAgent", "userIp", "user", "application"] {
        assert_eq!(delivered[field], sent[field], "{field}");
    }

    // Logto sending the same body again is a retry: the same event, no second.
    let again = post_as_logto(url, &body, &logto_signature(LOGTO_KEY, &body)).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], taken["id"]);
    assert_eq!(events_with(&app, "sess_first").await, 1);
}

async fn a_wrong_signature_or_an_unknown_source_stores_nothing() {
    let app = spawn_app().await;
    let source = create_source(&app).await;
    let url = source["url"].as_str().unwrap();
    let body = logto_body("sess_refused");
    for signature in [
        logto_signature("another key", &body),
        "zz".to_owned(),
        String::new(),
    ] {
        let refused = post_as_logto(url, &body, &signature).await;
        assert_error(refused, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let unknown = app.url("/api/sources/no-such-source/events");
    let refused = post_as_logto(&unknown, &body, &logto_signature(LOGTO_KEY, &body)).await;
    assert_error(refused, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(events_with(&app, "sess_refused").await, 0);

    // Signed right, but not an event Hookline knows: a 400 naming it.
    let odd = json!({ "hookId": "h", "event": "Nope.Happened", "createdAt": "x" }).to_string();
    let refused = post_as_logto(url, &odd, &logto_signature(LOGTO_KEY, &odd)).await;
    let body = assert_error(refused, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert!(
        body["message"].as_str().unwrap().contains("Nope.Happened"),
        "{body}"
    );

    // A removed source's URL is gone.
    let id = source["id"].as_str().unwrap();
    let removed = app
        .api(Method::DELETE, &format!("/api/sources/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let body = logto_body("sess_after");
    let gone = post_as_logto(url, &body, &logto_signature(LOGTO_KEY, &body)).await;
    assert_error(gone, StatusCode::NOT_FOUND, "not_found").await;
}

async fn a_source_needs_a_name_a_kind_and_a_key() {
    let app = spawn_app().await;
    for (input, field) in [
        (
            json!({ "name": "", "kind": "logto", "signingKey": "k" }),
            "name",
        ),
        (
            json!({ "name": "L", "kind": "logto", "signingKey": " " }),
            "signingKey",
        ),
        (
            json!({ "name": "L", "kind": "svix", "signingKey": "k" }),
            "kind",
        ),
    ] {
        let refused = app
            .api(Method::POST, "/api/sources")
            .json(&input)
            .send()
            .await
            .unwrap();
        let body = assert_error(refused, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{field}: {body}"
        );
    }
    assert_eq!(app.get_json("/api/sources").await, json!([]));
}

crate::on_both_databases!(
    logtos_requests_are_taken_in_and_delivered_once,
    a_wrong_signature_or_an_unknown_source_stores_nothing,
    a_source_needs_a_name_a_kind_and_a_key,
);
