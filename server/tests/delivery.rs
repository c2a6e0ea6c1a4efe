//! The dispatcher end to end: events in over the API, signed requests out to
//! real receivers on ephemeral ports, and the log read back over the API.

mod common;

use std::time::{Duration, Instant};

use common::flow::{
    add_hook, attempts, delivery_when, finished, ingest, ingest_ok, only_delivery, WAIT,
};
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, spawn_app_with, test_settings};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn fan_out_is_signed_with_both_schemes_and_logged_as_sent() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(204)).await;
    let mut hooks = Vec::new();
    for _ in 0..3 {
        hooks.push(add_hook(&app, &receiver.url, &["User.Created"]).await);
    }
    let answer = ingest_ok(
        &app,
        json!({ "event": "User.Created", "data": { "id": "u1", "name": "Ada" }, "userAgent": "curl" }),
    )
    .await;
    assert_eq!(answer["deliveries"], 3);
    let requests = receiver.wait_for(3, WAIT).await;

    let event = app
        .get_json(&format!("/api/events/{}", answer["id"].as_str().unwrap()))
        .await;
    for request in &requests {
        let body = request.json();
        let hook = hooks
            .iter()
            .find(|h| h["id"] == body["hookId"])
            .expect("the body names one of the hooks");
        let key = hook["signingKey"].as_str().unwrap();
        // Logto's scheme: hex HMAC-SHA256 of the raw body, keyed with the key's bytes.
        assert_eq!(
            request.header("logto-signature-sha-256"),
            hmac_sha256_hex(key, &request.body)
        );
        // Standard Webhooks, checked by its reference library.
        assert_standard_signature(key, request);
        assert_eq!(request.header("content-type"), "application/json");
        assert!(request.header("user-agent").starts_with("Hookline/"));
        // Hookline's fields come first, then the producer's, unchanged.
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["hookId", "event", "createdAt", "data", "userAgent"]);
        assert_eq!(body["event"], "User.Created");
        assert_eq!(body["data"], json!({ "id": "u1", "name": "Ada" }));
        let created_at = body["createdAt"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(created_at).is_ok()
                && created_at.ends_with('Z')
                && created_at.len() == 24,
            "{created_at}"
        );

        // The log holds exactly what the receiver got.
        let delivery_id = request.header("webhook-id");
        let delivery = finished(&app, delivery_id, WAIT).await;
        assert!(event["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == delivery_id));
        assert_eq!(delivery["state"], "delivered");
        let attempt = &attempts(&delivery)[0];
        assert_eq!(
            attempt["requestBody"].as_str().unwrap().as_bytes(),
            &request.body[..]
        );
        assert_eq!(attempt["responseStatus"], 204);
        assert_eq!(attempt["trigger"], "auto");
        assert_eq!(
            common::logged_header(attempt, "webhook-signature"),
            request.header("webhook-signature")
        );
        assert!(
            !attempt.to_string().contains(key),
            "the signing key never appears in the log"
        );
    }
}

