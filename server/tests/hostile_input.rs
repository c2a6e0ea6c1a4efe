//! Hostile input: what a client sends may be refused, but never answered with
//! a 500, and never stored in a form that cannot be read back. And while the
//! database cannot be reached, ingestion answers 503 with `Retry-After`, so
//! producers retry.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::database::{run_on, Backend, TestDatabase};
use common::flow::{add_hook, ingest_ok};
use common::receiver::{Receiver, Reply};
use common::{assert_error, spawn_app, test_settings, TestApp};
use hookline::service::{Service, MAX_EVENT_DEPTH};
use hookline::store::Store;
use hookline::ServeOptions;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// POSTs `body` to `/api/events` as it is, bytes that `serde_json::Value`
/// could not even hold.
async fn post_raw(app: &TestApp, body: impl Into<String>) -> reqwest::Response {
    app.api(Method::POST, "/api/events")
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .unwrap()
}

/// How many events the database holds, read straight from it.
async fn stored_events(database: &TestDatabase) -> i64 {
    let sql = "SELECT COUNT(*) FROM events";
    match database.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&database.url)
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&database.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
    }
}

/// `{"event": name, "data": [[…[1]…]]}`, nested `levels` deep in all (the
/// body's own object is level 1).
fn nested(name: &str, levels: usize) -> String {
    let arrays = levels - 1;
    format!(
        r#"{{"event":"{name}","data":{}1{}}}"#,
        "[".repeat(arrays),
        "]".repeat(arrays)
    )
}

