//! `GET /api/search` on both databases: events and deliveries found by event
//! id, delivery id, idempotency key and payload words; the filters, order and
//! paging; retention taking events out of the index; bad and hostile input.

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

/// GETs `/api/search?{query}` (already URL-encoded); returns the matches and
/// `Total-Number`.
async fn search(app: &TestApp, query: &str) -> (Vec<Value>, i64) {
    let response = app.call(Method::GET, &format!("/api/search?{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    assert_eq!(response.headers()["total-number-capped"], "false");
    let total = response.headers()["total-number"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (response.json().await.unwrap(), total)
}

/// The event ids of the matches for `q`, in order.
async fn found(app: &TestApp, q: &str) -> Vec<String> {
    let query = format!("q={}", urlencoding(q));
    let (matches, total) = search(app, &query).await;
    assert_eq!(total, matches.len() as i64, "{q}");
    matches
        .iter()
        .map(|m| m["eventId"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Ingests `body` with an `Idempotency-Key`; returns the event id.
async fn ingest_with_key(app: &TestApp, body: Value, key: &str) -> String {
    let response = app
        .api(Method::POST, "/api/events")
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.unwrap();
    answer["id"].as_str().unwrap().to_owned()
}

async fn ingest_id(app: &TestApp, body: Value) -> String {
    // Apart by a few ms, so "newest first" has one answer.
    tokio::time::sleep(Duration::from_millis(3)).await;
    ingest_ok(app, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn finds_events_and_deliveries_by_id_key_and_payload_words() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let hook = add_hook(&app, &receiver.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();

    let order = ingest_with_key(
        &app,
        json!({ "event": "User.Created", "data": {
            "email": "alice@example.com", "userId": "u_8f3a2c", "order": "ORD-2024-00123" } }),
        "checkout-7f3e-2b",
    )
    .await;
    let other = ingest_id(
        &app,
        json!({ "event": "User.Created", "data": { "email": "bob@example.com" } }),
    )
    .await;
    // No hook listens to Role.Created: the event is found with no delivery.
    let unheard = ingest_id(
        &app,
        json!({ "event": "Role.Created", "data": { "by": "Alice@Example.com" } }),
    )
    .await;
    let delivery = only_delivery(&app, &order).await;
    finished(&app, &delivery, WAIT).await;

    // By event id: the event with its delivery, every field.
    let (matches, total) = search(&app, &format!("q={order}")).await;
    assert_eq!(total, 1);
    let event = app.get_json(&format!("/api/events/{order}")).await;
    assert_eq!(
        matches[0],
        json!({
            "eventId": order, "deliveryId": delivery, "hookId": hook_id, "hookName": "receiver",
            "event": "User.Created", "state": "delivered", "createdAt": event["createdAt"],
        })
    );
    // By delivery id (the webhook-id header) and by idempotency key.
    let (matches, _) = search(&app, &format!("q={delivery}")).await;
    assert_eq!(matches[0]["deliveryId"], delivery.as_str());
    assert_eq!(found(&app, &delivery).await, [order.as_str()]);
    assert_eq!(found(&app, "checkout-7f3e-2b").await, [order.as_str()]);
    // By payload words: an email (case and spaces aside), a user id, an
    // order number, newest first.
    assert_eq!(
        found(&app, "  ALICE@example.com ").await,
        [unheard.clone(), order.clone()]
    );
    assert_eq!(found(&app, "u_8f3a2c").await, [order.as_str()]);
    assert_eq!(found(&app, "ORD-2024-00123").await, [order.as_str()]);
    assert_eq!(found(&app, "bob@example.com").await, [other.as_str()]);
    assert!(found(&app, "carol@example.com").await.is_empty());
    assert!(found(&app, "ORD-2024-00124").await.is_empty());

    let (matches, _) = search(&app, "q=alice%40example.com").await;
    assert_eq!(matches[0]["eventId"], unheard.as_str());
    for field in ["deliveryId", "hookId", "hookName", "state"] {
        assert_eq!(matches[0][field], Value::Null, "{field}");
    }
}

async fn filters_order_and_pages() {
    let app = spawn_app().await;
    let answering = Receiver::start(Reply::status(200)).await;
    let failing = Receiver::start(Reply::status(503)).await;
    add_hook(&app, &answering.url, &["User.Created"]).await;
    add_hook(&app, &failing.url, &["Role.Created"]).await;
    let mut events = Vec::new();
    for (i, name) in [
        "User.Created",
        "Role.Created",
        "User.Created",
        "Role.Created",
        "User.Created",
    ]
    .into_iter()
    .enumerate()
    {
        events.push(
            ingest_id(
                &app,
                json!({ "event": name, "data": { "campaign": "spring-sale", "n": i } }),
            )
            .await,
        );
    }
    for event in &events[..] {
        let delivery = only_delivery(&app, event).await;
        if events.iter().position(|e| e == event).unwrap() % 2 == 0 {
            finished(&app, &delivery, WAIT).await;
        }
    }
    failing.wait_for(2, WAIT).await;
    let newest_first: Vec<String> = events.iter().rev().cloned().collect();
    assert_eq!(found(&app, "spring-sale").await, newest_first);

    let ids = |matches: Vec<Value>| -> Vec<String> {
        matches
            .iter()
            .map(|m| m["eventId"].as_str().unwrap().to_owned())
            .collect()
    };
    // Event type.
    let (matches, total) = search(&app, "q=spring-sale&event=Role.Created").await;
    assert_eq!(
        (ids(matches), total),
        (vec![events[3].clone(), events[1].clone()], 2)
    );
    // Outcome: the delivery's state, or a status code an attempt got.
    let (matches, _) = search(&app, "q=spring-sale&status=success").await;
    assert_eq!(
        ids(matches),
        [events[4].as_str(), events[2].as_str(), events[0].as_str()]
    );
    let (matches, _) = search(&app, "q=spring-sale&status=200").await;
    assert_eq!(matches.len(), 3);
    let (matches, _) = search(&app, "q=spring-sale&status=503").await;
    assert_eq!(ids(matches), [events[3].as_str(), events[1].as_str()]);
    let (matches, _) = search(&app, "q=spring-sale&status=pending").await;
    assert_eq!(matches.len(), 2);
    let (matches, _) = search(&app, "q=spring-sale&status=failed").await;
    assert!(matches.is_empty());
    // Time range: from the second event's time to the fourth's, exclusive.
    let created = |id: &str| {
        let app = &app;
        let id = id.to_owned();
        async move {
            app.get_json(&format!("/api/events/{id}")).await["createdAt"]
                .as_i64()
                .unwrap()
        }
    };
    let (start, end) = (created(&events[1]).await, created(&events[3]).await);
    let (matches, _) = search(
        &app,
        &format!("q=spring-sale&start_time={start}&end_time={end}"),
    )
    .await;
    assert_eq!(ids(matches), [events[2].as_str(), events[1].as_str()]);
    // Pages of two; the total counts every match.
    let (matches, total) = search(&app, "q=spring-sale&page_size=2&page=2").await;
    assert_eq!(
        (ids(matches), total),
        (vec![events[2].clone(), events[1].clone()], 5)
    );
    let (matches, _) = search(&app, "q=spring-sale&page_size=2&page=3").await;
    assert_eq!(ids(matches), [events[0].as_str()]);
    let (matches, total) = search(&app, "q=spring-sale&page=9").await;
    assert_eq!((matches.len(), total), (0, 5));
}

/// Stores an event as if it had come `days_ago`; no hook listens to it.
async fn old_event(app: &TestApp, id: &str, payload: Value, days_ago: i64) {
    app.service
        .store()
        .ingest_event(
            NewEvent {
                id: id.to_owned().into(),
                name: "Organization.Created".to_owned(),
                payload: payload.to_string(),
                created_at: now_ms() - days_ago * 24 * 3600 * 1000,
                trace_parent: None,
            },
            None,
        )
        .await
        .unwrap();
}

async fn retention_takes_events_out_of_the_index() {
    let app = spawn_app().await;
    // Both inside the default window of 14 days, which the server's own
    // sweep at start keeps.
    old_event(
        &app,
        "old-1",
        json!({ "data": { "email": "dana@example.com" } }),
        12,
    )
    .await;
    old_event(
        &app,
        "old-2",
        json!({ "data": { "email": "dana@example.com" } }),
        1,
    )
    .await;
    assert_eq!(found(&app, "dana@example.com").await, ["old-2", "old-1"]);

    let purged = app
        .service
        .store()
        .purge_events_before(now_ms() - 10 * 24 * 3600 * 1000, 500)
        .await
        .unwrap();
    assert_eq!(purged.events, 1);
    assert_eq!(found(&app, "dana@example.com").await, ["old-2"]);
    assert!(found(&app, "old-1").await.is_empty());
}

async fn bad_queries_are_400s_and_no_text_is_an_error() {
    let app = spawn_app().await;
    ingest_ok(
        &app,
        json!({ "event": "User.Created", "data": { "note": "a \"quoted\" word" } }),
    )
    .await;
    let long = "x".repeat(201);
    for (query, field) in [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        (&format!("q={long}") as &str, "q"),
        ("q=a%00b", "q"),
        ("q=a&status=ok", "status"),
        ("q=a&status=600", "status"),
        ("q=a&page=0", "page"),
        ("q=a&page_size=101", "page_size"),
        ("q=a&start_time=2&end_time=1", "start_time"),
        ("q=a&event=a%00b", "event"),
    ] {
        let response = app.call(Method::GET, &format!("/api/search?{query}")).await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    assert_error(
        app.call(Method::GET, "/api/search?q=a&page=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    // 200 characters is the cap, after trimming.
    let at_cap = format!("q=%20{}%20", "x".repeat(200));
    assert!(search(&app, &at_cap).await.0.is_empty());
    // FTS5 and tsquery syntax is only text.
    for hostile in [
        "\"",
        "\"\"",
        "a\" OR \"b",
        "*",
        "a*",
        "NEAR(a b)",
        "NEAR(",
        "-a",
        "a -b",
        "(a OR b",
        ")",
        "a AND",
        "NOT",
        "payload:a",
        "{a b}",
        "^a",
        "a & b | !c <-> d",
        "'",
        ":*",
        "\\",
        "%",
        "\u{7}\u{1b}[0m",
        "🦀 ü",
    ] {
        let response = app
            .call(
                Method::GET,
                &format!("/api/search?q={}", urlencoding(hostile)),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{hostile:?}");
    }
    assert_eq!(found(&app, "\"quoted\" word").await.len(), 1);
    // Without an API key, none.
    let anonymous = app
        .client
        .get(app.url("/api/search?q=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// The console's server function: a viewer may search.
async fn viewers_search_from_the_console() {
    const PASSWORD: &str = "a long password";
    let app = spawn_app().await;
    let event = ingest_id(
        &app,
        json!({ "event": "User.Created", "data": { "id": "u-77" } }),
    )
    .await;
    app.add_user("admin@example.com", PASSWORD, Role::Admin)
        .await;
    app.add_user("viewer@example.com", PASSWORD, Role::Viewer)
        .await;
    let viewer = app.sign_in("viewer@example.com", PASSWORD).await;
    let response = app
        .rpc_form("search", Some(&viewer), &[("q", "u-77")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["matches"][0]["eventId"], event.as_str());
    assert_eq!(page["total"], 1);
    let response = app.rpc_form("search", Some(&viewer), &[("q", "")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app.rpc_form("search", None, &[("q", "u-77")]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

crate::on_both_databases!(
    finds_events_and_deliveries_by_id_key_and_payload_words,
    filters_order_and_pages,
    retention_takes_events_out_of_the_index,
    bad_queries_are_400s_and_no_text_is_an_error,
    viewers_search_from_the_console,
);