async fn during_a_key_rotation_both_keys_sign() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let hook = add_hook(&app, &receiver.url, &["PostSignIn"]).await;
    let old_key = hook["signingKey"].as_str().unwrap().to_owned();
    let rotated: Value = app
        .api(
            Method::PATCH,
            &format!("/api/hooks/{}/signing-key", hook["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_key = rotated["signingKey"].as_str().unwrap();
    ingest_ok(&app, json!({ "event": "PostSignIn" })).await;
    let request = &receiver.wait_for(1, WAIT).await[0];
    let signatures: Vec<&str> = request.header("webhook-signature").split(' ').collect();
    assert_eq!(signatures.len(), 2, "newest first, then the previous key's");
    for key in [new_key, old_key.as_str()] {
        assert_standard_signature(key, request);
    }
    assert_eq!(
        request.header("logto-signature-sha-256"),
        hmac_sha256_hex(new_key, &request.body),
        "Logto's header carries the newest key only"
    );
}

/// Verifies the Standard Webhooks headers with the reference crate, given the
/// key in its `whsec_` form as a receiver would configure it.
fn assert_standard_signature(key: &str, request: &common::receiver::Received) {
    let whsec = domain::hook::whsec(key);
    standardwebhooks::Webhook::new(&whsec)
        .unwrap()
        .verify(&request.body, &request.headers)
        .unwrap_or_else(|err| panic!("the signature for {key} does not verify: {err}"));
}

fn hmac_sha256_hex(key: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

async fn failures_are_retried_on_schedule_until_one_succeeds() {
    let app = spawn_app().await; // schedule 1s, 2s
    let receiver = Receiver::start(Reply::status(200).body("thanks")).await;
    receiver.script([
        Reply::status(500).body("boom"),
        Reply::status(500).body("boom again"),
    ]);
    add_hook(&app, &receiver.url, &["Role.Created"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Role.Created" })).await;
    let requests = receiver.wait_for(3, WAIT).await;
    let gaps: Vec<f64> = requests
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_secs_f64())
        .collect();
    // 1 s and 2 s, each ±20 %, plus a little for the round trip.
    assert!((0.8..1.5).contains(&gaps[0]), "{gaps:?}");
    assert!((1.6..2.7).contains(&gaps[1]), "{gaps:?}");
    let ids: Vec<&str> = requests.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id on every retry"
    );

    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = finished(&app, &delivery_id, WAIT).await;
    assert_eq!(delivery["state"], "delivered");
    let attempts = attempts(&delivery);
    let summary: Vec<(i64, &str, i64, &str)> = attempts
        .iter()
        .map(|a| {
            (
                a["number"].as_i64().unwrap(),
                a["trigger"].as_str().unwrap(),
                a["responseStatus"].as_i64().unwrap(),
                a["responseBody"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "auto", 500, "boom"),
            (2, "retry", 500, "boom again"),
            (3, "retry", 200, "thanks")
        ]
    );
    assert!(attempts
        .iter()
        .all(|a| a["success"] == (a["responseStatus"] == 200)));
}

async fn when_the_schedule_runs_out_the_delivery_has_failed() {
    let app = spawn_app().await; // 3 attempts in all
    let receiver = Receiver::start(Reply::status(503)).await;
    add_hook(&app, &receiver.url, &["Role.Deleted"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Role.Deleted" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = finished(&app, &delivery_id, WAIT).await;
    assert_eq!(delivery["state"], "failed");
    assert_eq!(attempts(&delivery).len(), 3);
    assert_eq!(delivery["nextAttemptAt"], Value::Null);
}

async fn a_timeout_is_a_logged_failure() {
    let mut settings = test_settings();
    settings.request_timeout = Duration::from_millis(300);
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_secs(3))).await;
    add_hook(&app, &receiver.url, &["Scope.Created"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Scope.Created" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = delivery_when(&app, &delivery_id, WAIT, |d| d["attemptCount"] == 1).await;
    let attempt = &attempts(&delivery)[0];
    assert_eq!(attempt["responseStatus"], Value::Null);
    assert!(
        attempt["error"].as_str().unwrap().contains("timed out"),
        "{attempt:#}"
    );
    assert!(attempt["durationMs"].as_i64().unwrap() >= 300);
    assert_eq!(delivery["state"], "pending", "a retry is scheduled");
}

async fn a_refused_connection_is_a_logged_failure() {
    let app = spawn_app().await;
    // A port nothing listens on: bind one, then let it go.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    add_hook(&app, &url, &["Scope.Deleted"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Scope.Deleted" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = delivery_when(&app, &delivery_id, WAIT, |d| d["attemptCount"] == 1).await;
    let error = attempts(&delivery)[0]["error"].as_str().unwrap().to_owned();
    assert!(error.contains("could not connect"), "{error}");
    assert!(error.to_lowercase().contains("refused"), "{error}");
}

async fn redirects_are_failures_and_are_not_followed() {
    let app = spawn_app().await;
    let elsewhere = Receiver::start(Reply::status(200)).await;
    let receiver = Receiver::start(Reply::status(302).header("location", &elsewhere.url)).await;
    add_hook(&app, &receiver.url, &["Scope.Data.Updated"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Scope.Data.Updated" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = delivery_when(&app, &delivery_id, WAIT, |d| d["attemptCount"] == 1).await;
    let attempt = &attempts(&delivery)[0];
    assert_eq!(attempt["responseStatus"], 302);
    assert_eq!(attempt["success"], false);
    assert_eq!(delivery["state"], "pending", "a retry is scheduled");
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was not followed"
    );
}

async fn gone_disables_the_hook_with_a_reason() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(410)).await;
    let hook = add_hook(&app, &receiver.url, &["User.Deleted"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    let answer = ingest_ok(&app, json!({ "event": "User.Deleted" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = finished(&app, &delivery_id, WAIT).await;
    assert_eq!(delivery["state"], "failed", "no retry after 410");
    assert_eq!(attempts(&delivery).len(), 1);
    let hook = app.get_json(&format!("/api/hooks/{hook_id}")).await;
    assert_eq!(hook["enabled"], false);
    assert!(
        hook["disabledReason"].as_str().unwrap().contains("410"),
        "{hook:#}"
    );
    // A disabled hook gets no new deliveries.
    let again = ingest_ok(&app, json!({ "event": "User.Deleted" })).await;
    assert_eq!(again["deliveries"], 0);
}

async fn retry_after_on_429_is_honoured() {
    let mut settings = test_settings();
    settings.retry_schedule = "10s".parse().unwrap();
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start(Reply::status(200)).await;
    receiver.script([Reply::status(429).header("retry-after", "1")]);
    add_hook(&app, &receiver.url, &["Organization.Created"]).await;
    ingest_ok(&app, json!({ "event": "Organization.Created" })).await;
    let requests = receiver.wait_for(2, WAIT).await;
    let gap = (requests[1].at - requests[0].at).as_secs_f64();
    assert!(
        (0.9..3.0).contains(&gap),
        "retried after {gap}s: Retry-After 1 s, not the 10 s step"
    );
}

async fn every_attempt_failing_for_the_window_disables_the_hook() {
    let mut settings = test_settings();
    settings.retry_schedule = "300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms"
        .parse()
        .unwrap();
    settings.disable_after = Duration::from_millis(800);
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start(Reply::status(500)).await;
    let hook = add_hook(&app, &receiver.url, &["Role.Data.Updated"]).await;
    let hook_path = format!("/api/hooks/{}", hook["id"].as_str().unwrap());
    ingest_ok(&app, json!({ "event": "Role.Data.Updated" })).await;
    let deadline = Instant::now() + WAIT;
    let hook = loop {
        let hook = app.get_json(&hook_path).await;
        if hook["enabled"] == false {
            break hook;
        }
        assert!(Instant::now() < deadline, "the hook stayed enabled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        hook["disabledReason"]
            .as_str()
            .unwrap()
            .contains("Every attempt failed"),
        "{hook:#}"
    );
}

async fn private_endpoints_are_refused_unless_allowed() {
    let mut settings = test_settings();
    settings.endpoint_policy.allow_private = false;
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    add_hook(&app, &receiver.url, &["Identifier.Lockout"]).await;
    add_hook(&app, &by_name, &["Identifier.Lockout"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Identifier.Lockout" })).await;
    let event = app
        .get_json(&format!("/api/events/{}", answer["id"].as_str().unwrap()))
        .await;
    let mut errors = Vec::new();
    for delivery in event["deliveries"].as_array().unwrap() {
        let id = delivery["id"].as_str().unwrap();
        let delivery = delivery_when(&app, id, WAIT, |d| d["attemptCount"] == 1).await;
        let attempt = &attempts(&delivery)[0];
        assert_eq!(attempt["responseStatus"], Value::Null);
        errors.push(attempt["error"].as_str().unwrap().to_owned());
    }
    let by_address = "refused to connect to 127.0.0.1: it is a loopback address";
    let by_resolution =
        "refused to connect to 127.0.0.1 (localhost resolves to it): it is a loopback address";
    for expected in [by_address, by_resolution] {
        assert!(errors.iter().any(|e| e.starts_with(expected)), "{errors:?}");
    }
    assert!(errors
        .iter()
        .all(|e| e.contains("--allow-private-endpoints")));
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the receiver"
    );
}

async fn an_idempotency_key_makes_a_repeat_return_the_first_answer() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    add_hook(&app, &receiver.url, &["User.Created"]).await;
    let send = |body: Value| {
        app.api(Method::POST, "/api/events")
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
    };
    let body = json!({ "event": "User.Created", "data": { "id": "u1" } });
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let second = send(body).await.unwrap();
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    // The same key with another body is a mistake, not a repeat.
    let other = send(json!({ "event": "User.Created", "data": { "id": "u2" } }))
        .await
        .unwrap();
    assert_error(other, StatusCode::CONFLICT, "conflict").await;
    receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 1, "one event, one delivery");
}

async fn a_delivery_names_its_hook_and_key_and_replays_as_curl() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    add_hook(&app, &receiver.url, &["User.Created"]).await;
    let answer: Value = app
        .api(Method::POST, "/api/events")
        .header("Idempotency-Key", "order-77")
        .json(&json!({ "event": "User.Created", "data": { "note": "it's \"quoted\" $HOME `x`" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivered = finished(&app, &id, WAIT).await;
    assert_eq!(delivered["hookName"], "receiver");
    assert_eq!(delivered["idempotencyKey"], "order-77");
    let sent = receiver.wait_for(1, WAIT).await.remove(0);

    // The console's "copy as curl", run by a shell, sends the same request.
    let delivery: domain::delivery::Delivery = serde_json::from_value(delivered).unwrap();
    let curl = delivery.attempts[0].as_curl();
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{curl} --silent --output /dev/null"))
        .status()
        .await
        .unwrap();
    assert!(status.success(), "{curl}");
    let replayed = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(replayed.body, sent.body);
    for header in [
        "content-type",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "logto-signature-sha-256",
    ] {
        assert_eq!(replayed.header(header), sent.header(header), "{header}");
    }
}

async fn disabled_hooks_and_unmatched_events_get_no_deliveries() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    add_hook(&app, &receiver.url, &["User.Created"]).await;
    let disabled = app
        .create_hook(json!({
            "name": "off", "events": ["User.Created", "Role.Created"],
            "config": { "url": receiver.url }, "enabled": false
        }))
        .await;
    assert_eq!(disabled.status(), StatusCode::CREATED);
    let answer = ingest_ok(&app, json!({ "event": "User.Created" })).await;
    assert_eq!(answer["deliveries"], 1, "only the enabled hook");
    let unmatched = ingest_ok(&app, json!({ "event": "Role.Created" })).await;
    assert_eq!(unmatched["deliveries"], 0);
    let event = app
        .get_json(&format!(
            "/api/events/{}",
            unmatched["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(event["deliveries"], json!([]));
    assert_eq!(event["event"], "Role.Created");
    receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 1);
}

async fn synchronous_mode_answers_with_the_receivers_reply() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(201).body(r#"{"ok":true}"#)).await;
    let hook = add_hook(&app, &receiver.url, &["PostRegister"]).await;
    let response = app
        .api(Method::POST, "/api/events?wait=5s")
        .json(&json!({ "event": "PostRegister", "userId": "u1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["deliveries"], 1);
    let outcome = &answer["outcomes"][0];
    assert_eq!(outcome["hookId"], hook["id"]);
    assert_eq!(outcome["status"], 201);
    assert_eq!(outcome["body"], r#"{"ok":true}"#);
    assert_eq!(outcome["error"], Value::Null);
    assert!(outcome["durationMs"].as_i64().is_some());
}

async fn synchronous_mode_gives_up_at_the_bound_and_delivery_goes_on() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(1500))).await;
    add_hook(&app, &receiver.url, &["PostRegister"]).await;
    let started = Instant::now();
    let response = app
        .api(Method::POST, "/api/events?wait=500ms")
        .json(&json!({ "event": "PostRegister" }))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(
        took < Duration::from_millis(1400),
        "answered after {took:?}"
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["outcomes"], json!([]));
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = finished(&app, &delivery_id, WAIT).await;
    assert_eq!(delivery["state"], "delivered");
}

async fn bad_events_are_refused_with_the_reason() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({ "data": {} }), "event"),
        (json!({ "event": 7 }), "event"),
        (json!({ "event": "User.Exploded" }), "event"),
        (json!({ "event": "User.Created", "hookId": "x" }), "hookId"),
        (
            json!({ "event": "User.Created", "createdAt": "x" }),
            "createdAt",
        ),
        (json!(["User.Created"]), "body"),
    ] {
        let error = assert_error(
            ingest(&app, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
        assert_eq!(error["field"], field, "{body}");
    }
    let huge = json!({ "event": "User.Created", "data": "x".repeat(300 * 1024) });
    assert_error(
        ingest(&app, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    for wait in ["31s", "soon"] {
        let response = app
            .api(Method::POST, &format!("/api/events?wait={wait}"))
            .json(&json!({ "event": "User.Created" }))
            .send()
            .await
            .unwrap();
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
        assert_eq!(error["field"], "wait");
    }
    let anonymous = app
        .client
        .post(app.url("/api/events"))
        .json(&json!({ "event": "User.Created" }))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let bad_key = app
        .api(Method::POST, "/api/events")
        .header("Idempotency-Key", "")
        .json(&json!({ "event": "User.Created" }))
        .send()
        .await
        .unwrap();
    assert_error(bad_key, StatusCode::BAD_REQUEST, "invalid_input").await;
    for path in ["/api/events/nope", "/api/deliveries/nope"] {
        let missing = app.api(Method::GET, path).send().await.unwrap();
        assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    }
}

async fn a_hook_test_sends_the_example_to_the_given_config_and_logs_it() {
    let app = spawn_app().await;
    let saved = Receiver::start(Reply::status(200)).await;
    let unsaved = Receiver::start(Reply::status(202).body("seen")).await;
    let hook = add_hook(&app, &saved.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    let response = app
        .api(Method::POST, &format!("/api/hooks/{hook_id}/test"))
        .json(&json!({
            "events": ["PostRegister"],
            "config": { "url": unsaved.url, "headers": { "X-Env": "staging" } }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let result: Value = response.json().await.unwrap();
    let outcome = &result["outcomes"][0];
    assert_eq!(outcome["status"], 202);
    assert_eq!(outcome["body"], "seen");
    assert_eq!(outcome["event"], "PostRegister");
    let request = &unsaved.requests()[0];
    assert_eq!(request.header("x-env"), "staging");
    let body = request.json();
    assert_eq!(body["hookId"], hook_id);
    assert_eq!(
        body["interactionEvent"], "Register",
        "the catalog's example"
    );
    assert!(saved.requests().is_empty());
    let delivery = app
        .get_json(&format!(
            "/api/deliveries/{}",
            outcome["deliveryId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(attempts(&delivery)[0]["trigger"], "test");
    assert_eq!(delivery["state"], "delivered");

    let bad = app
        .api(Method::POST, &format!("/api/hooks/{hook_id}/test"))
        .json(&json!({ "events": ["Nope"] }))
        .send()
        .await
        .unwrap();
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_input").await;
    let missing = app
        .api(Method::POST, "/api/hooks/nope/test")
        .json(&json!({ "events": ["PostRegister"] }))
        .send()
        .await
        .unwrap();
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
}

async fn a_hook_gets_no_more_than_its_limit_in_flight() {
    let mut settings = test_settings();
    settings.hook_max_in_flight = 2;
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(200))).await;
    add_hook(&app, &receiver.url, &["Grant.LimitExceeded"]).await;
    for _ in 0..8 {
        ingest_ok(&app, json!({ "event": "Grant.LimitExceeded" })).await;
    }
    receiver.wait_for(8, WAIT).await;
    assert_eq!(receiver.max_in_flight(), 2);
    assert!(receiver.overlapping().is_empty());
}

async fn long_response_bodies_are_cut_at_64_kib_and_flagged() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200).body("y".repeat(100 * 1024))).await;
    add_hook(&app, &receiver.url, &["Message.RateLimited"]).await;
    let answer = ingest_ok(&app, json!({ "event": "Message.RateLimited" })).await;
    let delivery_id = only_delivery(&app, answer["id"].as_str().unwrap()).await;
    let delivery = finished(&app, &delivery_id, WAIT).await;
    let attempt = &attempts(&delivery)[0];
    assert_eq!(attempt["responseBody"].as_str().unwrap().len(), 64 * 1024);
    assert_eq!(attempt["responseBodyTruncated"], true);
    assert_eq!(delivery["state"], "delivered");
}

crate::on_both_databases!(
    fan_out_is_signed_with_both_schemes_and_logged_as_sent,
    during_a_key_rotation_both_keys_sign,
    failures_are_retried_on_schedule_until_one_succeeds,
    when_the_schedule_runs_out_the_delivery_has_failed,
    a_timeout_is_a_logged_failure,
    a_refused_connection_is_a_logged_failure,
    redirects_are_failures_and_are_not_followed,
    gone_disables_the_hook_with_a_reason,
    retry_after_on_429_is_honoured,
    every_attempt_failing_for_the_window_disables_the_hook,
    private_endpoints_are_refused_unless_allowed,
    an_idempotency_key_makes_a_repeat_return_the_first_answer,
    a_delivery_names_its_hook_and_key_and_replays_as_curl,
    disabled_hooks_and_unmatched_events_get_no_deliveries,
    synchronous_mode_answers_with_the_receivers_reply,
    synchronous_mode_gives_up_at_the_bound_and_delivery_goes_on,
    bad_events_are_refused_with_the_reason,
    a_hook_test_sends_the_example_to_the_given_config_and_logs_it,
    a_hook_gets_no_more_than_its_limit_in_flight,
    long_response_bodies_are_cut_at_64_kib_and_flagged,
);
