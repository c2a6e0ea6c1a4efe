//! Secrets and viewers: a viewer gets every hook's signing key and custom
//! header values masked, from every server function (and service call) that
//! returns a hook, a delivery or an event, and from the pages rendered on the
//! server; an admin (and an API key, which acts as one) gets them whole.

mod common;

use common::flow::{finished, ingest_ok, only_delivery, WAIT};
use common::receiver::{Receiver, Reply};
use common::{spawn_app, TestApp};
use domain::hook::whsec;
use domain::ids::EventId;
use domain::ports::{Actor, ActorKind, DeliveryPort, SECRET_MASK};
use domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";
/// The receiver's own credential, carried in a custom header.
const HEADER_SECRET: &str = "receiver-credential-7d1f";
/// A header value typed into the settings form for a test send.
const FORM_SECRET: &str = "form-credential-93ab";

/// Asserts that `text` carries none of the secrets.
fn assert_no_secret(text: &str, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} leaks `{secret}`:\n{text}");
    }
}

async fn rpc_ok(app: &TestApp, name: &str, cookie: &str, form: &[(&str, &str)]) -> String {
    let response = app.rpc_form(name, Some(cookie), form).await;
    assert_eq!(response.status(), StatusCode::OK, "{name}");
    response.text().await.unwrap()
}

