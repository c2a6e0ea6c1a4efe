//! The HTTP surface: the REST API under `/api`, `/health`, and the console
//! (pages plus its server functions under `/rpc`).

mod alerts;
pub mod assets;
mod auth;
pub mod connections;
mod counted;
mod deliveries;
mod error;
mod event_types;
mod events;
mod guards;
mod health;
mod hooks;
mod live;
mod metrics;
mod openapi;
mod overview;
mod search;
mod sources;

use std::sync::Arc;
use std::time::Duration;

use app::{shell, App};
use axum::extract::FromRef;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ports::Console;
use ipnet::IpNet;
use leptos::prelude::{provide_context, use_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, OnResponse, TraceLayer};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::Service;
use crate::telemetry;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub service: Arc<Service>,
    pub leptos_options: LeptosOptions,
    /// Cancelled when the server is stopping: long-lived responses end then.
    pub shutdown: tokio_util::sync::CancellationToken,
    pub http: Arc<HttpSettings>,
    /// Live-update streams open per console session.
    pub live_streams: Arc<live::OpenStreams>,
}

/// How the HTTP server guards itself (the `HttpArgs` flags).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `scheme://host[:port]` of the console behind a proxy; without it,
    /// console requests must come from the host they were sent to.
    pub public_origin: Option<String>,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    /// How long a write may wait for the client to take data.
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold; trusted
    /// proxies are not counted.
    pub max_connections_per_address: usize,
    pub live_streams_per_session: usize,
}

/// The defaults of the flags (`config.rs` shows these).
impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            public_origin: None,
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_address: 256,
            live_streams_per_session: 4,
        }
    }
}

/// No route takes a larger body (axum's default limit); events take less.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The console's server functions take small forms and JSON (a custom event
/// type's schema, at most 64 KiB, is the largest); sign-in reads its body
/// before it knows the caller, so this bounds what anyone can make it hold.
pub const RPC_BODY_BYTES: usize = 256 * 1024;

/// Where the REST API is mounted.
const API_PREFIX: &str = "/api";

/// The REST API's routes (relative to `/api`) and its OpenAPI document, built
/// by the same `routes!` calls.
fn api_parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, paths) = OpenApiRouter::new()
        .merge(hooks::routes())
        .merge(events::routes())
        .merge(deliveries::routes())
        .merge(event_types::routes())
        .merge(overview::routes())
        .merge(search::routes())
        .merge(sources::routes())
        .merge(alerts::routes())
        .routes(routes!(openapi::openapi_json))
        .split_for_parts();
    (router, openapi::ApiDoc::openapi().nest(API_PREFIX, paths))
}

/// The REST API, mounted at `/api`; anything it does not serve is a JSON error.
fn api_routes() -> Router<AppState> {
    let (router, doc) = api_parts();
    router
        .route_layer(from_fn(record_route))
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::Extension(openapi::Document::new(&doc)))
}

