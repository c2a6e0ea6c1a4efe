//! Per-hook delivery policies over real HTTP, on both databases: saved and
//! answered under their API names, checked when saved, and honoured by the
//! dispatcher (ordered delivery, a rate limit, a retry schedule and a
//! request timeout of the hook's own).

mod common;

use std::time::{Duration, Instant};

use common::flow::{attempts, finished, ingest_ok, only_delivery, WAIT};
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, valid_hook, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create(app: &TestApp, fields: Value) -> Value {
    let mut hook = valid_hook();
    for (key, value) in fields.as_object().unwrap() {
        hook[key] = value.clone();
    }
    let response = app.create_hook(hook).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn hook_to(app: &TestApp, url: &str, fields: Value) -> String {
    let mut all = json!({ "events": ["User.Created"], "config": { "url": url } });
    for (key, value) in fields.as_object().unwrap() {
        all[key] = value.clone();
    }
    create(app, all).await["id"].as_str().unwrap().to_owned()
}

async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn the_settings_round_trip_under_their_api_names() {
    let app = spawn_app().await;
    let policy = json!({
        "ordered": true,
        "rateLimit": { "perSecond": 2.5, "burst": 4 },
        "retrySchedule": ["10s", "1m 30s"],
        "requestTimeout": "5s"
    });
    let created = create(&app, policy.clone()).await;
    for key in ["ordered", "rateLimit", "retrySchedule", "requestTimeout"] {
        assert_eq!(created[key], policy[key], "{key}");
    }
    let id = created["id"].as_str().unwrap();
    let read = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_eq!(read["retrySchedule"], json!(["10s", "1m 30s"]));

    // Left out: kept. `null`: the server's again.
    let renamed: Value = patch(&app, id, json!({ "name": "Renamed" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["rateLimit"], policy["rateLimit"]);
    let reset: Value = patch(
        &app,
        id,
        json!({ "ordered": false, "rateLimit": null, "retrySchedule": null, "requestTimeout": null }),
    )
    .await
    .json()
    .await
    .unwrap();
    for (key, value) in [
        ("ordered", json!(false)),
        ("rateLimit", Value::Null),
        ("retrySchedule", Value::Null),
        ("requestTimeout", Value::Null),
    ] {
        assert_eq!(reset[key], value, "{key}");
    }

    // A hook created without them has the defaults, spelled out.
    let plain = create(&app, json!({})).await;
    assert_eq!(plain["ordered"], false);
    assert_eq!(plain["rateLimit"], Value::Null);
}

async fn bad_settings_are_a_400_naming_the_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    for (fields, named) in [
        (
            json!({ "rateLimit": { "perSecond": 0, "burst": 1 } }),
            "rateLimit.perSecond",
        ),
        (
            json!({ "rateLimit": { "perSecond": 5, "burst": 0 } }),
            "rateLimit.burst",
        ),
        (json!({ "rateLimit": { "perSecond": 5 } }), "burst"),
        (
            json!({ "retrySchedule": ["10s", "often"] }),
            "retrySchedule",
        ),
        (json!({ "retrySchedule": ["500ms"] }), "retrySchedule"),
        (json!({ "retrySchedule": vec!["1h"; 21] }), "retrySchedule"),
        (json!({ "retrySchedule": ["5d", "5d"] }), "retrySchedule"),
        (json!({ "requestTimeout": "2m" }), "requestTimeout"),
        (json!({ "requestTimeout": 5 }), "requestTimeout"),
        (json!({ "ordered": "yes" }), "ordered"),
    ] {
        let mut hook = valid_hook();
        for (key, value) in fields.as_object().unwrap() {
            hook[key] = value.clone();
        }
        let response = app.create_hook(hook).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(named), "{fields}: {message}");
    }
    let hooks = app.get_json("/api/hooks").await;
    assert_eq!(hooks.as_array().unwrap().len(), 0, "nothing was saved");

    let id = create(&app, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = patch(&app, &id, json!({ "name": "x", "requestTimeout": "0s" })).await;
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("requestTimeout"),
        "{error}"
    );
    let kept = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_ne!(kept["name"], "x", "the patch was refused whole");
}

async fn an_ordered_hook_delivers_one_at_a_time_in_ingestion_order() {
    let app = spawn_app().await;
    // The first request fails: the first event is tried again (after 1 s)
    // before any later one goes.
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(20))).await;
    receiver.script([Reply::status(500)]);
    hook_to(&app, &receiver.url, json!({ "ordered": true })).await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let answer = ingest_ok(&app, json!({ "event": "User.Created", "data": { "n": n } })).await;
        ids.push(answer["id"].as_str().unwrap().to_owned());
    }
    receiver.wait_for(13, WAIT * 2).await;
    let order = receiver.numbers();
    assert_eq!(
        order[..2],
        [0, 0],
        "the failed first event goes again first"
    );
    assert_eq!(order[1..], (0..12).collect::<Vec<_>>()[..]);
    assert_eq!(receiver.max_in_flight(), 1);
    for id in &ids {
        let delivery = only_delivery(&app, id).await;
        assert_eq!(finished(&app, &delivery, WAIT).await["state"], "delivered");
    }
}

