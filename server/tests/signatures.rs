//! Ed25519 hooks (Standard Webhooks `v1a`) end to end: the keys each answer
//! carries, and requests verified by a receiver written from the Standard
//! Webhooks text in Node (`tests/common/verify_v1a.mjs`), before, during
//! and after a rotation and a switch from HMAC, on both databases.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::flow::{add_hook, ingest_ok, WAIT};
use common::receiver::{Received, Receiver, Reply};
use common::{spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// True when the Node receiver accepts `request` with `public_key`.
fn node_verifies(public_key: &str, request: &Received) -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/verify_v1a.mjs");
    let mut node = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (Node.js, which scripts/setup.sh installs) runs the receiver's check");
    let input = json!({
        "publicKey": public_key,
        "id": request.header("webhook-id"),
        "timestamp": request.header("webhook-timestamp"),
        "signature": request.header("webhook-signature"),
        "body": String::from_utf8(request.body.to_vec()).unwrap(),
    });
    node.stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    if !output.status.success() {
        eprintln!("node: {}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.success()
}

async fn create_ed25519_hook(app: &TestApp, url: &str) -> Value {
    let response = app
        .create_hook(json!({
            "name": "ed25519",
            "events": ["PostSignIn"],
            "config": { "url": url },
            "signatureScheme": "ed25519",
        }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, path: &str, body: Option<Value>) -> Value {
    let request = app.api(Method::PATCH, path);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn an_ed25519_hook_signs_v1a_that_its_public_key_verifies() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let created = create_ed25519_hook(&app, &receiver.url).await;
    assert_eq!(created["signatureScheme"], "ed25519");
    assert!(
        created["signingKey"].as_str().unwrap().starts_with("whsk_"),
        "{created}"
    );
    let public_key = created["publicKey"].as_str().unwrap().to_owned();
    assert!(public_key.starts_with("whpk_"), "{created}");

    // The secret key was in the answer that made it, and never again.
    let id = created["id"].as_str().unwrap();
    let read = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_eq!(read["publicKey"], public_key.as_str());
    assert!(read.get("signingKey").is_none(), "{read}");
    let listed = app.get_json("/api/hooks").await;
    assert!(listed[0].get("signingKey").is_none(), "{listed}");

    ingest_ok(&app, json!({ "event": "PostSignIn", "userId": "u1" })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    assert!(request.header("webhook-signature").starts_with("v1a,"));
    assert_eq!(
        request.header("logto-signature-sha-256"),
        "",
        "no shared secret, no Logto header"
    );
    assert!(node_verifies(&public_key, &request));

    // The check can fail: another key, or a changed body.
    let other = create_ed25519_hook(&app, &receiver.url).await;
    assert!(!node_verifies(
        other["publicKey"].as_str().unwrap(),
        &request
    ));
    let mut tampered = request.clone();
    tampered.body = request
        .body
        .iter()
        .map(|b| if *b == b'1' { b'2' } else { *b })
        .collect::<Vec<u8>>()
        .into();
    assert!(!node_verifies(&public_key, &tampered));
}

async fn during_an_ed25519_rotation_both_public_keys_verify() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let created = create_ed25519_hook(&app, &receiver.url).await;
    let id = created["id"].as_str().unwrap();
    let old = created["publicKey"].as_str().unwrap();
    let rotated = patch(&app, &format!("/api/hooks/{id}/signing-key"), None).await;
    let new = rotated["publicKey"].as_str().unwrap();
    assert_ne!(old, new);
    assert!(rotated["signingKey"].as_str().unwrap().starts_with("whsk_"));
    assert_ne!(rotated["signingKey"], created["signingKey"]);

    ingest_ok(&app, json!({ "event": "PostSignIn" })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    let signatures: Vec<&str> = request.header("webhook-signature").split(' ').collect();
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    assert!(signatures.iter().all(|s| s.starts_with("v1a,")));
    for public_key in [new, old] {
        assert!(node_verifies(public_key, &request), "{public_key}");
    }
}

async fn switching_an_hmac_hook_to_ed25519_keeps_the_old_key_signing_through_the_overlap() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(200)).await;
    let hook = add_hook(&app, &receiver.url, &["PostSignIn"]).await;
    let id = hook["id"].as_str().unwrap();
    let hmac_key = hook["signingKey"].as_str().unwrap();

    // The same scheme changes nothing.
    let same = patch(
        &app,
        &format!("/api/hooks/{id}"),
        Some(json!({ "signatureScheme": "hmac" })),
    )
    .await;
    assert_eq!(same["signingKey"], hmac_key);

    let switched = patch(
        &app,
        &format!("/api/hooks/{id}"),
        Some(json!({ "signatureScheme": "ed25519" })),
    )
    .await;
    assert_eq!(switched["signatureScheme"], "ed25519");
    assert!(
        switched["signingKey"]
            .as_str()
            .unwrap()
            .starts_with("whsk_"),
        "{switched}"
    );
    let public_key = switched["publicKey"].as_str().unwrap();

    ingest_ok(&app, json!({ "event": "PostSignIn" })).await;
    let request = receiver.wait_for(1, WAIT).await.remove(0);
    // The new key's v1a first, then the old key's v1, each verifiable.
    assert!(request.header("webhook-signature").starts_with("v1a,"));
    assert!(node_verifies(public_key, &request));
    let whsec = domain::hook::whsec(hmac_key);
    standardwebhooks::Webhook::new(&whsec)
        .unwrap()
        .verify(&request.body, &request.headers)
        .expect("the HMAC key's v1 still verifies during the overlap");
    assert!(
        !request.header("logto-signature-sha-256").is_empty(),
        "the old key signs Logto's header"
    );

    // A bad scheme is refused, naming the field.
    let refused = app
        .api(Method::PATCH, &format!("/api/hooks/{id}"))
        .json(&json!({ "signatureScheme": "rsa" }))
        .send()
        .await
        .unwrap();
    let body = common::assert_error(refused, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("signatureScheme"),
        "{body}"
    );
}

crate::on_both_databases!(
    an_ed25519_hook_signs_v1a_that_its_public_key_verifies,
    during_an_ed25519_rotation_both_public_keys_verify,
    switching_an_hmac_hook_to_ed25519_keeps_the_old_key_signing_through_the_overlap,
);
