//! A hook's log over the API: recent-logs and its filters, resend, recover,
//! the 24 h figures, and the event catalog with custom types.

mod common;

use std::time::Duration;

use common::flow::{
    add_hook, attempts, delivery_when, finished, ingest, ingest_ok, only_delivery, WAIT,
};
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, spawn_app_with, test_settings, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// GETs recent-logs with `query`; returns the rows and `Total-Number`, an
/// exact count for logs this small.
async fn recent_logs(app: &TestApp, hook_id: &str, query: &str) -> (Vec<Value>, i64) {
    let response = app
        .call(
            Method::GET,
            &format!("/api/hooks/{hook_id}/recent-logs?{query}"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    assert_eq!(response.headers()["total-number-capped"], "false");
    let total = response.headers()["total-number"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (response.json().await.unwrap(), total)
}

/// A hook whose receiver fails `User.Created` once then succeeds, and answers
/// every `Role.Created` at once; returns the hook id once 3 attempts are logged.
async fn hook_with_a_log(app: &TestApp) -> String {
    let receiver = Receiver::start(Reply::status(200)).await;
    receiver.script([Reply::status(500)]);
    let hook = add_hook(app, &receiver.url, &["User.Created", "Role.Created"]).await;
    let first = ingest_ok(app, json!({ "event": "User.Created" })).await;
    let delivery = only_delivery(app, first["id"].as_str().unwrap()).await;
    finished(app, &delivery, WAIT).await;
    let second = ingest_ok(app, json!({ "event": "Role.Created" })).await;
    let delivery = only_delivery(app, second["id"].as_str().unwrap()).await;
    finished(app, &delivery, WAIT).await;
    hook["id"].as_str().unwrap().to_owned()
}

async fn recent_logs_filter_page_and_count() {
    let app = spawn_app().await;
    let hook_id = hook_with_a_log(&app).await;

    let (all, total) = recent_logs(&app, &hook_id, "").await;
    assert_eq!(total, 3);
    let started: Vec<i64> = all
        .iter()
        .map(|a| a["startedAt"].as_i64().unwrap())
        .collect();
    assert!(started.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(all[0]["event"], "Role.Created");
    assert!(all[0].get("requestBody").is_none(), "rows are summaries");

    let (failed, total) = recent_logs(&app, &hook_id, "status=failed").await;
    assert_eq!((failed.len(), total), (1, 1));
    assert_eq!(failed[0]["responseStatus"], 500);
    let (ok, total) = recent_logs(&app, &hook_id, "status=success").await;
    assert_eq!((ok.len(), total), (2, 2));
    let (by_code, _) = recent_logs(&app, &hook_id, "status=500").await;
    assert_eq!(by_code[0]["id"], failed[0]["id"]);
    let (by_event, total) = recent_logs(&app, &hook_id, "event=User.Created").await;
    assert_eq!(total, 2);
    assert!(by_event.iter().all(|a| a["event"] == "User.Created"));
    let both = "event=User.Created&status=success";
    assert_eq!(recent_logs(&app, &hook_id, both).await.1, 1);

    let (page, total) = recent_logs(&app, &hook_id, "page=2&page_size=2").await;
    assert_eq!((page.len(), total), (1, 3));
    assert_eq!(page[0]["id"], all[2]["id"]);

    let newest = started[0];
    let (window, _) = recent_logs(&app, &hook_id, &format!("start_time={newest}")).await;
    assert_eq!(window.len(), 1);
    let (before, _) = recent_logs(&app, &hook_id, &format!("end_time={newest}")).await;
    assert_eq!(before.len(), 2);
}

async fn recent_logs_refuse_bad_filters() {
    let app = spawn_app().await;
    let hook = app
        .create_hook(common::valid_hook())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let id = hook["id"].as_str().unwrap();
    for (query, field) in [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("status=maybe", "status"),
        ("status=999", "status"),
        ("start_time=10&end_time=5", "start_time"),
    ] {
        let response = app
            .call(Method::GET, &format!("/api/hooks/{id}/recent-logs?{query}"))
            .await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert_eq!(error["field"], field, "{query}");
    }
    let not_a_number = app
        .call(
            Method::GET,
            &format!("/api/hooks/{id}/recent-logs?page=two"),
        )
        .await;
    assert_error(not_a_number, StatusCode::BAD_REQUEST, "invalid_input").await;
    let missing = app.call(Method::GET, "/api/hooks/nope/recent-logs").await;
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
}

async fn execution_stats_count_the_last_day_per_hook() {
    let app = spawn_app().await;
    let hook_id = hook_with_a_log(&app).await;
    let quiet = app
        .create_hook(common::valid_hook())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let hooks = app.get_json("/api/hooks?includeExecutionStats=true").await;
    let stats_of = |id: &str| {
        hooks
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .unwrap()["executionStats"]
            .clone()
    };
    assert_eq!(
        stats_of(&hook_id),
        json!({ "requestCount": 3, "successCount": 2 })
    );
    assert_eq!(
        stats_of(quiet["id"].as_str().unwrap()),
        json!({ "requestCount": 0, "successCount": 0 })
    );
    let one = app
        .get_json(&format!("/api/hooks/{hook_id}?includeExecutionStats=true"))
        .await;
    assert_eq!(one["executionStats"]["requestCount"], 3);
}

async fn resend_makes_a_new_attempt_on_the_same_delivery() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    add_hook(&app, &receiver.url, &["User.Created"]).await;
    let answer = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    finished(&app, &delivery_id, WAIT).await;
    let response = app
        .call(
            Method::POST,
            &format!("/api/deliveries/{delivery_id}/resend"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let delivery = delivery_when(&app, &delivery_id, WAIT, |d| {
        d["attemptCount"] == 2 && d["state"] == "delivered"
    })
    .await;
    let second = &attempts(&delivery)[1];
    assert_eq!(second["trigger"], "manual");
    assert_eq!(second["number"], 2);
    let requests = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        requests[0].header("webhook-id"),
        requests[1].header("webhook-id")
    );

    let missing = app.call(Method::POST, "/api/deliveries/nope/resend").await;
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
}

async fn resend_and_recover_refuse_a_disabled_hook() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(410)).await;
    let hook = add_hook(&app, &receiver.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    let answer = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    finished(&app, &delivery_id, WAIT).await;
    let resend = app
        .call(
            Method::POST,
            &format!("/api/deliveries/{delivery_id}/resend"),
        )
        .await;
    assert_error(resend, StatusCode::CONFLICT, "conflict").await;
    let recover = app
        .call_json(
            Method::POST,
            &format!("/api/hooks/{hook_id}/recover"),
            json!({ "since": 0 }),
        )
        .await;
    assert_error(recover, StatusCode::CONFLICT, "conflict").await;
}

async fn recover_resends_the_failed_deliveries_in_range() {
    let mut settings = test_settings();
    settings.retry_schedule = "".parse().unwrap(); // one attempt, then failed
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start(Reply::status(200)).await;
    receiver.script([Reply::status(500), Reply::status(500)]);
    let hook = add_hook(&app, &receiver.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    let mut deliveries = Vec::new();
    for _ in 0..2 {
        let answer = ingest_ok(&app, json!({ "event": "User.Created" })).await;
        let id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
        assert_eq!(finished(&app, &id, WAIT).await["state"], "failed");
        deliveries.push(id);
    }
    let recover = |body: Value| {
        app.api(Method::POST, &format!("/api/hooks/{hook_id}/recover"))
            .json(&body)
            .send()
    };
    let early = recover(json!({ "since": 0, "until": 1 })).await.unwrap();
    assert_eq!(early.status(), StatusCode::ACCEPTED);
    assert_eq!(
        early.json::<Value>().await.unwrap(),
        json!({ "deliveries": 0 })
    );
    let all = recover(json!({ "since": 0 })).await.unwrap();
    assert_eq!(all.status(), StatusCode::ACCEPTED);
    assert_eq!(
        all.json::<Value>().await.unwrap(),
        json!({ "deliveries": 2 })
    );
    for id in &deliveries {
        let delivery = delivery_when(&app, id, WAIT, |d| d["state"] == "delivered").await;
        assert_eq!(attempts(&delivery)[1]["trigger"], "manual");
    }
    let bad = recover(json!({ "since": 10, "until": 5 })).await.unwrap();
    let error = assert_error(bad, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(error["field"], "since");
    let no_since = recover(json!({})).await.unwrap();
    assert_error(no_since, StatusCode::BAD_REQUEST, "invalid_input").await;
}

async fn custom_event_types_are_listed_subscribed_to_and_validated() {
    let app = spawn_app().await;
    let types = app.get_json("/api/event-types").await;
    let types = types.as_array().unwrap();
    assert_eq!(types.len(), 31);
    assert_eq!(types[0]["group"], "User interaction");
    assert!(types.iter().all(|t| t["example"].is_object()));

    let schema = json!({
        "type": "object",
        "required": ["order"],
        "properties": { "order": { "type": "object",
            "properties": { "amount": { "type": "number" } } } }
    });
    let created = app
        .api(Method::POST, "/api/event-types")
        .json(
            &json!({ "name": "Order.Paid", "description": "An order was paid", "schema": schema }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let listed = app.get_json("/api/event-types").await;
    let custom = listed.as_array().unwrap().last().unwrap().clone();
    assert_eq!(custom["name"], "Order.Paid");
    assert_eq!(custom["group"], "Custom");
    assert_eq!(custom["schema"], schema);

    let receiver = Receiver::start(Reply::status(200)).await;
    add_hook(&app, &receiver.url, &["Order.Paid"]).await;
    let good = ingest_ok(
        &app,
        json!({ "event": "Order.Paid", "order": { "amount": 12.5 } }),
    )
    .await;
    assert_eq!(good["deliveries"], 1);
    let bad = ingest(
        &app,
        json!({ "event": "Order.Paid", "order": { "amount": "lots" } }),
    )
    .await;
    let error = assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "schema_mismatch").await;
    assert_eq!(error["field"], "/order/amount");
    let missing = ingest(&app, json!({ "event": "Order.Paid" })).await;
    assert_error(missing, StatusCode::UNPROCESSABLE_ENTITY, "schema_mismatch").await;
    receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.requests().len(),
        1,
        "refused events are not delivered"
    );

    let create = |body: Value| app.api(Method::POST, "/api/event-types").json(&body).send();
    let again = create(json!({ "name": "Order.Paid", "description": "x" }))
        .await
        .unwrap();
    assert_error(again, StatusCode::CONFLICT, "conflict").await;
    for (body, field) in [
        (json!({ "name": "order paid", "description": "x" }), "name"),
        (
            json!({ "name": "User.Created", "description": "x" }),
            "name",
        ),
        (
            json!({ "name": "Order.Shipped", "description": " " }),
            "description",
        ),
        (
            json!({ "name": "Order.Shipped", "description": "x", "schema": { "type": 12 } }),
            "schema",
        ),
    ] {
        let response = create(body.clone()).await.unwrap();
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert_eq!(error["field"], field, "{body}");
    }
}

async fn the_live_stream_announces_new_attempts_to_signed_in_users() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let hook = add_hook(&app, &receiver.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    let anonymous = app
        .client
        .get(app.url(&format!("/live/hooks/{hook_id}")))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let mut stream = app
        .open_live_stream(&format!("/live/hooks/{hook_id}"))
        .await;
    let answer = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    let delivery = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let mut seen = String::new();
    while !seen.contains("event: attempt") {
        let chunk = tokio::time::timeout(WAIT, stream.chunk())
            .await
            .expect("an event within the wait")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(&format!("data: {delivery}")), "{seen}");
}

async fn an_open_live_stream_does_not_hold_up_shutdown() {
    let app = spawn_app().await;
    let hook = app
        .create_hook(common::valid_hook())
        .await
        .json::<Value>()
        .await
        .unwrap();
    let stream = app
        .open_live_stream(&format!("/live/hooks/{}", hook["id"].as_str().unwrap()))
        .await;
    app.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), app.server)
        .await
        .expect("the server stops although a stream was open")
        .unwrap();
    drop(stream);
}

crate::on_both_databases!(
    recent_logs_filter_page_and_count,
    recent_logs_refuse_bad_filters,
    execution_stats_count_the_last_day_per_hook,
    resend_makes_a_new_attempt_on_the_same_delivery,
    resend_and_recover_refuse_a_disabled_hook,
    recover_resends_the_failed_deliveries_in_range,
    custom_event_types_are_listed_subscribed_to_and_validated,
    the_live_stream_announces_new_attempts_to_signed_in_users,
    an_open_live_stream_does_not_hold_up_shutdown,
);