/// The value of request header `name` in a delivery's attempt `index`.
fn request_header<'a>(delivery: &'a Value, index: usize, name: &str) -> &'a str {
    delivery["attempts"][index]["requestHeaders"]
        .as_array()
        .unwrap_or_else(|| panic!("no requestHeaders in {delivery}"))
        .iter()
        .find(|pair| pair[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .and_then(|pair| pair[1].as_str())
        .unwrap_or_else(|| panic!("no {name} in {delivery}"))
}

async fn a_viewer_gets_signing_keys_and_header_values_masked_an_admin_whole() {
    let app = spawn_app().await;
    app.add_user("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let viewer_id = app
        .add_user("viewer@example.com", PASSWORD, Role::Viewer)
        .await;
    let admin = app.sign_in("admin@example.com", PASSWORD).await;
    let viewer = app.sign_in("viewer@example.com", PASSWORD).await;
    let receiver = Receiver::start(Reply::status(200).body("ok")).await;

    // A hook whose custom header carries the receiver's credential.
    let created = app
        .create_hook(json!({
            "name": "CRM sync",
            "events": ["PostRegister"],
            "config": { "url": receiver.url, "headers": { "X-Api-Key": HEADER_SECRET, "X-Tenant": "acme" } }
        }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    // The API key acts as an admin: the key is in the answer.
    let first_key = created["signingKey"].as_str().unwrap().to_owned();
    assert_eq!(first_key.len(), 32);

    // An admin rotates it from the console and is told the new key.
    let rotated: Value =
        serde_json::from_str(&rpc_ok(&app, "rotate_signing_key", &admin, &[("id", &id)]).await)
            .unwrap();
    let key = rotated["signingKey"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert_ne!(key, first_key);

    // A delivery, and a test send with a header typed into the form.
    let event = ingest_ok(&app, json!({ "event": "PostRegister", "userId": "u1" })).await;
    let event_id = event["id"].as_str().unwrap().to_owned();
    let delivery_id = only_delivery(&app, &event_id).await;
    finished(&app, &delivery_id, WAIT).await;
    let tested = app
        .rpc_json(
            "test_hook",
            Some(&admin),
            json!({ "id": id, "input": { "events": ["PostRegister"], "config": {
                "url": receiver.url, "headers": { "X-Form-Key": FORM_SECRET } } } }),
        )
        .await;
    assert_eq!(tested.status(), StatusCode::OK);
    let tested: Value = tested.json().await.unwrap();
    let test_delivery_id = tested["outcomes"][0]["deliveryId"]
        .as_str()
        .unwrap()
        .to_owned();
    receiver.wait_for(2, WAIT).await;

    let secrets = [
        key.as_str(),
        first_key.as_str(),
        HEADER_SECRET,
        FORM_SECRET,
        // The `whsec_` form without its prefix, in case it is shown elsewhere.
        &whsec(&key)["whsec_".len()..],
    ];
    let secrets = secrets.map(str::to_owned);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();

    // The viewer: every hook answer masks the key and header values, not names.
    let listed = rpc_ok(&app, "list_hooks", &viewer, &[]).await;
    assert_no_secret(&listed, &secrets, "list_hooks");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let one = rpc_ok(&app, "get_hook", &viewer, &[("id", &id)]).await;
    assert_no_secret(&one, &secrets, "get_hook");
    let one: Value = serde_json::from_str(&one).unwrap();
    for hook in [&listed[0], &one] {
        assert_eq!(hook["id"], id.as_str());
        assert_eq!(hook["signingKey"], SECRET_MASK, "{hook}");
        assert_eq!(
            hook["config"]["headers"],
            json!({ "X-Api-Key": SECRET_MASK, "X-Tenant": SECRET_MASK }),
            "{hook}"
        );
        assert_eq!(hook["config"]["url"], receiver.url.as_str());
    }

    // Deliveries: custom header values masked, Hookline's own headers whole.
    for (delivery_id, custom) in [
        (&delivery_id, "X-Api-Key"),
        (&test_delivery_id, "X-Form-Key"),
    ] {
        let text = rpc_ok(&app, "get_delivery", &viewer, &[("id", delivery_id)]).await;
        assert_no_secret(&text, &secrets, "get_delivery");
        let delivery: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(request_header(&delivery, 0, custom), SECRET_MASK);
        assert!(request_header(&delivery, 0, "webhook-signature").starts_with("v1,"));
        assert_eq!(
            request_header(&delivery, 0, "webhook-id"),
            delivery_id.as_str()
        );
        assert!(request_header(&delivery, 0, "user-agent").starts_with("Hookline/"));
        assert_eq!(
            request_header(&delivery, 0, "content-type"),
            "application/json"
        );
        assert_eq!(
            request_header(&delivery, 0, "logto-signature-sha-256").len(),
            64
        );
    }

    // The Requests tab carries no headers at all, and no secret.
    let requests = rpc_ok(&app, "hook_requests", &viewer, &[("hook_id", &id)]).await;
    assert_no_secret(&requests, &secrets, "hook_requests");

    // `get_event` has no server function of its own (the console reaches it
    // through the admin-only sample send): ask the service as a viewer. Its
    // deliveries are summaries; should they ever carry attempts, they are masked.
    let viewer_actor = Actor {
        role: Role::Viewer,
        kind: ActorKind::ApiKey {
            id: viewer_id.clone().into(),
        },
    };
    let record = app
        .service
        .get_event(&viewer_actor, &EventId::from(event_id))
        .await
        .unwrap();
    assert_eq!(record.deliveries[0].id.as_str(), delivery_id);
    assert_no_secret(
        &serde_json::to_string(&record).unwrap(),
        &secrets,
        "get_event",
    );

    // Whatever returns a hook or a delivery and changes something is refused.
    for response in [
        app.rpc_form("rotate_signing_key", Some(&viewer), &[("id", &id)])
            .await,
        app.rpc_json(
            "update_hook",
            Some(&viewer),
            json!({ "id": id, "input": { "name": "x" } }),
        )
        .await,
        app.rpc_json(
            "create_hook",
            Some(&viewer),
            json!({ "input": { "name": "x", "events": ["PostRegister"], "config": { "url": "https://example.com" } } }),
        )
        .await,
        app.rpc_json(
            "test_hook",
            Some(&viewer),
            json!({ "id": id, "input": { "events": ["PostRegister"] } }),
        )
        .await,
        app.rpc_form("send_sample_event", Some(&viewer), &[("event", "PostRegister")])
            .await,
    ] {
        let url = response.url().to_string();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{url}");
        assert_no_secret(&response.text().await.unwrap(), &secrets, &url);
    }

    // The pages a viewer opens, rendered on the server with their data inline.
    for path in [
        "/webhooks".to_owned(),
        format!("/webhooks/{id}"),
        format!("/webhooks/{id}/requests"),
        format!("/deliveries/{delivery_id}"),
        format!("/deliveries/{test_delivery_id}"),
    ] {
        let page = app
            .client
            .get(app.url(&path))
            .header("cookie", &viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let html = page.text().await.unwrap();
        assert!(
            html.contains("CRM sync") || path.starts_with("/deliveries"),
            "{path}"
        );
        assert_no_secret(&html, &secrets, &path);
    }

    // The admin gets everything, from the console and from the API.
    let one: Value =
        serde_json::from_str(&rpc_ok(&app, "get_hook", &admin, &[("id", &id)]).await).unwrap();
    assert_eq!(one["signingKey"], key.as_str());
    assert_eq!(one["config"]["headers"]["X-Api-Key"], HEADER_SECRET);
    let listed: Value =
        serde_json::from_str(&rpc_ok(&app, "list_hooks", &admin, &[]).await).unwrap();
    assert_eq!(listed[0]["signingKey"], key.as_str());
    let delivery: Value =
        serde_json::from_str(&rpc_ok(&app, "get_delivery", &admin, &[("id", &delivery_id)]).await)
            .unwrap();
    assert_eq!(request_header(&delivery, 0, "X-Api-Key"), HEADER_SECRET);
    let tested: Value = serde_json::from_str(
        &rpc_ok(&app, "get_delivery", &admin, &[("id", &test_delivery_id)]).await,
    )
    .unwrap();
    assert_eq!(request_header(&tested, 0, "X-Form-Key"), FORM_SECRET);
    let page = app
        .client
        .get(app.url(&format!("/webhooks/{id}")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&key), "the admin's page carries the key");

    let api_hook = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_eq!(api_hook["signingKey"], key.as_str());
    assert_eq!(api_hook["config"]["headers"]["X-Api-Key"], HEADER_SECRET);
    let api_delivery = app
        .get_json(&format!("/api/deliveries/{delivery_id}"))
        .await;
    assert_eq!(request_header(&api_delivery, 0, "X-Api-Key"), HEADER_SECRET);
    // What the receiver got was never masked.
    assert_eq!(receiver.requests()[0].header("x-api-key"), HEADER_SECRET);
}

crate::on_both_databases!(a_viewer_gets_signing_keys_and_header_values_masked_an_admin_whole,);