async fn a_held_delivery_can_be_skipped_and_the_next_goes() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    // Fails until skipped: a schedule long enough to hold the rest back.
    receiver.script([Reply::status(500)]);
    hook_to(
        &app,
        &receiver.url,
        json!({ "ordered": true, "retrySchedule": ["1h"] }),
    )
    .await;
    let first = ingest_ok(&app, json!({ "event": "User.Created", "data": { "n": 0 } })).await;
    let second = ingest_ok(&app, json!({ "event": "User.Created", "data": { "n": 1 } })).await;
    receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.numbers(), [0], "the second waits on the first");

    let held = only_delivery(&app, first["id"].as_str().unwrap()).await;
    let skipped = app
        .call(Method::POST, &format!("/api/deliveries/{held}/skip"))
        .await;
    assert_eq!(skipped.status(), StatusCode::NO_CONTENT);
    receiver.wait_for(2, WAIT).await;
    assert_eq!(receiver.numbers(), [0, 1]);
    let skipped_delivery = app.get_json(&format!("/api/deliveries/{held}")).await;
    assert_eq!(skipped_delivery["state"], "failed");
    assert_eq!(
        attempts(&skipped_delivery).len(),
        1,
        "skipping is no attempt"
    );

    // Only a pending delivery can be skipped.
    let next = only_delivery(&app, second["id"].as_str().unwrap()).await;
    finished(&app, &next, WAIT).await;
    let again = app
        .call(Method::POST, &format!("/api/deliveries/{next}/skip"))
        .await;
    assert_error(again, StatusCode::CONFLICT, "conflict").await;
}

async fn a_rate_limited_hook_gets_no_more_than_its_limit() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    hook_to(
        &app,
        &receiver.url,
        json!({ "rateLimit": { "perSecond": 20, "burst": 5 } }),
    )
    .await;
    let started = Instant::now();
    // A burst of 200 events.
    for n in 0..200 {
        ingest_ok(&app, json!({ "event": "User.Created", "data": { "n": n } })).await;
    }
    let requests = receiver.wait_for(200, WAIT * 2).await;
    let times: Vec<Instant> = requests.iter().map(|r| r.at).collect();
    // Any second holds at most the rate and the burst.
    for (i, start) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(within <= 25, "{within} requests within a second");
    }
    // 195 after the burst at 20/s: no sooner than 9.75 s.
    assert!(
        started.elapsed() >= Duration::from_millis(9_500),
        "{:?}",
        started.elapsed()
    );
    let mut arrived = receiver.numbers();
    arrived.sort_unstable();
    assert_eq!(
        arrived,
        (0..200).collect::<Vec<_>>(),
        "none failed or was lost"
    );
}

async fn a_hooks_own_schedule_and_timeout_are_used() {
    let app = spawn_app().await;
    // The server's schedule has two retries; the hook's has none.
    let receiver = Receiver::start(Reply::status(503)).await;
    hook_to(&app, &receiver.url, json!({ "retrySchedule": [] })).await;
    let event = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    let delivery = only_delivery(&app, event["id"].as_str().unwrap()).await;
    let done = finished(&app, &delivery, WAIT).await;
    assert_eq!(done["state"], "failed");
    assert_eq!(attempts(&done).len(), 1);

    // The server's timeout is 2 s; the hook's is 1 s.
    let slow = Receiver::start(Reply::status(200).delay(Duration::from_millis(1600))).await;
    let mut hook = json!({ "events": ["Role.Created"], "config": { "url": slow.url } });
    hook["requestTimeout"] = json!("1s");
    hook["retrySchedule"] = json!([]);
    create(&app, hook).await;
    let event = ingest_ok(&app, json!({ "event": "Role.Created" })).await;
    let delivery = only_delivery(&app, event["id"].as_str().unwrap()).await;
    let done = finished(&app, &delivery, WAIT).await;
    let error = attempts(&done)[0]["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("timed out") && error.contains("within 1s"),
        "{error}"
    );
}

crate::on_both_databases!(
    the_settings_round_trip_under_their_api_names,
    bad_settings_are_a_400_naming_the_field_and_nothing_is_saved,
    an_ordered_hook_delivers_one_at_a_time_in_ingestion_order,
    a_held_delivery_can_be_skipped_and_the_next_goes,
    a_rate_limited_hook_gets_no_more_than_its_limit,
    a_hooks_own_schedule_and_timeout_are_used,
);
