//! `spawn_app`: the real server on an ephemeral port with a fresh database
//! (SQLite, or PostgreSQL inside `on_both_databases!`).

#![allow(dead_code)] // each test binary uses its own part of this module

pub mod database;
pub mod flow;
pub mod process;
pub mod receiver;

use std::sync::Arc;
use std::time::Duration;

use domain::user::Role;
use hookline::dispatcher::endpoint::EndpointPolicy;
use hookline::dispatcher::DeliverySettings;
use hookline::service::Service;
use hookline::store::Store;
use hookline::ServeOptions;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use database::TestDatabase;

pub struct TestApp {
    pub base: String,
    pub service: Arc<Service>,
    /// An API key valid for this app.
    pub api_key: String,
    pub client: reqwest::Client,
    /// Cancelling it stops the server as a signal would.
    pub shutdown: CancellationToken,
    /// The server's task: it ends once the server has stopped.
    pub server: tokio::task::JoinHandle<()>,
    pub database: TestDatabase,
}

/// Delivery settings for tests: receivers run on loopback, so private
/// endpoints are allowed, and retries come after seconds, not minutes.
pub fn test_settings() -> DeliverySettings {
    DeliverySettings {
        endpoint_policy: EndpointPolicy {
            allow_private: true,
            allowlist: Vec::new(),
        },
        retry_schedule: "1s,2s".parse().unwrap(),
        request_timeout: Duration::from_secs(2),
        lease: Duration::from_secs(5),
        shutdown_grace: Duration::from_secs(2),
        ..DeliverySettings::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

pub async fn spawn_app_with(settings: DeliverySettings) -> TestApp {
    spawn_app_with_options(settings, ServeOptions::default()).await
}

/// `spawn_app_with`, with the HTTP server's own options.
pub async fn spawn_app_with_options(settings: DeliverySettings, options: ServeOptions) -> TestApp {
    let database = TestDatabase::fresh().await;
    let service = Arc::new(
        Service::new(
            Store::connect(&database.url).await.expect("database"),
            settings,
        )
        .with_alert_check_interval(Duration::from_millis(300)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server_service = service.clone();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        hookline::serve(listener, server_service, options, stop)
            .await
            .expect("server");
    });
    // Ready as a load balancer would see it: the dispatcher has its shares.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !service.dispatcher().is_running() {
        assert!(
            std::time::Instant::now() < deadline,
            "the dispatcher never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let api_key = service
        .issue_api_key("tests")
        .await
        .expect("api key")
        .secret;
    TestApp {
        base,
        service,
        api_key,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        shutdown,
        server,
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request to the REST API with this app's API key.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.api_key)
    }

    /// Sends an API request without a body.
    pub async fn call(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.api(method, path).send().await.unwrap()
    }

    /// Sends an API request with a JSON body.
    pub async fn call_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.api(method, path).json(&body).send().await.unwrap()
    }

    /// GETs an API path that must answer 200, and returns its JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.api(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// `PUT /api/settings/alerts` with `body`.
    pub async fn put_alerts(&self, body: Value) -> reqwest::Response {
        self.api(reqwest::Method::PUT, "/api/settings/alerts")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_hook(&self, body: Value) -> reqwest::Response {
        self.api(reqwest::Method::POST, "/api/hooks")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Adds a console user directly; returns its id.
    pub async fn add_user(&self, email: &str, password: &str, role: Role) -> String {
        self.service
            .add_user(email, password, role)
            .await
            .expect("user")
            .id
            .to_string()
    }

    /// Opens a console live stream (`/live/…`) as a signed-in viewer (an
    /// admin exists first, as the first user must be one); it must answer 200.
    pub async fn open_live_stream(&self, path: &str) -> reqwest::Response {
        const PASSWORD: &str = "a long password";
        self.add_user("admin@example.com", PASSWORD, Role::Admin)
            .await;
        self.add_user("viewer@example.com", PASSWORD, Role::Viewer)
            .await;
        let cookie = self.sign_in("viewer@example.com", PASSWORD).await;
        let stream = self
            .client
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), reqwest::StatusCode::OK);
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        stream
    }

    /// A request to a console server function, with the session cookie if
    /// given, from the console's own origin as a browser would send it.
    pub fn rpc(&self, name: &str, cookie: Option<&str>) -> reqwest::RequestBuilder {
        let request = self
            .client
            .post(self.url(&format!("/rpc/{name}")))
            .header("origin", &self.base);
        match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    /// Calls a server function with a form body, as `ActionForm` does.
    pub async fn rpc_form(
        &self,
        name: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.rpc(name, cookie).form(form).send().await.unwrap()
    }

    /// Calls a server function with a JSON body (the hook editor's encoding).
    pub async fn rpc_json(
        &self,
        name: &str,
        cookie: Option<&str>,
        body: Value,
    ) -> reqwest::Response {
        self.rpc(name, cookie).json(&body).send().await.unwrap()
    }

    /// Signs in through the console's server function; returns the `name=value` cookie.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = self
            .rpc_form("sign_in", None, &[("email", email), ("password", password)])
            .await;
        session_cookie(&response)
            .unwrap_or_else(|| panic!("no session cookie; status {}", response.status()))
    }
}

/// The `hookline_session=…` pair from a response's Set-Cookie, if it set one.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hookline_session=") && !v.starts_with("hookline_session=;"))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Asserts that `response` is the API error `code` with `status`; returns its body.
pub async fn assert_error(
    response: reqwest::Response,
    status: reqwest::StatusCode,
    code: &str,
) -> Value {
    assert_eq!(response.status(), status, "{}", response.url());
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

pub fn valid_hook() -> Value {
    serde_json::json!({
        "name": "CRM sync",
        "events": ["User.Created", "PostRegister"],
        "config": { "url": "https://example.com/hook", "headers": { "X-Tenant": "acme" } }
    })
}

/// The value of header `name` in a logged attempt's `requestHeaders`.
pub fn logged_header<'a>(attempt: &'a Value, name: &str) -> &'a str {
    attempt["requestHeaders"]
        .as_array()
        .expect("requestHeaders")
        .iter()
        .find(|pair| pair[0] == name)
        .and_then(|pair| pair[1].as_str())
        .unwrap_or_else(|| panic!("no {name} in {attempt}"))
}
