//! Alerts, on both databases: a failing hook raises `hook.failing` and
//! `delivery.exhausted` once each, however many attempts fail, and
//! `hook.recovered` once it answers again; a hook the dispatcher disables
//! raises `hook.disabled`, in Slack's body when asked; the settings are
//! checked field by field and their hook is changed only through them; and
//! on PostgreSQL two instances raise each alert once between them.

mod common;

use std::time::Duration;

use common::database::{run_on, Backend, TestDatabase};
use common::flow::{add_hook, ingest_ok};
use common::process::{Api, Hookline};
use common::receiver::{Received, Receiver, Reply};
use common::{assert_error, spawn_app, TestApp};
use domain::alert::{AlertSettingsInput, IncidentQuery};
use domain::ports::{Actor, ActorKind, AlertPort};
use domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Long enough for retries and a few looks of the watch (every 300 ms in
/// tests), short enough to fail fast.
const WITHIN: Duration = Duration::from_secs(20);

/// Turns alerts on with `body`; returns the settings.
async fn alerts_on(app: &TestApp, body: Value) -> Value {
    let response = app.put_alerts(body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The alerts the ops receiver got, by event name (its body's `event`, or
/// for Slack's body the whole text).
fn names(alerts: &[Received]) -> Vec<String> {
    alerts
        .iter()
        .map(|alert| {
            alert.json()["event"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// Waits until the watch has had time for several more looks, then
/// checks nothing more came: each alert is raised once.
async fn assert_no_more(ops: &Receiver, count: usize) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(ops.requests().len(), count, "{:?}", names(&ops.requests()));
}

async fn a_failing_hook_alerts_once_then_once_more_when_it_recovers() {
    let app = spawn_app().await; // retries after 1 s and 2 s
    let ops = Receiver::start(Reply::status(204)).await;
    let settings = alerts_on(
        &app,
        json!({ "url": ops.url, "consecutiveFailures": 3, "successRateBelow": null }),
    )
    .await;
    let alerts_hook = settings["hookId"].as_str().unwrap().to_owned();
    assert_eq!(settings["format"], "json");
    assert_eq!(settings["consecutiveFailures"], 3);
    let customer = Receiver::start(Reply::status(200)).await;
    // The first event's three attempts fail: its retries run out.
    customer.script([Reply::status(500), Reply::status(500), Reply::status(503)]);
    let hook = add_hook(&app, &customer.url, &["PostRegister"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    ingest_ok(&app, json!({ "event": "PostRegister", "userId": "u1" })).await;
    let alerts = ops.wait_for(2, WITHIN).await;
    let mut raised = names(&alerts);
    raised.sort();
    assert_eq!(raised, ["delivery.exhausted", "hook.failing"]);
    assert_no_more(&ops, 2).await;

    // Signed by the alerts hook's key, in Hookline's body.
    let key = app.get_json(&format!("/api/hooks/{alerts_hook}")).await["signingKey"]
        .as_str()
        .unwrap()
        .to_owned();
    for alert in &alerts {
        standardwebhooks::Webhook::new(&domain::hook::whsec(&key))
            .unwrap()
            .verify(&alert.body, &alert.headers)
            .expect("an alert verifies with the alerts hook's key");
        let body = alert.json();
        assert_eq!(body["hookId"], alerts_hook.as_str());
        assert_eq!(body["hook"]["id"], hook_id);
        assert_eq!(body["hook"]["name"], "receiver");
        assert!(
            body["text"].as_str().unwrap().contains("receiver"),
            "{body}"
        );
    }
    let failing = alerts
        .iter()
        .map(Received::json)
        .find(|b| b["event"] == "hook.failing");
    let failing = failing.unwrap();
    assert_eq!(failing["reason"], "3 attempts in a row failed");
    assert_eq!(failing["incident"]["kind"], "failing");
    let exhausted = alerts
        .iter()
        .map(Received::json)
        .find(|b| b["event"] == "delivery.exhausted");
    let exhausted = exhausted.unwrap();
    assert_eq!(exhausted["delivery"]["attempts"], 3);
    assert_eq!(exhausted["delivery"]["event"], "PostRegister");
    let open = app.get_json("/api/incidents?state=open").await;
    assert_eq!(open.as_array().unwrap().len(), 2, "{open:#}");
    assert_eq!(open[0]["hookId"], hook_id);
    assert_eq!(open[0]["hookName"], "receiver");

    // It answers again: one `hook.recovered`, and the incidents end.
    ingest_ok(&app, json!({ "event": "PostRegister", "userId": "u2" })).await;
    let alerts = ops.wait_for(3, WITHIN).await;
    let recovered = alerts[2].json();
    assert_eq!(recovered["event"], "hook.recovered");
    assert_eq!(recovered["hook"]["id"], hook_id);
    assert_no_more(&ops, 3).await;
    assert_eq!(app.get_json("/api/incidents?state=open").await, json!([]));
    let all = app
        .get_json(&format!("/api/incidents?hook_id={hook_id}"))
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|i| i["resolvedAt"].is_i64()),
        "{all:#}"
    );
    // The alerts are the alerts hook's deliveries, logged like any.
    let logged = app
        .get_json(&format!("/api/hooks/{alerts_hook}/recent-logs"))
        .await;
    assert_eq!(logged.as_array().unwrap().len(), 3, "{logged:#}");
}

async fn a_low_success_rate_makes_a_hook_failing() {
    let app = spawn_app().await;
    let ops = Receiver::start(Reply::status(200)).await;
    alerts_on(
        &app,
        json!({
            "url": ops.url, "consecutiveFailures": 1000,
            "successRateBelow": 60, "windowMinutes": 5, "minAttempts": 4
        }),
    )
    .await;
    let customer = Receiver::start(Reply::status(200)).await;
    customer.script([
        Reply::status(500),
        Reply::status(200),
        Reply::status(500),
        Reply::status(500),
    ]);
    let hook = app
        .create_hook(json!({
            "name": "flaky", "events": ["PostRegister"],
            "config": { "url": customer.url }, "retrySchedule": []
        }))
        .await;
    assert_eq!(hook.status(), StatusCode::CREATED);
    // Four attempts, one success: 25 % < 60 %, never 1000 in a row.
    for n in 0..4 {
        ingest_ok(&app, json!({ "event": "PostRegister", "n": n })).await;
        customer.wait_for(n + 1, WITHIN).await;
    }
    // The last failed delivery may end as exhausted too: that alert and
    // this one are sent side by side, in either order.
    let deadline = std::time::Instant::now() + WITHIN;
    let alert = loop {
        let failing = ops
            .requests()
            .iter()
            .map(|request| request.json())
            .find(|alert| alert["event"] == "hook.failing");
        if let Some(alert) = failing {
            break alert;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no hook.failing alert"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        alert["reason"],
        "1 of 4 attempts succeeded over the last 5 minutes, below 60 %"
    );
}

async fn a_hook_the_dispatcher_disables_alerts_in_slacks_body() {
    let app = spawn_app().await;
    let ops = Receiver::start(Reply::status(200)).await;
    alerts_on(&app, json!({ "url": ops.url, "format": "slack" })).await;
    let gone = Receiver::start(Reply::status(410)).await;
    let hook = add_hook(&app, &gone.url, &["PostRegister"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    ingest_ok(&app, json!({ "event": "PostRegister" })).await;
    // The 410 disables the hook and ends the delivery: two alerts.
    let alerts = ops.wait_for(2, WITHIN).await;
    for alert in &alerts {
        let body = alert.json();
        let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["text"], "Slack's body: {body}");
    }
    let texts: Vec<String> = alerts
        .iter()
        .map(|a| a.json()["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("“receiver” was disabled: The endpoint answered 410 Gone")),
        "{texts:?}"
    );
    let open = app.get_json("/api/incidents?state=open").await;
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "disabled"),
        "{open:#}"
    );
    // An admin enables it again: the incident ends, without an alert.
    let enabled = app
        .call_json(
            Method::PATCH,
            &format!("/api/hooks/{hook_id}"),
            json!({ "enabled": true }),
        )
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + WITHIN;
    loop {
        let open = app.get_json("/api/incidents?state=open").await;
        if open
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] != "disabled")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{open:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_no_more(&ops, 2).await;
}

async fn alert_settings_are_checked_and_their_hook_is_theirs() {
    let app = spawn_app().await;
    let off = app.call(Method::GET, "/api/settings/alerts").await;
    assert_error(off, StatusCode::NOT_FOUND, "not_found").await;
    for (body, field) in [
        (json!({}), "url"),
        (json!({ "url": "ftp://ops.example.com" }), "url"),
        (
            json!({ "url": "https://ops.example.com", "format": "xml" }),
            "format",
        ),
        (
            json!({ "url": "https://ops.example.com", "consecutiveFailures": 0 }),
            "consecutiveFailures",
        ),
        (
            json!({ "url": "https://ops.example.com", "successRateBelow": 101 }),
            "successRateBelow",
        ),
        (
            json!({ "url": "https://ops.example.com", "windowMinutes": 0 }),
            "windowMinutes",
        ),
        (
            json!({ "url": "https://ops.example.com", "minAttempts": -1 }),
            "minAttempts",
        ),
    ] {
        let refused = app.put_alerts(body.clone()).await;
        let error = assert_error(refused, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert!(
            error["field"] == field || error["message"].as_str().unwrap().contains(field),
            "{body} → {error}"
        );
    }
    let off = app.call(Method::GET, "/api/settings/alerts").await;
    assert_eq!(
        off.status(),
        StatusCode::NOT_FOUND,
        "nothing was half-saved"
    );

    let url = "https://hooks.slack.com/services/T0/B0/secret";
    let saved = alerts_on(&app, json!({ "url": url, "format": "slack" })).await;
    assert_eq!(app.get_json("/api/settings/alerts").await, saved);
    let hook_id = saved["hookId"].as_str().unwrap();
    let hook = app.get_json(&format!("/api/hooks/{hook_id}")).await;
    assert_eq!(hook["config"]["url"], url);
    assert_eq!(hook["events"], json!(domain::alert::OPERATIONAL_EVENTS));
    // A second save changes the same hook.
    let again = alerts_on(&app, json!({ "url": "https://ops.example.com/alerts" })).await;
    assert_eq!(again["hookId"], hook_id);
    assert_eq!(again["format"], "json");

    // The alerts hook changes only through its settings.
    let path = format!("/api/hooks/{hook_id}");
    let patch = app
        .call_json(Method::PATCH, &path, json!({ "name": "mine" }))
        .await;
    assert_error(patch, StatusCode::CONFLICT, "conflict").await;
    assert_error(
        app.call(Method::DELETE, &path).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    // Nobody else sends or gets operational events.
    let spoofed = app
        .call_json(
            Method::POST,
            "/api/events",
            json!({ "event": "hook.failing" }),
        )
        .await;
    assert_error(spoofed, StatusCode::BAD_REQUEST, "invalid_input").await;
    let listener = app
        .create_hook(json!({ "name": "x", "events": ["hook.failing"], "config": { "url": "https://e.example" } }))
        .await;
    assert_error(listener, StatusCode::BAD_REQUEST, "invalid_input").await;
    let custom = app
        .call_json(
            Method::POST,
            "/api/event-types",
            json!({ "name": "delivery.exhausted", "description": "mine" }),
        )
        .await;
    assert_error(custom, StatusCode::BAD_REQUEST, "invalid_input").await;

    // Viewers read them with the URL's origin only, and change nothing.
    let viewer = Actor {
        role: Role::Viewer,
        kind: ActorKind::ApiKey {
            id: "viewer".into(),
        },
    };
    let seen = app.service.alert_settings(&viewer).await.unwrap().unwrap();
    assert_eq!(seen.rules.url, "https://ops.example.com/••••••••");
    let input =
        AlertSettingsInput::from_form("https://x.example", "json", "", "", "", "", "").unwrap();
    let refused = app.service.save_alert_settings(&viewer, input).await;
    assert_eq!(refused.unwrap_err().code, domain::ErrorCode::Forbidden);
    assert!(app.service.remove_alert_settings(&viewer).await.is_err());
    assert!(app
        .service
        .incidents(&viewer, IncidentQuery::default())
        .await
        .is_ok());

    // Off again: the settings and their hook are gone.
    let removed = app.call(Method::DELETE, "/api/settings/alerts").await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.call(Method::GET, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let off = app.call(Method::GET, "/api/settings/alerts").await;
    assert_error(off, StatusCode::NOT_FOUND, "not_found").await;
    let bad_query = app.call(Method::GET, "/api/incidents?state=closed").await;
    assert_error(bad_query, StatusCode::BAD_REQUEST, "invalid_input").await;
}

crate::on_both_databases!(
    a_failing_hook_alerts_once_then_once_more_when_it_recovers,
    a_low_success_rate_makes_a_hook_failing,
    a_hook_the_dispatcher_disables_alerts_in_slacks_body,
    alert_settings_are_checked_and_their_hook_is_theirs,
);

/// Two instances watch the same database: each alert is raised once.
#[tokio::test]
async fn two_instances_raise_each_alert_once() {
    run_on(Backend::Postgres, async {
        let database = TestDatabase::fresh().await;
        let api = Api::new(database.api_key().await);
        let args = ["--retry-schedule=200ms", "--alert-check-interval=100ms"];
        let first = Hookline::start(&database, &args).await;
        let second = Hookline::start(&database, &args).await;
        first.wait_healthy().await;
        second.wait_healthy().await;
        let ops = Receiver::start(Reply::status(200)).await;
        let saved = reqwest::Client::new()
            .put(first.url("/api/settings/alerts"))
            .bearer_auth(database.api_key().await)
            .json(&json!({ "url": ops.url, "consecutiveFailures": 2, "successRateBelow": null }))
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), StatusCode::OK);
        let failing = Receiver::start(Reply::status(500)).await;
        api.post(
            &first,
            "/api/hooks",
            json!({ "name": "down", "events": ["User.Created"], "config": { "url": failing.url } }),
        )
        .await;
        api.ingest_numbered(&[&first, &second], 6).await;
        let alerts = ops.wait_for(2, WITHIN).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut raised = names(&ops.requests());
        raised.sort();
        assert_eq!(
            raised,
            ["delivery.exhausted", "hook.failing"],
            "{} at first",
            alerts.len()
        );
    })
    .await;
}
