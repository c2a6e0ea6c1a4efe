//! Payload filters over real HTTP: saved with the hook, checked when saved,
//! and applied at ingestion, on both databases.

mod common;

use common::{assert_error, spawn_app, valid_hook};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn hook_with_filter(filter: Value) -> Value {
    let mut hook = valid_hook();
    hook["filter"] = filter;
    hook
}

async fn ingest(app: &common::TestApp, body: Value) -> Value {
    let response = app
        .api(Method::POST, "/api/events")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{body}");
    response.json().await.unwrap()
}

async fn only_matching_events_make_deliveries() {
    let app = spawn_app().await;
    let filter = json!({ "data": { "organizationId": { "$in": ["o1", "o2"] } } });
    let created = app.create_hook(hook_with_filter(filter.clone())).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["filter"], filter, "the filter comes back as saved");

    let matching = json!({ "event": "User.Created", "data": { "organizationId": "o2" } });
    assert_eq!(ingest(&app, matching).await["deliveries"], 1);
    let other = json!({ "event": "User.Created", "data": { "organizationId": "o3" } });
    assert_eq!(ingest(&app, other).await["deliveries"], 0);
    let without = json!({ "event": "User.Created" });
    assert_eq!(ingest(&app, without).await["deliveries"], 0);

    // The top-level `event` is part of the body a filter sees.
    let id = created["id"].as_str().unwrap();
    let patched = app
        .api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&json!({ "filter": { "event": "PostRegister" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(
        ingest(&app, json!({ "event": "PostRegister" })).await["deliveries"],
        1
    );
    assert_eq!(
        ingest(&app, json!({ "event": "User.Created" })).await["deliveries"],
        0
    );
}

async fn a_patch_without_the_field_keeps_the_filter_and_null_removes_it() {
    let app = spawn_app().await;
    let filter = json!({ "data": { "id": "u1" } });
    let created: Value = app
        .create_hook(hook_with_filter(filter.clone()))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let patch = |body: Value| {
        app.api(Method::PATCH, &format!("/api/hooks/{id}"))
            .json(&body)
            .send()
    };
    let renamed: Value = patch(json!({ "name": "Renamed" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["filter"], filter, "left out: kept");
    let cleared: Value = patch(json!({ "filter": null }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["filter"], Value::Null, "null: removed");
    let event = json!({ "event": "User.Created", "data": { "id": "u2" } });
    assert_eq!(ingest(&app, event).await["deliveries"], 1);
}

async fn an_invalid_filter_is_a_400_naming_its_path_and_nothing_is_saved() {
    let app = spawn_app().await;
    for (filter, path) in [
        (
            json!({ "data": { "id": { "$like": "u%" } } }),
            "data.id.$like",
        ),
        (json!({ "n": { "$gt": [1] } }), "n.$gt"),
        (json!({ "$or": [] }), "$or"),
        (json!(["not", "an", "object"]), "filter"),
    ] {
        let response = app.create_hook(hook_with_filter(filter.clone())).await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(path), "{filter}: {message}");
    }
    let hooks = app.get_json("/api/hooks").await;
    assert_eq!(hooks, json!([]), "nothing was saved");
}

crate::on_both_databases!(
    only_matching_events_make_deliveries,
    a_patch_without_the_field_keeps_the_filter_and_null_removes_it,
    an_invalid_filter_is_a_400_naming_its_path_and_nothing_is_saved,
);
