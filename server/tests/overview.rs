//! The overview (`GET /api/overview`, the console's home page), on both
//! databases: requests and success rate, the work waiting and in flight,
//! instances, and the hooks that need attention; and its live stream.

mod common;

use std::time::{Duration, Instant};

use common::flow::{finished, ingest_ok, only_delivery, WAIT};
use common::receiver::{Receiver, Reply};
use common::{assert_error, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn hook(app: &TestApp, name: &str, event: &str, url: &str, policy: Value) -> String {
    let mut body = json!({ "name": name, "events": [event], "config": { "url": url } });
    for (key, value) in policy.as_object().unwrap() {
        body[key] = value.clone();
    }
    let response = app.create_hook(body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Ingests one `event` and waits until its only delivery has an attempt.
async fn attempted(app: &TestApp, event: &str) -> String {
    let answer = ingest_ok(app, json!({ "event": event })).await;
    let delivery = only_delivery(app, answer["id"].as_str().unwrap()).await;
    common::flow::delivery_when(app, &delivery, WAIT, |d| d["attemptCount"] != 0).await;
    delivery
}

/// Polls the overview until `ready` holds for it.
async fn overview_when(app: &TestApp, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let overview = app.get_json("/api/overview").await;
        if ready(&overview) {
            return overview;
        }
        assert!(Instant::now() < deadline, "never ready: {overview:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_overview_counts_requests_waiting_work_and_hooks_needing_attention() {
    let app = common::spawn_app().await;
    let anonymous = app
        .client
        .get(app.url("/api/overview"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // This process's dispatcher says it is alive within a beat.
    let empty = overview_when(&app, |o| o["instances"] == 1).await;
    assert_eq!(empty["lastDay"]["requestCount"], 0);
    assert_eq!(empty["waiting"], 0);
    assert_eq!(empty["oldestWaitingAt"], Value::Null);
    assert_eq!(empty["chart"].as_array().unwrap().len(), 24);
    assert_eq!(empty["attention"], json!([]));

    let ok = Receiver::start(Reply::status(200)).await;
    let gone = Receiver::start(Reply::status(410)).await;
    let down = Receiver::start(Reply::status(500)).await;
    let later = json!({ "retrySchedule": ["1h"] });
    hook(&app, "healthy", "User.Created", &ok.url, json!({})).await;
    let gone_id = hook(&app, "gone", "User.Deleted", &gone.url, json!({})).await;
    let down_id = hook(&app, "down", "Role.Created", &down.url, later.clone()).await;
    let held_id = hook(
        &app,
        "held",
        "Role.Deleted",
        &down.url,
        json!({ "ordered": true, "retrySchedule": ["1h"] }),
    )
    .await;
    for _ in 0..3 {
        let delivery = attempted(&app, "User.Created").await;
        finished(&app, &delivery, WAIT).await;
    }
    attempted(&app, "User.Deleted").await;
    attempted(&app, "Role.Created").await;
    let held_delivery = attempted(&app, "Role.Deleted").await;
    // Waits behind the held one, never attempted.
    ingest_ok(&app, json!({ "event": "Role.Deleted" })).await;

    let overview = overview_when(&app, |o| o["lastHour"]["requestCount"] == 6).await;
    assert_eq!(overview["lastHour"]["successCount"], 3);
    assert_eq!(overview["lastDay"], overview["lastHour"]);
    let charted: i64 = overview["chart"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| bucket["requests"].as_i64().unwrap())
        .sum();
    assert_eq!(charted, 6);
    assert_eq!(overview["waiting"], 3, "{overview:#}");
    let oldest = overview["oldestWaitingAt"].as_i64().unwrap();
    assert!(oldest <= overview["at"].as_i64().unwrap());

    let attention = overview["attention"].as_array().unwrap();
    let listed: Vec<(&str, &str)> = attention
        .iter()
        .map(|hook| {
            (
                hook["hookName"].as_str().unwrap(),
                hook["reason"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    // Most urgent first, each hook once: the held hook fails too.
    assert_eq!(
        listed,
        [("gone", "disabled"), ("held", "held"), ("down", "failing")]
    );
    assert_eq!(attention[0]["hookId"], gone_id.as_str());
    assert!(
        attention[0]["reason"]["reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{attention:#?}"
    );
    assert_eq!(attention[1]["hookId"], held_id.as_str());
    assert_eq!(attention[1]["reason"]["deliveryId"], held_delivery.as_str());
    assert_eq!(attention[1]["reason"]["attemptCount"], 1);
    assert_eq!(attention[2]["hookId"], down_id.as_str());
    assert!(attention[2]["reason"]["since"].as_i64().unwrap() <= overview["at"].as_i64().unwrap());

    // Enabled again and answering: off the list.
    let enabled = app
        .api(Method::PATCH, &format!("/api/hooks/{gone_id}"))
        .json(&json!({ "enabled": true, "config": { "url": ok.url } }))
        .send()
        .await
        .unwrap();
    assert_eq!(enabled.status(), StatusCode::OK);
    overview_when(&app, |o| {
        o["attention"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hook| hook["hookId"] != gone_id.as_str())
    })
    .await;
}

async fn attempts_being_sent_are_counted_in_flight() {
    let app = common::spawn_app().await;
    let slow = Receiver::start(Reply::status(200).delay(Duration::from_millis(1800))).await;
    hook(&app, "slow", "User.Created", &slow.url, json!({})).await;
    ingest_ok(&app, json!({ "event": "User.Created" })).await;
    ingest_ok(&app, json!({ "event": "User.Created" })).await;
    // Each dispatcher reports what it sends once a beat (a second).
    overview_when(&app, |o| o["inFlight"] == 2).await;
    overview_when(&app, |o| o["inFlight"] == 0).await;
}

async fn the_live_stream_of_every_hook_says_when_attempts_are_logged() {
    let app = common::spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    hook(&app, "one", "User.Created", &receiver.url, json!({})).await;
    hook(&app, "two", "Role.Created", &receiver.url, json!({})).await;
    let mut stream = app.open_live_stream("/live/attempts").await;
    for event in ["User.Created", "Role.Created"] {
        ingest_ok(&app, json!({ "event": event })).await;
    }
    // Read until one `attempt` event is whole (it ends with a blank line).
    let mut seen = String::new();
    let event = loop {
        if let Some((event, _)) = seen
            .split_once("event: attempt")
            .and_then(|(_, rest)| rest.split_once("\n\n"))
        {
            break event.to_owned();
        }
        let chunk = tokio::time::timeout(WAIT, stream.chunk())
            .await
            .expect("an event within the wait")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    };
    // Browsers dispatch no event whose data is empty: it carries the time.
    let data = event
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data in {event:?}"));
    assert!(data.parse::<i64>().is_ok_and(|at| at > 0), "{event:?}");
}

crate::on_both_databases!(
    the_overview_counts_requests_waiting_work_and_hooks_needing_attention,
    attempts_being_sent_are_counted_in_flight,
    the_live_stream_of_every_hook_says_when_attempts_are_logged,
);