/// Asserts a 400 `invalid_input` whose `field` is `field` and whose message
/// says `says`.
async fn assert_refused(response: reqwest::Response, field: &str, says: &str) {
    let body = assert_error(response, StatusCode::BAD_REQUEST, "invalid_input").await;
    assert_eq!(body["field"], field, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
}

/// Asserts that a hook's log is empty and that its receiver got nothing.
async fn assert_nothing_happened(app: &TestApp, hook_id: &str, receiver: &Receiver) {
    let logs = app
        .get_json(&format!("/api/hooks/{hook_id}/recent-logs"))
        .await;
    assert_eq!(logs, json!([]), "{logs}");
    assert_eq!(stored_events(&app.database).await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.requests().is_empty());
}

async fn events_of_a_custom_type_with_a_schema_refuse_unreadable_values() {
    let app = spawn_app().await;
    let created = app
        .call_json(
            Method::POST,
            "/api/event-types",
            json!({"name": "Order.Paid", "description": "An order was paid",
                   "schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let receiver = Receiver::start(Reply::status(204)).await;
    let hook = add_hook(&app, &receiver.url, &["Order.Paid"]).await;
    let hook_id = hook["id"].as_str().unwrap();

    // Each of these answered 500 `internal` once the schema had to read them.
    let deep = nested("Order.Paid", 129);
    assert_refused(
        post_raw(&app, deep).await,
        &too_deep_at(),
        "deeper than 64 levels",
    )
    .await;
    let huge = r#"{"event":"Order.Paid","amount":1e999999}"#;
    assert_refused(post_raw(&app, huge).await, "/amount", "out of range").await;
    let surrogate = r#"{"event":"Order.Paid","note":"\ud800"}"#;
    assert_refused(post_raw(&app, surrogate).await, "/note", "lone surrogate").await;
    assert_nothing_happened(&app, hook_id, &receiver).await;

    // The schema still runs for readable events.
    let fine = post_raw(
        &app,
        r#"{"event":"Order.Paid","amount":1e300,"note":"\ud83d\ude00"}"#,
    );
    assert_eq!(fine.await.status(), StatusCode::ACCEPTED);
}

/// The pointer of the first container past the limit in `nested`.
fn too_deep_at() -> String {
    format!("/data{}", "/0".repeat(MAX_EVENT_DEPTH - 1))
}

async fn built_in_events_too_deep_to_read_back_are_refused_before_they_are_stored() {
    let app = spawn_app().await;
    let receiver = Receiver::start(Reply::status(204)).await;
    let hook = add_hook(&app, &receiver.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();

    // Was 202 and delivered, then read back as `"payload": null`.
    let response = post_raw(&app, nested("User.Created", 100_000)).await;
    assert_refused(response, &too_deep_at(), "deeper than 64 levels").await;
    let response = post_raw(&app, r#"{"event":"User.Created","n":-1e400}"#).await;
    assert_refused(response, "/n", "out of range").await;
    let response = post_raw(&app, r#"{"event":"User.Created","user":{"\udc00":1}}"#).await;
    assert_refused(response, "/user", "lone surrogate").await;
    assert_nothing_happened(&app, hook_id, &receiver).await;

    // At the limit, the event is stored and reads back as it was sent.
    let deepest = nested("User.Created", MAX_EVENT_DEPTH);
    let response = post_raw(&app, deepest.clone()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = app.get_json(&format!("/api/events/{id}")).await;
    let sent: Value = serde_json::from_str(&deepest).unwrap();
    assert_eq!(event["payload"]["data"], sent["data"]);
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(delivered[0].json()["data"], sent["data"]);
}

async fn event_type_names_descriptions_and_schemas_are_capped() {
    let app = spawn_app().await;
    let create = |body: Value| app.call_json(Method::POST, "/api/event-types", body);

    let megabyte_name = format!("A{}", "a".repeat(1024 * 1024));
    let response = create(json!({"name": megabyte_name, "description": "d"})).await;
    assert_refused(response, "name", "at most 128 characters").await;
    let name_129 = format!("A{}", "a".repeat(128));
    let response = create(json!({"name": name_129, "description": "d"})).await;
    assert_refused(response, "name", "at most 128 characters").await;
    let response = create(json!({"name": "Order.Paid", "description": "d".repeat(257)})).await;
    assert_refused(response, "description", "at most 256 characters").await;
    let big_schema = json!({"type": "object", "description": "x".repeat(64 * 1024)});
    let response =
        create(json!({"name": "Order.Paid", "description": "d", "schema": big_schema})).await;
    assert_refused(response, "schema", "at most 64 KiB").await;

    let types = app.get_json("/api/event-types").await;
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["custom"] == false),
        "nothing refused was stored"
    );

    let name_128 = format!("A{}", "a".repeat(127));
    let response = create(json!({"name": name_128, "description": "d"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let key = &app.api_key;
    let list_hooks = |authorization: String| {
        app.client
            .get(app.url("/api/hooks"))
            .header("authorization", authorization)
            .send()
    };
    for value in [
        format!("Bearer {key}"),
        format!("bearer {key}"),
        format!("BEARER {key}"),
        format!("Bearer   {key}"),
    ] {
        let response = list_hooks(value.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{value}");
    }
    for value in [
        format!("Basic {key}"),
        format!("Bearer{key}"),
        "bearer ".into(),
    ] {
        let response = list_hooks(value).await.unwrap();
        assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

crate::on_both_databases!(
    events_of_a_custom_type_with_a_schema_refuse_unreadable_values,
    built_in_events_too_deep_to_read_back_are_refused_before_they_are_stored,
    event_type_names_descriptions_and_schemas_are_capped,
    the_bearer_scheme_is_case_insensitive,
);

// --- The database out of reach -------------------------------------------

/// A TCP relay between the app and PostgreSQL that the test can cut, as a
/// server restart does: open connections end, new ones are refused.
struct Relay {
    addr: SocketAddr,
    upstream: String,
    accepting: Mutex<Option<JoinHandle<()>>>,
    links: Arc<Mutex<Vec<Link>>>,
}

/// One relayed connection: its task, and the port PostgreSQL sees it from.
struct Link {
    task: JoinHandle<()>,
    upstream_port: u16,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay {
            addr: listener.local_addr().unwrap(),
            upstream,
            accepting: Mutex::new(None),
            links: Arc::default(),
        };
        relay.accept(listener);
        relay
    }

    fn accept(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let links = self.links.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let upstream_port = server.local_addr().unwrap().port();
                let task = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                links.lock().unwrap().push(Link {
                    task,
                    upstream_port,
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    /// Refuses new connections from now on; returns the PostgreSQL client
    /// ports of the connections still open.
    async fn refuse(&self) -> Vec<i32> {
        let task = self.accepting.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        let links = self.links.lock().unwrap();
        links
            .iter()
            .filter(|link| !link.task.is_finished())
            .map(|link| i32::from(link.upstream_port))
            .collect()
    }

    /// Accepts connections again, on the same address.
    fn reopen(&self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        self.accept(socket.listen(64).unwrap());
    }
}

/// The app, its store connected to PostgreSQL through `relay`.
async fn spawn_app_through(relay: &Relay, database: TestDatabase) -> TestApp {
    let (scheme, rest) = database.url.split_once("://").unwrap();
    let (authority, tail) = rest.split_once('/').unwrap();
    let user = authority
        .rsplit_once('@')
        .map_or(String::new(), |(user, _)| format!("{user}@"));
    let url = format!("{scheme}://{user}{}/{tail}", relay.addr);
    let service = Arc::new(Service::new(
        Store::connect(&url).await.expect("database"),
        test_settings(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let (served, stop) = (service.clone(), shutdown.clone());
    let server = tokio::spawn(async move {
        hookline::serve(listener, served, ServeOptions::default(), stop)
            .await
            .expect("server");
    });
    let api_key = service.issue_api_key("tests").await.unwrap().secret;
    TestApp {
        base,
        service,
        api_key,
        client: reqwest::Client::new(),
        shutdown,
        server,
        database,
    }
}

/// Ingests an event; unless it is accepted, asserts a 503 `unavailable`
/// with a `Retry-After` in seconds, answered within `bound`. Returns whether
/// it was accepted and how long the answer took.
async fn try_ingest(app: &TestApp, bound: Duration) -> (bool, Duration) {
    let started = Instant::now();
    let response = post_raw(app, r#"{"event":"User.Created","user":{"id":"u1"}}"#).await;
    let took = started.elapsed();
    if response.status() == StatusCode::ACCEPTED {
        return (true, took);
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_error(response, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!(seconds >= 1, "{seconds}");
    assert!(took < bound, "the 503 took {took:?}");
    (false, took)
}

/// Asserts a 503 as `try_ingest` does; returns how long it took.
async fn assert_unavailable(app: &TestApp, bound: Duration) -> Duration {
    let (accepted, took) = try_ingest(app, bound).await;
    assert!(!accepted, "accepted while the database was out of reach");
    took
}

/// While PostgreSQL restarts — its connections ended by the server
/// (57P01), new ones refused — ingestion answers 503 with `Retry-After`
/// within a few seconds, stores nothing, and works again once the server
/// is back.
#[tokio::test]
async fn ingestion_answers_503_while_postgres_restarts() {
    run_on(Backend::Postgres, async {
        let database = TestDatabase::fresh().await;
        let (_, rest) = database.url.split_once("://").unwrap();
        let authority = rest.split('/').next().unwrap();
        let upstream = authority.rsplit('@').next().unwrap().to_owned();
        let relay = Relay::start(upstream).await;
        let app = spawn_app_through(&relay, database).await;
        ingest_ok(&app, json!({"event": "User.Created"})).await;

        // The restart: no new connections, and the server ends the open ones.
        let ports = relay.refuse().await;
        let mut admin = sqlx::PgConnection::connect(&app.database.url)
            .await
            .unwrap();
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE client_addr = '127.0.0.1' AND client_port = ANY($1)",
        )
        .bind(&ports)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(!ended.is_empty() && ended.iter().all(|e| *e), "{ports:?}");

        // Each pooled connection the server ended fails once (57P01) and is
        // dropped; then no connection can be had, and sqlx retries the
        // refused connects until the pool's acquire timeout (5 s). Every
        // answer meanwhile is a 503, within that timeout plus the group
        // commit's one try, not after a retry per event.
        let bound = Duration::from_secs(8);
        let mut waited_for_a_connection = false;
        for _ in 0..20 {
            if assert_unavailable(&app, bound).await >= Duration::from_secs(4) {
                waited_for_a_connection = true;
                break;
            }
        }
        assert!(waited_for_a_connection, "the pool never ran dry");
        assert_eq!(stored_events(&app.database).await, 1);

        // Back up: ingestion works again (a producer retrying after 503s).
        relay.reopen();
        let mut accepted = false;
        for _ in 0..20 {
            if try_ingest(&app, bound).await.0 {
                accepted = true;
                break;
            }
        }
        assert!(accepted, "ingestion never recovered");
        assert_eq!(stored_events(&app.database).await, 2);
    })
    .await
}
