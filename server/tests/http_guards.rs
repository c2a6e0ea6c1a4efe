//! The HTTP server against hostile clients: sign-in floods, slow clients,
//! and console requests from other origins.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::database::TestDatabase;
use common::process::Hookline;
use common::{spawn_app, spawn_app_with_options, test_settings, TestApp};
use hookline::http::HttpSettings;
use hookline::ServeOptions;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "correct horse battery";

/// The most memory process `pid` has held resident so far, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024
}

/// A client whose connections come from `source` (any 127.x address is ours).
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn sign_in_from(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/rpc/sign_in"))
        .header("origin", base)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Starts the real binary with an admin `admin@example.com`.
async fn hookline_with_admin(database: &TestDatabase) -> Hookline {
    let mut create = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args([
            "admin",
            "create",
            "--email",
            "admin@example.com",
            "--password-stdin",
        ])
        .env("HOOKLINE_DATABASE_URL", &database.url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .await
        .unwrap();
    assert!(create.wait().await.unwrap().success());
    Hookline::start(database, &[]).await
}

/// 200 sign-ins at once with distinct emails, from `sources`; returns how
/// many were refused with 429 and a Retry-After, and the slowest refusal.
async fn flood(base: &str, sources: &[String]) -> (usize, Duration) {
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let client = client_from(&sources[n % sources.len()]);
            let base = base.to_owned();
            tokio::spawn(async move {
                let started = Instant::now();
                let email = format!("guess{n}@example.com");
                let sent = client
                    .post(format!("{base}/rpc/sign_in"))
                    .header("origin", &base)
                    .form(&[("email", email.as_str()), ("password", "not the password")])
                    .send()
                    .await;
                // Past its connections per address, a client is cut off at once.
                let Ok(response) = sent else {
                    return (true, started.elapsed());
                };
                let refused = response.status() == StatusCode::TOO_MANY_REQUESTS;
                if refused {
                    assert!(response.headers().contains_key("retry-after"));
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(body["code"], "too_many_requests");
                } else {
                    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
                }
                (refused, started.elapsed())
            })
        })
        .collect();
    let mut refused = 0;
    let mut slowest_refusal = Duration::ZERO;
    for task in tasks {
        let (was_refused, took) = task.await.unwrap();
        if was_refused {
            refused += 1;
            slowest_refusal = slowest_refusal.max(took);
        }
    }
    (refused, slowest_refusal)
}

