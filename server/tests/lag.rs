//! Lag you can see, on both databases: a hook whose deliveries wait too
//! long shows its oldest waiting delivery and event age at first attempt
//! (`GET /api/hooks/:id/lag`), is listed as lagging on the overview, has
//! its gauge in `/metrics`, and raises `hook.lagging` once, then
//! `hook.recovered` once nothing waits too long; the lagging rule's
//! `lagMinutes` is checked, and viewers read a hook's lag.
//!
//! No test waits minutes: the hook's waiting deliveries are made ten
//! minutes older in the database, which is all the watch and the figures
//! read (their events keep their times, so event age at first attempt is
//! what really happened).

mod common;

use std::time::{Duration, Instant};

use common::flow::ingest_ok;
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, spawn_app_with, test_settings, TestApp};
use domain::ports::{Actor, ActorKind, LogPort};
use domain::user::Role;
use hookline::dispatcher::DeliverySettings;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Long enough for attempts and a few looks of the watch (every 300 ms in
/// tests), short enough to fail fast.
const WITHIN: Duration = Duration::from_secs(20);

/// How long the receiver holds the ordered hook's first delivery: the
/// others wait behind it, and the test looks while they do.
const HOLD: Duration = Duration::from_secs(6);

/// How much older the test makes the waiting deliveries.
const AGED_MS: i64 = 10 * 60_000;

/// Polls `path` until `ready` holds for its JSON.
async fn get_when(app: &TestApp, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WITHIN;
    loop {
        let value = app.get_json(path).await;
        if ready(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{path} never ready: {value:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the `/metrics` series `name` for `hook_id`, if it has one.
async fn hook_series(app: &TestApp, name: &str, hook_id: &str) -> Option<f64> {
    let text = app
        .call(Method::GET, "/metrics")
        .await
        .text()
        .await
        .unwrap();
    let series = format!("{name}{{hook_id=\"{hook_id}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map(|value| value.parse().unwrap())
}

/// The value of `hookline_hook_oldest_waiting_seconds` for `hook_id`, if
/// `/metrics` has it.
async fn oldest_waiting_gauge(app: &TestApp, hook_id: &str) -> Option<i64> {
    hook_series(app, "hookline_hook_oldest_waiting_seconds", hook_id)
        .await
        .map(|value| value as i64)
}

/// Asserts that the OpenAPI document's schema `name` accepts `instance`.
async fn assert_documented(app: &TestApp, name: &str, instance: &Value) {
    let mut root = app.get_json("/api/openapi.json").await;
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    let validator = jsonschema::validator_for(&root).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{instance}");
}

fn lagging_entry<'a>(overview: &'a Value, hook_id: &str) -> Option<&'a Value> {
    overview["attention"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["hookId"] == hook_id)
}

async fn a_hook_whose_deliveries_wait_too_long_is_seen_and_alerts_once() {
    // Requests may take longer than the hold (a hook's timeout is capped by
    // the lease).
    let app = spawn_app_with(DeliverySettings {
        request_timeout: Duration::from_secs(20),
        lease: Duration::from_secs(30),
        ..test_settings()
    })
    .await;
    let ops = Receiver::start(Reply::status(204)).await;
    let saved = app
        .put_alerts(json!({ "url": ops.url, "lagMinutes": 1 }))
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["lagMinutes"], 1);
    assert_documented(&app, "AlertSettings", &saved).await;
    let alerts_hook = saved["hookId"].as_str().unwrap().to_owned();
    let alerts_hook_events =
        app.get_json(&format!("/api/hooks/{alerts_hook}")).await["events"].clone();
    assert!(
        alerts_hook_events
            .as_array()
            .unwrap()
            .contains(&json!("hook.lagging")),
        "{alerts_hook_events}"
    );

    // An ordered hook whose receiver holds the first delivery: the next two
    // wait behind it (held on purpose, and still waiting).
    let customer = Receiver::start(Reply::status(204)).await;
    customer.script([Reply::status(204).delay(HOLD)]);
    let created = app
        .create_hook(json!({
            "name": "slow", "events": ["PostRegister"], "config": { "url": customer.url },
            "ordered": true
        }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let hook_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let idle = app.get_json(&format!("/api/hooks/{hook_id}/lag")).await;
    assert_eq!(
        idle,
        json!({
            "oldestWaitingAt": null, "oldestWaitingAgeMs": null,
            "firstAttempt": { "count": 0, "p50Ms": null, "p90Ms": null, "p99Ms": null, "maxMs": null }
        })
    );
    for user in ["u1", "u2", "u3"] {
        ingest_ok(&app, json!({ "event": "PostRegister", "userId": user })).await;
    }
    customer.wait_for(1, WITHIN).await;
    let aged = app
        .database
        .execute(&format!(
            "UPDATE deliveries SET created_at = created_at - {AGED_MS}
             WHERE hook_id = '{hook_id}' AND state = 'pending'"
        ))
        .await;
    assert_eq!(aged, 3);

    // The hook's lag: ten minutes and more, nothing attempted to the end yet.
    let lag = app.get_json(&format!("/api/hooks/{hook_id}/lag")).await;
    let age = lag["oldestWaitingAgeMs"].as_i64().unwrap();
    assert!((AGED_MS..AGED_MS + 60_000).contains(&age), "{lag}");
    assert!(lag["oldestWaitingAt"].is_i64(), "{lag}");
    assert_eq!(lag["firstAttempt"]["count"], 0, "{lag}");

    // The overview lists it as lagging; `/metrics` has its gauge.
    let overview = app.get_json("/api/overview").await;
    let entry = lagging_entry(&overview, &hook_id).expect("listed");
    assert_eq!(entry["hookName"], "slow");
    assert_eq!(entry["reason"]["kind"], "lagging", "{entry}");
    assert_eq!(entry["reason"]["oldestWaitingAt"], lag["oldestWaitingAt"]);
    assert!(entry["reason"]["ageMs"].as_i64().unwrap() >= AGED_MS);
    assert_documented(&app, "Overview", &overview).await;
    assert_documented(&app, "HookLag", &lag).await;
    let gauge = oldest_waiting_gauge(&app, &hook_id).await.expect("a gauge");
    assert!((600..660).contains(&gauge), "{gauge}");

    // One `hook.lagging`, in the alerts' shape.
    let alerts = ops.wait_for(1, WITHIN).await;
    let lagging = alerts[0].json();
    assert_eq!(lagging["event"], "hook.lagging", "{lagging}");
    assert_eq!(lagging["hookId"], alerts_hook.as_str());
    assert_eq!(lagging["incident"]["kind"], "lagging");
    assert!(lagging["incident"]["openedAt"].is_string());
    assert_eq!(
        lagging["hook"],
        json!({ "id": hook_id, "name": "slow", "url": customer.url })
    );
    assert_eq!(
        lagging["reason"],
        "A delivery has waited 10 min, more than the 1 min allowed"
    );
    assert_eq!(lagging["lag"]["lagMinutes"], 1);
    assert!(lagging["lag"]["ageMs"].as_i64().unwrap() >= AGED_MS);
    assert!(lagging["lag"]["oldestWaitingAt"].is_string());
    assert!(
        lagging["text"]
            .as_str()
            .unwrap()
            .contains("“slow” is lagging"),
        "{lagging}"
    );
    let open = app.get_json("/api/incidents?state=open").await;
    assert_eq!(open.as_array().unwrap().len(), 1, "{open:#}");
    assert_eq!(open[0]["kind"], "lagging");
    assert_eq!(open[0]["hookId"], hook_id.as_str());

    // The receiver answers: everything is delivered, the incident ends
    // with one `hook.recovered`, and the figures say what happened.
    let alerts = ops.wait_for(2, WITHIN).await;
    let recovered = alerts[1].json();
    assert_eq!(recovered["event"], "hook.recovered", "{recovered}");
    assert_eq!(recovered["incident"]["kind"], "lagging");
    assert_eq!(recovered["hook"]["id"], hook_id.as_str());
    assert_eq!(
        recovered["reason"],
        "No delivery has waited more than 1 min any more"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(ops.requests().len(), 2, "each alert once");
    assert_eq!(app.get_json("/api/incidents?state=open").await, json!([]));
    let lag = get_when(&app, &format!("/api/hooks/{hook_id}/lag"), |lag| {
        lag["firstAttempt"]["count"] == 3
    })
    .await;
    assert!(lag["oldestWaitingAt"].is_null(), "{lag}");
    // The two held behind the first waited for it before their first
    // attempt; the first went at once.
    let first = &lag["firstAttempt"];
    let hold_ms = HOLD.as_millis() as i64;
    assert!(first["p50Ms"].as_i64().unwrap() >= hold_ms, "{lag}");
    assert!(first["maxMs"].as_i64().unwrap() >= hold_ms, "{lag}");
    assert!(first["p90Ms"].as_i64().unwrap() <= first["maxMs"].as_i64().unwrap());
    let overview = app.get_json("/api/overview").await;
    assert!(lagging_entry(&overview, &hook_id).is_none(), "{overview:#}");
    assert_eq!(oldest_waiting_gauge(&app, &hook_id).await, None);
    // Each first attempt was observed by the dispatcher as it started.
    let observed = hook_series(&app, "hookline_first_attempt_lag_seconds_count", &hook_id).await;
    assert_eq!(observed, first["count"].as_f64(), "{lag}");
}

async fn the_lagging_rule_is_checked_and_viewers_read_a_hooks_lag() {
    let app = spawn_app().await;
    for lag_minutes in [json!(0), json!(1441), json!("five")] {
        let refused = app
            .put_alerts(json!({ "url": "https://ops.example.com", "lagMinutes": lag_minutes }))
            .await;
        let error = assert_error(refused, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert!(
            error["field"] == "lagMinutes"
                || error["message"].as_str().unwrap().contains("lagMinutes"),
            "{lag_minutes} → {error}"
        );
    }
    let saved = app
        .put_alerts(json!({ "url": "https://ops.example.com" }))
        .await;
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["lagMinutes"], 5, "the default");
    let saved = app
        .put_alerts(json!({ "url": "https://ops.example.com", "lagMinutes": 1440 }))
        .await;
    assert_eq!(saved.json::<Value>().await.unwrap()["lagMinutes"], 1440);

    // Anyone who may read a hook may read its lag; an unknown hook is a 404.
    let hook = common::flow::add_hook(&app, "https://example.com/hook", &["PostRegister"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    const PASSWORD: &str = "a long password";
    app.add_user("admin@example.com", PASSWORD, Role::Admin)
        .await;
    app.add_user("viewer@example.com", PASSWORD, Role::Viewer)
        .await;
    let viewer = app.sign_in("viewer@example.com", PASSWORD).await;
    let read = app
        .rpc_form("get_hook_lag", Some(&viewer), &[("id", hook_id)])
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["firstAttempt"]["count"], 0, "{read}");
    let unknown = app
        .rpc_form("get_hook_lag", Some(&viewer), &[("id", "no-such-hook")])
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let viewer_key = Actor {
        role: Role::Viewer,
        kind: ActorKind::ApiKey {
            id: "viewer".into(),
        },
    };
    assert!(app
        .service
        .hook_lag(&viewer_key, &hook_id.into())
        .await
        .is_ok());
    assert_error(
        app.call(Method::GET, "/api/hooks/no-such-hook/lag").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let anonymous = app
        .client
        .get(app.url(&format!("/api/hooks/{hook_id}/lag")))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

crate::on_both_databases!(
    a_hook_whose_deliveries_wait_too_long_is_seen_and_alerts_once,
    the_lagging_rule_is_checked_and_viewers_read_a_hooks_lag,
);
