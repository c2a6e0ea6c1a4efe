//! The console's server functions over real HTTP: setup, sign-in, sessions, roles.

mod common;

use common::{session_cookie, spawn_app, valid_hook};
use domain::user::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

async fn first_run_setup_creates_the_admin_once_with_the_printed_token() {
    let app = spawn_app().await;
    let token = app
        .service
        .open_setup()
        .await
        .unwrap()
        .expect("setup is open");

    let wrong = app
        .rpc_form(
            "complete_setup",
            None,
            &[
                ("token", "guess"),
                ("email", "a@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    let short = app
        .rpc_form(
            "complete_setup",
            None,
            &[
                ("token", &token),
                ("email", "a@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert_eq!(short.json::<Value>().await.unwrap()["field"], "password");

    let done = app
        .rpc_form(
            "complete_setup",
            None,
            &[
                ("token", &token),
                ("email", "Admin@Example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(
        done.status().is_success() || done.status().is_redirection(),
        "{}",
        done.status()
    );
    let cookie = session_cookie(&done).expect("signed in");
    let me: Value = app
        .rpc_form("current_user", Some(&cookie), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "admin@example.com");
    assert_eq!(me["role"], "admin");

    let again = app
        .rpc_form(
            "complete_setup",
            None,
            &[
                ("token", &token),
                ("email", "b@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(
        again.status().is_client_error(),
        "the token works once: {}",
        again.status()
    );
    assert_eq!(app.service.open_setup().await.unwrap(), None);
}

async fn session_cookie_is_httponly_lax_and_secure_only_over_https() {
    let app = spawn_app().await;
    app.add_user("a@example.com", PASSWORD, Role::Admin).await;
    let plain = app
        .rpc_form(
            "sign_in",
            None,
            &[("email", "a@example.com"), ("password", PASSWORD)],
        )
        .await;
    let set_cookie = plain.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");

    let proxied = app
        .rpc("sign_in", None)
        .header("x-forwarded-proto", "https")
        .form(&[("email", "a@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(proxied.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
}

async fn failed_sign_ins_do_not_say_which_part_was_wrong_and_are_slowed_down() {
    let app = spawn_app().await;
    app.add_user("a@example.com", PASSWORD, Role::Admin).await;
    let mut messages = Vec::new();
    for (email, password) in [
        ("a@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let response = app
            .rpc_form("sign_in", None, &[("email", email), ("password", password)])
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(session_cookie(&response).is_none());
        messages.push(response.json::<Value>().await.unwrap()["message"].clone());
    }
    assert_eq!(
        messages[0], messages[1],
        "unknown email and wrong password read the same"
    );

    for _ in 0..3 {
        app.rpc_form(
            "sign_in",
            None,
            &[("email", "a@example.com"), ("password", "wrong password")],
        )
        .await;
    }
    let throttled = app
        .rpc_form(
            "sign_in",
            None,
            &[("email", "a@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        throttled.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
}

async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    app.add_user("a@example.com", PASSWORD, Role::Admin).await;
    let cookie = app.sign_in("a@example.com", PASSWORD).await;
    let me: Value = app
        .rpc_form("current_user", Some(&cookie), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "a@example.com");
    app.rpc_form("sign_out", Some(&cookie), &[]).await;
    let me: Value = app
        .rpc_form("current_user", Some(&cookie), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, Value::Null);
}

async fn anonymous_console_calls_are_refused() {
    let app = spawn_app().await;
    let response = app.rpc_form("list_hooks", None, &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .rpc_json(
            "create_hook",
            Some("hookline_session=forged"),
            json!({ "input": valid_hook() }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn a_viewer_reads_everything_and_changes_nothing() {
    let app = spawn_app().await;
    let admin_id = app
        .add_user("admin@example.com", PASSWORD, Role::Admin)
        .await;
    app.add_user("viewer@example.com", PASSWORD, Role::Viewer)
        .await;
    let hook: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    let id = hook["id"].as_str().unwrap();
    let key_id = app.service.issue_api_key("producer").await.unwrap().key.id;
    let viewer = app.sign_in("viewer@example.com", PASSWORD).await;

    let listed: Value = app
        .rpc_form("list_hooks", Some(&viewer), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], id);
    let keys = app.rpc_form("list_api_keys", Some(&viewer), &[]).await;
    assert_eq!(keys.status(), StatusCode::OK);
    for (name, form) in [
        ("hook_requests", vec![("hook_id", id)]),
        ("list_event_types", vec![]),
        ("get_retention", vec![]),
    ] {
        let read = app.rpc_form(name, Some(&viewer), &form).await;
        assert_eq!(read.status(), StatusCode::OK, "{name}");
    }

    let forbidden = [
        app.rpc_json(
            "create_hook",
            Some(&viewer),
            json!({ "input": valid_hook() }),
        )
        .await,
        app.rpc_json(
            "update_hook",
            Some(&viewer),
            json!({ "id": id, "input": { "enabled": false } }),
        )
        .await,
        app.rpc_form("delete_hook", Some(&viewer), &[("id", id)])
            .await,
        app.rpc_form("rotate_signing_key", Some(&viewer), &[("id", id)])
            .await,
        app.rpc_form("create_api_key", Some(&viewer), &[("name", "mine")])
            .await,
        app.rpc_form(
            "create_user",
            Some(&viewer),
            &[
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("role", "admin"),
            ],
        )
        .await,
        app.rpc_form("delete_user", Some(&viewer), &[("id", &admin_id)])
            .await,
        app.rpc_form("revoke_api_key", Some(&viewer), &[("id", key_id.as_str())])
            .await,
        app.rpc_form("save_retention", Some(&viewer), &[("days", "3")])
            .await,
        app.rpc_json(
            "test_hook",
            Some(&viewer),
            json!({ "id": id, "input": { "events": ["PostRegister"] } }),
        )
        .await,
        app.rpc_form("resend_delivery", Some(&viewer), &[("id", "any")])
            .await,
        app.rpc_form(
            "recover_failed",
            Some(&viewer),
            &[("hook_id", id), ("since", "0"), ("dry_run", "false")],
        )
        .await,
        app.rpc_json(
            "create_event_type",
            Some(&viewer),
            json!({ "input": { "name": "Order.Paid", "description": "Paid" } }),
        )
        .await,
        app.rpc_form(
            "send_sample_event",
            Some(&viewer),
            &[("event", "PostRegister")],
        )
        .await,
    ];
    for response in forbidden {
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{}",
            response.url()
        );
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "forbidden");
    }
    let after: Value = app.create_hook(valid_hook()).await.json().await.unwrap();
    assert_ne!(after["id"], hook["id"]);
    let unchanged: Value = app
        .rpc_form("get_hook", Some(&viewer), &[("id", id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["enabled"], true);
    // The key is unchanged, and only admins may read it (see viewer_secrets.rs).
    assert_eq!(unchanged["signingKey"], domain::ports::SECRET_MASK);
    let key = app.get_json(&format!("/api/hooks/{id}")).await;
    assert_eq!(key["signingKey"], hook["signingKey"]);
}

async fn an_admin_manages_hooks_users_and_keys_from_the_console() {
    let app = spawn_app().await;
    app.add_user("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let admin = app.sign_in("admin@example.com", PASSWORD).await;

    let created = app
        .rpc_json(
            "create_hook",
            Some(&admin),
            json!({ "input": valid_hook() }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let bad = app
        .rpc_json(
            "create_hook",
            Some(&admin),
            json!({ "input": { "name": "n", "events": [], "config": { "url": "https://a.io" } } }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "events");

    let user = app
        .rpc_form(
            "create_user",
            Some(&admin),
            &[
                ("email", "v@example.com"),
                ("password", PASSWORD),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(user.status(), StatusCode::OK);
    let duplicate = app
        .rpc_form(
            "create_user",
            Some(&admin),
            &[
                ("email", "V@example.com"),
                ("password", PASSWORD),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);

    let key: Value = app
        .rpc_form("create_api_key", Some(&admin), &[("name", "producer")])
        .await
        .json()
        .await
        .unwrap();
    let secret = key["secret"].as_str().unwrap();
    let with_key = app
        .client
        .get(app.url("/api/hooks"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), StatusCode::OK);
    let revoke = app
        .rpc_form(
            "revoke_api_key",
            Some(&admin),
            &[("id", key["key"]["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::OK);
    let with_key = app
        .client
        .get(app.url("/api/hooks"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), StatusCode::UNAUTHORIZED);
}

crate::on_both_databases!(
    first_run_setup_creates_the_admin_once_with_the_printed_token,
    session_cookie_is_httponly_lax_and_secure_only_over_https,
    failed_sign_ins_do_not_say_which_part_was_wrong_and_are_slowed_down,
    sign_out_ends_the_session,
    anonymous_console_calls_are_refused,
    a_viewer_reads_everything_and_changes_nothing,
    an_admin_manages_hooks_users_and_keys_from_the_console,
);

/// The sign-in page loads no wasm: its form posts as a plain HTML form and
/// the server answers with redirects, an error coming back in the URL.
#[tokio::test]
async fn the_sign_in_page_works_as_a_plain_form_without_the_wasm_app() {
    let app = spawn_app().await;
    app.add_user("a@example.com", PASSWORD, Role::Admin).await;
    let page = |path: &str, cookie: Option<&str>| {
        let request = app.client.get(app.url(path));
        let request = match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let loads_the_app = |html: &str| html.contains(".wasm");
    let sign_in_page = page("/sign-in", None).await;
    assert!(sign_in_page.contains("Sign in to the console"));
    assert!(!loads_the_app(&sign_in_page), "{sign_in_page}");

    // What a browser sends for the form without the app: text/html wanted,
    // the page it came from as the referer.
    let post = |password: &str| {
        app.rpc("sign_in", None)
            .header("accept", "text/html")
            .header("referer", app.url("/sign-in"))
            .form(&[("email", "a@example.com"), ("password", password)])
            .send()
    };
    let refused = post("wrong password").await.unwrap();
    assert!(refused.status().is_redirection(), "{}", refused.status());
    assert!(session_cookie(&refused).is_none());
    let back = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.contains("/sign-in?") && back.contains("__err="),
        "{back}"
    );
    // The referer's URL with the error added: on the sign-in page again.
    let back_path = &back[back.find("/sign-in").unwrap()..];
    let with_error = page(back_path, None).await;
    assert!(
        with_error.contains("wrong email or password"),
        "{with_error}"
    );

    let signed_in = post(PASSWORD).await.unwrap();
    assert!(
        signed_in.status().is_redirection(),
        "{}",
        signed_in.status()
    );
    assert_eq!(signed_in.headers()["location"], "/");
    let cookie = session_cookie(&signed_in).expect("a session");
    let overview = page("/", Some(&cookie)).await;
    assert!(loads_the_app(&overview), "the console's pages load the app");
}