pub fn router(state: AppState) -> Router {
    let console: Arc<dyn Console> = state.service.clone();
    let leptos_options = state.leptos_options.clone();
    // What every page is rendered with, the not-found page included (without
    // the console it could not tell who is signed in, and would hydrate a
    // signed-out app).
    let page_context = move || {
        provide_context(console.clone());
        // Pages get a CSP naming the nonce of their inline scripts.
        if let (Some(nonce), Some(response)) =
            (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
        {
            if let Ok(policy) = guards::content_security_policy(&nonce).parse::<HeaderValue>() {
                response.insert_header(CONTENT_SECURITY_POLICY, policy);
            }
        }
    };
    // The console's static files, else the app's not-found page.
    let assets = Arc::new(assets::Assets::new(&state.leptos_options));
    let not_found = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        page_context.clone(),
        shell,
    );
    Router::new()
        .nest(API_PREFIX, api_routes())
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .merge(live::routes())
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            page_context.clone(),
            move || shell(leptos_options.clone()),
        )
        .fallback(move |State(state): State<AppState>, request: Request| {
            let not_found = not_found.clone();
            let assets = assets.clone();
            async move {
                let (parts, body) = request.into_parts();
                match assets.serve(&parts).await {
                    Some(file) => file,
                    None => {
                        let request = Request::from_parts(parts, body);
                        not_found(request.uri().clone(), State(state), request).await
                    }
                }
            }
        })
        .layer(
            tower::ServiceBuilder::new()
                // Outermost: every request gets an `x-request-id` (a caller's
                // own is kept), echoed on the response and on every log line
                // written while it is handled.
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(on_response),
                )
                // Pages and static files go out compressed when the client
                // takes it (a precompressed file already is); see `compressible`.
                .layer(
                    CompressionLayer::new()
                        .quality(CompressionLevel::Precise(5))
                        .compress_when(DefaultPredicate::new().and(compressible)),
                )
                .layer(from_fn(guards::security_headers))
                .layer(from_fn_with_state(state.http.clone(), guards::client_addr))
                .layer(from_fn_with_state(state.http.clone(), guards::same_origin))
                .layer(from_fn_with_state(state.http.clone(), guards::body_limits)),
        )
        .with_state(state)
}

/// What the compression layer compresses: pages and the console's assets.
/// Not JSON (API answers and server functions carry API keys and signing
/// keys beside what the caller sent, the mix that compression leaks the length
/// of), and not the live streams (`text/event-stream`, which `DefaultPredicate`
/// already leaves out: a compressor would hold their events back).
fn compressible(
    _: StatusCode,
    _: Version,
    headers: &HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    let kind = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/wasm",
        "image/svg+xml",
    ]
    .iter()
    .any(|compressible| kind.starts_with(compressible))
}

/// The span of one HTTP request; its fields appear on each line logged
/// inside it. When traces are on it is also the trace's server span, named
/// by the method as OpenTelemetry's HTTP conventions name a span before its
/// route is known (the route comes as `http.route`), continuing a caller's
/// `traceparent`; those fields stay out of the logs otherwise.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| String::from_utf8_lossy(id.header_value().as_bytes()).into_owned())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        otel.kind = tracing::field::Empty,
        otel.name = tracing::field::Empty,
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    if telemetry::traces_on() {
        span.record("otel.kind", "server");
        span.record("otel.name", request.method().as_str());
        telemetry::continue_request_trace(&span, request.headers());
    }
    span
}

/// Puts the API route a request took (`/api/hooks/{id}`) on its span.
async fn record_route(route: MatchedPath, request: Request, next: Next) -> Response {
    if telemetry::traces_on() {
        tracing::Span::current().record("http.route", route.as_str());
    }
    next.run(request).await
}

/// Logs the answer, and puts its status on the request's span (a 5xx marks
/// the span failed).
fn on_response<B>(response: &axum::http::Response<B>, latency: Duration, span: &tracing::Span) {
    let status = response.status();
    if telemetry::traces_on() {
        span.record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
    }
    DefaultOnResponse::new()
        .level(tracing::Level::INFO)
        .on_response(response, latency, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compressed(kind: &str) -> bool {
        let response = axum::http::Response::builder()
            .header(CONTENT_TYPE, kind)
            .body(axum::body::Body::from(vec![b'x'; 1024]))
            .unwrap();
        DefaultPredicate::new()
            .and(compressible)
            .should_compress(&response)
    }

    #[test]
    fn pages_and_assets_are_compressed_but_not_json_or_live_streams() {
        for kind in [
            "text/html; charset=utf-8",
            "text/css",
            "text/javascript",
            "application/wasm",
            "image/svg+xml",
        ] {
            assert!(compressed(kind), "{kind}");
        }
        for kind in [
            "application/json",
            "text/event-stream",
            "image/png",
            "text/plain",
        ] {
            assert!(!compressed(kind), "{kind}");
        }
    }
}
