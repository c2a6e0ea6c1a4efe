//! The Logto-shaped `/api/hooks` routes over real HTTP.

mod common;

use common::{assert_error, spawn_app, valid_hook};
use domain::ports::ApiKeyPort;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create_returns_the_hook_in_logtos_shape_with_a_signing_key() {
    let app = spawn_app().await;
    let response = app.create_hook(valid_hook()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let hook: Value = response.json().await.unwrap();
    assert_eq!(hook["name"], "CRM sync");
    assert_eq!(hook["events"], json!(["User.Created", "PostRegister"]));
    assert_eq!(
        hook["config"],
        json!({ "url": "https://example.com/hook", "headers": { "X-Tenant": "acme" } })
    );
    assert_eq!(hook["enabled"], true);
    let key = hook["signingKey"].as_str().unwrap();
    assert_eq!(key.len(), 32);
    assert!(key.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(hook["createdAt"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(hook["id"].as_str().unwrap().len(), 21);
}

async fn list_get_patch_rotate_delete() {
    let app = spawn_app().await;
    let created: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();

    let list = app.get_json("/api/hooks?includeExecutionStats=true").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);
    assert_eq!(
        list[0]["executionStats"],
        json!({ "requestCount": 0, "successCount": 0 })
    );
    let plain = app.get_json("/api/hooks").await;
    assert!(plain[0].get("executionStats").is_none());

    let one = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_eq!(one, created);

    let patched = app
        .api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&json!({ "name": "Renamed", "events": ["Role.Created", "Role.Created"], "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(
        patched["events"],
        json!(["Role.Created"]),
        "duplicates are dropped"
    );
    assert_eq!(patched["enabled"], false);
    assert_eq!(
        patched["config"], created["config"],
        "fields not sent are kept"
    );
    assert_eq!(patched["signingKey"], created["signingKey"]);

    let new_config = json!({ "url": "http://receiver.internal:8080/in" });
    let patched: Value = app
        .api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&json!({ "config": new_config }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        patched["config"],
        json!({ "url": "http://receiver.internal:8080/in", "headers": {} })
    );

    let rotated = app
        .api(Method::PATCH, &format!("/api/hooks/{id}/signing-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    assert_ne!(rotated["signingKey"], created["signingKey"]);
    assert_eq!(rotated["signingKey"].as_str().unwrap().len(), 32);

    let deleted = app
        .api(Method::DELETE, &format!("/api/hooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app
        .api(Method::GET, &format!("/api/hooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(gone, StatusCode::NOT_FOUND, "not_found").await;
    let again = app
        .api(Method::DELETE, &format!("/api/hooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn each_invalid_field_is_a_400_naming_it_and_nothing_is_saved() {
    let app = spawn_app().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "name": "", "events": ["User.Created"], "config": { "url": "https://a.io" } }),
            "name",
        ),
        (
            json!({ "name": "x".repeat(257), "events": ["User.Created"], "config": { "url": "https://a.io" } }),
            "name",
        ),
        (
            json!({ "name": "n", "events": [], "config": { "url": "https://a.io" } }),
            "event",
        ),
        (
            json!({ "name": "n", "events": ["User.Exploded"], "config": { "url": "https://a.io" } }),
            "User.Exploded",
        ),
        (
            json!({ "name": "n", "events": ["User.Created"], "config": { "url": "ftp://a.io" } }),
            "http",
        ),
        (
            json!({ "name": "n", "events": ["User.Created"], "config": { "url": "not a url" } }),
            "URL",
        ),
        (
            json!({ "name": "n", "events": ["User.Created"], "config": { "url": "https://a.io", "headers": { "Bad Key": "v" } } }),
            "Bad Key",
        ),
        (
            json!({ "name": "n", "events": ["User.Created"], "config": { "url": "https://a.io", "headers": { "x:y": "v" } } }),
            "x:y",
        ),
        (
            json!({ "name": "n", "events": ["User.Created"], "config": { "url": "https://a.io", "headers": { "X-A": "1", "x-a": "2" } } }),
            "more than once",
        ),
        (
            json!({ "name": "n", "events": ["User.Created"], "config": { "url": "https://a.io", "headers": { "webhook-signature": "v" } } }),
            "webhook-signature",
        ),
        (json!({ "name": "n", "events": ["User.Created"] }), "config"),
        (
            json!({ "name": "n", "events": "User.Created", "config": { "url": "https://a.io" } }),
            "events",
        ),
    ];
    for (body, mentioned) in cases {
        let response = app.create_hook(body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "invalid_input", "{body}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(mentioned),
            "{message:?} should mention {mentioned:?} for {body}"
        );
    }
    let list = app.get_json("/api/hooks").await;
    assert_eq!(list, json!([]), "no invalid hook was saved");
}

async fn too_many_or_too_large_headers_are_refused_and_nothing_is_saved() {
    let app = spawn_app().await;
    app.create_hook(valid_hook()).await;
    let hook_with = |headers: serde_json::Map<String, Value>| json!({ "name": "n", "events": ["User.Created"], "config": { "url": "https://a.io", "headers": headers } });
    let many = |count: usize, value: &str| {
        (0..count)
            .map(|i| (format!("X-{i}"), json!(value)))
            .collect::<serde_json::Map<_, _>>()
    };
    let cases = [
        (many(51, "v"), "at most 50 custom headers"),
        (many(2, &"v".repeat(4 * 1024)), "at most 8192 bytes"),
    ];
    for (headers, mentioned) in cases {
        let response = app.create_hook(hook_with(headers)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "invalid_input");
        assert_eq!(error["field"], "config.headers");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(mentioned), "{message:?}");
    }
    let list = app.get_json("/api/hooks").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "no invalid hook was saved"
    );
    // Exactly at the limits is fine, and a PATCH is held to the same limits.
    let created: Value = app
        .create_hook(hook_with(many(50, "v")))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["config"]["headers"].as_object().unwrap().len(), 50);
    let response = app
        .api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&json!({ "config": { "url": "https://a.io", "headers": many(51, "v") } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get_json(&format!("/api/hooks/{id}")).await, created);
}

async fn an_invalid_patch_changes_nothing() {
    let app = spawn_app().await;
    let created: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let response = app
        .api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&json!({ "name": "Fine", "config": { "url": "gopher://x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let after = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_eq!(after, created);
}

async fn malformed_bodies_and_queries_are_400s_with_json_errors() {
    let app = spawn_app().await;
    let response = app
        .api(Method::POST, "/api/hooks")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;

    let response = app
        .api(Method::POST, "/api/hooks")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "invalid_input"
    );

    let response = app
        .api(Method::GET, "/api/hooks?includeExecutionStats=maybe")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

async fn missing_wrong_and_revoked_keys_are_401() {
    let app = spawn_app().await;
    let anonymous = app.client.get(app.url("/api/hooks")).send().await.unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let wrong = app
        .client
        .get(app.url("/api/hooks"))
        .bearer_auth("hkl_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let created = app.service.issue_api_key("short-lived").await.unwrap();
    let ok = app
        .client
        .get(app.url("/api/hooks"))
        .bearer_auth(&created.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let admin = app
        .service
        .api_key_actor(&app.api_key)
        .await
        .unwrap()
        .unwrap();
    app.service
        .revoke_api_key(&admin, &created.key.id)
        .await
        .unwrap();
    let revoked = app
        .client
        .get(app.url("/api/hooks"))
        .bearer_auth(&created.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);

    let keys = app.service.list_api_keys(&admin).await.unwrap();
    let used = keys.iter().find(|k| k.id == created.key.id).unwrap();
    assert!(used.last_used_at.is_some(), "use is recorded");
    assert!(created.secret.starts_with(&used.prefix));
}

/// A key revoked where this process cannot see it (another instance, the
/// CLI) stops working here within the two seconds a valid key is trusted.
async fn a_key_revoked_elsewhere_stops_within_seconds() {
    let app = spawn_app().await;
    let created = app.service.issue_api_key("elsewhere").await.unwrap();
    let status = || async {
        app.client
            .get(app.url("/api/hooks"))
            .bearer_auth(&created.secret)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(status().await, StatusCode::OK);
    let revoked_at = std::time::Instant::now();
    assert!(app
        .service
        .store()
        .revoke_api_key(&created.key.id, 0)
        .await
        .unwrap());
    while status().await != StatusCode::UNAUTHORIZED {
        assert!(
            revoked_at.elapsed() < std::time::Duration::from_secs(4),
            "a key revoked elsewhere still works after 4 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn health_answers_without_a_key_and_reports_the_queue() {
    let app = spawn_app().await;
    let health = |app: &common::TestApp| {
        let request = app.client.get(app.url("/health"));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let fresh = health(&app).await;
    assert_eq!(fresh["status"], "ok");
    assert_eq!(fresh["database"], true);
    assert_eq!(fresh["dispatcher"], true);
    assert_eq!(fresh["oldestPendingAgeMs"], Value::Null);

    // A delivery that keeps failing waits; its age shows.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let hook = json!({ "name": "down", "events": ["User.Created"], "config": { "url": url } });
    assert_eq!(app.create_hook(hook).await.status(), StatusCode::CREATED);
    let event = app
        .api(Method::POST, "/api/events")
        .json(&json!({ "event": "User.Created" }))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let waiting = health(&app).await;
    assert!(
        waiting["oldestPendingAgeMs"].as_i64().unwrap() >= 50,
        "{waiting}"
    );

    // Once the dispatcher has stopped, the service is not healthy.
    app.shutdown.cancel();
    app.server.await.unwrap();
    let stopped = app.service.health().await;
    assert!(!stopped.dispatcher && !stopped.ok());
}

async fn unknown_api_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let missing = app
        .api(Method::GET, "/api/nothing-here")
        .send()
        .await
        .unwrap();
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = app.api(Method::PUT, "/api/hooks").send().await.unwrap();
    assert_error(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let huge = json!({ "name": "x".repeat(3 * 1024 * 1024), "events": ["User.Created"], "config": { "url": "https://a.io" } });
    let response = app.create_hook(huge).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

async fn one_hook_can_carry_its_execution_stats() {
    let app = spawn_app().await;
    let created: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let with = app
        .get_json(&format!("/api/hooks/{id}?includeExecutionStats=true"))
        .await;
    assert_eq!(
        with["executionStats"],
        json!({ "requestCount": 0, "successCount": 0 })
    );
}

async fn concurrent_patches_and_rotations_do_not_undo_each_other() {
    let app = spawn_app().await;
    let created: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (request, rotate) = if i % 2 == 0 {
            (
                app.api(Method::PATCH, &format!("/api/hooks/{id}/signing-key")),
                true,
            )
        } else {
            (
                app.api(Method::PATCH, &format!("/api/hooks/{id}"))
                    .json(&json!({ "name": format!("n{i}") })),
                false,
            )
        };
        tasks.push(tokio::spawn(async move {
            let hook: Value = request.send().await.unwrap().json().await.unwrap();
            (
                rotate,
                hook["signingKey"].as_str().unwrap().to_owned(),
                hook["updatedAt"].as_i64().unwrap(),
            )
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let last = app.get_json(&format!("/api/hooks/{id}")).await;
    let rotated: Vec<&String> = results.iter().filter(|r| r.0).map(|r| &r.1).collect();
    assert!(
        rotated.contains(&&last["signingKey"].as_str().unwrap().to_owned()),
        "the stored key is one a rotation returned"
    );
    assert_ne!(last["signingKey"], created["signingKey"]);
}

crate::on_both_databases!(
    create_returns_the_hook_in_logtos_shape_with_a_signing_key,
    list_get_patch_rotate_delete,
    each_invalid_field_is_a_400_naming_it_and_nothing_is_saved,
    too_many_or_too_large_headers_are_refused_and_nothing_is_saved,
    an_invalid_patch_changes_nothing,
    malformed_bodies_and_queries_are_400s_with_json_errors,
    missing_wrong_and_revoked_keys_are_401,
    a_key_revoked_elsewhere_stops_within_seconds,
    health_answers_without_a_key_and_reports_the_queue,
    unknown_api_routes_and_methods_answer_json,
    an_oversized_body_is_a_413,
    one_hook_can_carry_its_execution_stats,
    concurrent_patches_and_rotations_do_not_undo_each_other,
);