#[tokio::test]
async fn one_address_holds_only_its_share_of_connections() {
    let app = app_with_http(HttpSettings {
        max_connections_per_address: 3,
        ..HttpSettings::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut over, Duration::from_secs(2)).await,
        "the fourth is closed"
    );
    // Another address is served meanwhile; closing one frees a place.
    let elsewhere = client_from("127.0.0.2");
    let health = elsewhere.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = client_from("127.0.0.1")
        .get(app.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_anonymous_body_is_not_read_and_console_bodies_are_capped() {
    let app = spawn_app().await;
    // A large event without a key: refused before its body is read.
    let anonymous = app
        .client
        .post(app.url("/api/events"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Server functions take at most 256 KiB, declared or streamed.
    let declared = app
        .rpc("sign_in", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await
        .unwrap();
    common::assert_error(declared, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Chunked, so no length is declared: cut off as it passes the cap.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /rpc/sign_in HTTP/1.1\r\nHost: {addr}\r\nOrigin: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("2000\r\n{}\r\n", "a".repeat(8 * 1024));
    for _ in 0..40 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// Memory stays bounded: each password check takes ~19 MiB, and only a few
/// run at once (two per core); before the bound, this flood took gigabytes.
const RSS_BOUND_MIB: u64 = 200;

#[tokio::test]
async fn a_sign_in_flood_from_one_address_is_refused_quickly_and_others_still_sign_in() {
    let database = TestDatabase::fresh().await;
    let server = hookline_with_admin(&database).await;
    let pid = server.child.id().unwrap();

    let (refused, slowest) = flood(&server.base, &["127.0.0.1".to_owned()]).await;
    assert!(refused >= 150, "only {refused} of 200 were refused");
    assert!(
        slowest < Duration::from_secs(5),
        "a refusal took {slowest:?}"
    );
    let peak = peak_rss_mib(pid);
    assert!(peak < RSS_BOUND_MIB, "peak RSS {peak} MiB");

    // The admin, from another address, is not locked out.
    let elsewhere = client_from("127.0.0.2");
    let response = sign_in_from(&elsewhere, &server.base, "admin@example.com", PASSWORD).await;
    assert!(
        common::session_cookie(&response).is_some(),
        "{}",
        response.status()
    );
}

#[tokio::test]
async fn a_sign_in_flood_from_many_addresses_keeps_memory_bounded() {
    let database = TestDatabase::fresh().await;
    let server = hookline_with_admin(&database).await;
    let pid = server.child.id().unwrap();
    let sources: Vec<String> = (1..=200).map(|n| format!("127.0.1.{n}")).collect();

    let (refused, _) = flood(&server.base, &sources).await;
    assert!(refused >= 100, "only {refused} of 200 were refused");
    let peak = peak_rss_mib(pid);
    assert!(peak < RSS_BOUND_MIB, "peak RSS {peak} MiB");

    // Once the server's ceiling refills, the admin signs in.
    let elsewhere = client_from("127.0.0.3");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = sign_in_from(&elsewhere, &server.base, "admin@example.com", PASSWORD).await;
        if common::session_cookie(&response).is_some() {
            break;
        }
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(Instant::now() < deadline, "still refused after 10 s");
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

async fn app_with_http(http: HttpSettings) -> TestApp {
    spawn_app_with_options(
        test_settings(),
        ServeOptions {
            http,
            ..ServeOptions::default()
        },
    )
    .await
}

/// Whether the server has closed `stream` (reads end or fail) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off_and_health_answers_throughout() {
    let app = app_with_http(HttpSettings {
        header_read_timeout: Duration::from_secs(2),
        ..HttpSettings::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut tricklers = Vec::new();
    for _ in 0..20 {
        tricklers.push(TcpStream::connect(&addr).await.unwrap());
    }
    let request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let started = Instant::now();
    let mut cut_off = vec![false; tricklers.len()];
    for byte in request.iter().cycle().take(8) {
        for (n, stream) in tricklers.iter_mut().enumerate() {
            if !cut_off[n] && stream.write_all(&[*byte]).await.is_err() {
                cut_off[n] = true;
            }
        }
        let health = app.client.get(app.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for stream in &mut tricklers {
        assert!(closed_within(stream, Duration::from_secs(3)).await);
    }
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let app = app_with_http(HttpSettings {
        body_read_timeout: Duration::from_secs(1),
        ..HttpSettings::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"event\"",
        app.api_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 1s"), "{answer}");
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_a_slot_frees() {
    let app = app_with_http(HttpSettings {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(3),
        ..HttpSettings::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut idle = vec![
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::new();
    let while_full = client
        .get(app.url("/health"))
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    assert!(while_full.is_err(), "a third connection was served at once");
    // The idle ones are cut off by the header timeout; then there is room.
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
    let after = client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::OK);
}

async fn api_key_count(app: &TestApp, cookie: &str) -> usize {
    let response = app.rpc("list_api_keys", Some(cookie)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Vec<Value>>().await.unwrap().len()
}

#[tokio::test]
async fn console_requests_from_another_origin_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.add_user("admin@example.com", PASSWORD, domain::user::Role::Admin)
        .await;
    let cookie = app.sign_in("admin@example.com", PASSWORD).await;
    let before = api_key_count(&app, &cookie).await;
    let create_key = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request = app
            .client
            .post(app.url("/rpc/create_api_key"))
            .header("cookie", &cookie)
            .form(&[("name", "planted")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };

    let port = app.base.rsplit(':').next().unwrap();
    let foreign = [
        (Some("http://127.0.0.1:9400".to_owned()), None),
        (Some(format!("http://localhost:{port}")), None),
        (Some("null".to_owned()), None),
        (None, Some("same-site")),
        (None, Some("cross-site")),
        (None, None),
    ];
    for (origin, site) in &foreign {
        let response = create_key(origin.as_deref(), *site).await.unwrap();
        let body = common::assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
        assert!(
            body["message"].as_str().unwrap().contains("refused"),
            "{body}"
        );
    }
    assert_eq!(
        api_key_count(&app, &cookie).await,
        before,
        "nothing created"
    );

    // Login CSRF: a foreign page cannot sign the browser in either.
    let sign_in = app
        .client
        .post(app.url("/rpc/sign_in"))
        .header("origin", "http://127.0.0.1:9400")
        .form(&[("email", "admin@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), StatusCode::FORBIDDEN);
    assert!(common::session_cookie(&sign_in).is_none());

    // From the console itself it works, by Origin or by Sec-Fetch-Site.
    let own = create_key(Some(&app.base), None).await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let own = create_key(None, Some("same-origin")).await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(api_key_count(&app, &cookie).await, before + 2);

    // The REST API authenticates with a bearer key, so Origin does not matter.
    let api = app
        .api(reqwest::Method::GET, "/api/hooks")
        .header("origin", "http://127.0.0.1:9400")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
}

#[tokio::test]
async fn behind_a_proxy_only_the_public_url_is_the_consoles_origin() {
    let app = app_with_http(HttpSettings {
        public_origin: Some("https://hooks.example.com".into()),
        ..HttpSettings::default()
    })
    .await;
    let sign_in = |origin: String| {
        app.client
            .post(app.url("/rpc/sign_in"))
            .header("origin", origin)
            .form(&[("email", "nobody@example.com"), ("password", PASSWORD)])
            .send()
    };
    // The request's own host is no longer enough; the public origin is.
    let own_host = sign_in(app.base.clone()).await.unwrap();
    assert_eq!(own_host.status(), StatusCode::FORBIDDEN);
    let public = sign_in("https://hooks.example.com".into()).await.unwrap();
    assert_eq!(
        public.status(),
        StatusCode::UNAUTHORIZED,
        "checked, not refused"
    );
}

#[tokio::test]
async fn pages_forbid_framing_and_inline_scripts_without_their_nonce_and_secrets_are_not_cached() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let policy = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let script_src = policy
        .split(';')
        .find(|directive| directive.trim().starts_with("script-src"))
        .expect("script-src");
    assert!(!script_src.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src")
        .to_owned();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let inline_scripts = html.matches("<script").count();
    assert!(inline_scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        inline_scripts,
        "every script carries the page's nonce"
    );

    // A new hook's answer carries its signing key: never cached.
    let created = app
        .api(reqwest::Method::POST, "/api/hooks")
        .json(&common::valid_hook())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_session_holds_only_a_few_live_streams_and_a_closed_one_frees_its_place() {
    let app = app_with_http(HttpSettings {
        live_streams_per_session: 2,
        max_connections: 12,
        ..HttpSettings::default()
    })
    .await;
    app.add_user("admin@example.com", PASSWORD, domain::user::Role::Admin)
        .await;
    let cookie = app.sign_in("admin@example.com", PASSWORD).await;
    let other_session = app.sign_in("admin@example.com", PASSWORD).await;
    let created = app.create_hook(common::valid_hook()).await;
    let hook: Value = created.json().await.unwrap();
    let live = app.url(&format!("/live/hooks/{}", hook["id"].as_str().unwrap()));
    let open = |cookie: &str| {
        app.client
            .get(&live)
            .header("cookie", cookie.to_owned())
            .send()
    };

    let first = open(&cookie).await.unwrap();
    let second = open(&cookie).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let third = open(&cookie).await.unwrap();
    let body =
        common::assert_error(third, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert!(body["message"].as_str().unwrap().contains("2 live streams"));
    // Another session has places of its own, up to the server's share of
    // connections for streams (a quarter of --max-connections).
    let other = open(&other_session).await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    let third_session = app.sign_in("admin@example.com", PASSWORD).await;
    let over_all = open(&third_session).await.unwrap();
    let body =
        common::assert_error(over_all, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert!(
        body["message"].as_str().unwrap().contains("3 live streams"),
        "{body}"
    );

    // The page went away: its stream's place is free again.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let again = open(&cookie).await.unwrap();
        if again.status() == StatusCode::OK {
            break;
        }
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(Instant::now() < deadline, "the closed stream still counts");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
