//! Middleware every request passes: who the client is, whether a console
//! request that changes state comes from the console itself, how long its
//! body may take, and the headers that keep pages out of frames and caches.

use std::net::IpAddr;
use std::sync::Arc;

use app::console::ClientAddr;
use app::model::{AppError, ErrorCode};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use super::connections::peer_addr;
use super::error::ApiError;
use super::HttpSettings;

/// Records the client's address (see `client_ip`) in the request's extensions.
pub async fn client_addr(
    State(settings): State<Arc<HttpSettings>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(peer) = peer_addr(&request) {
        let client = client_ip(peer.ip(), request.headers(), &settings.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// The peer, unless it is a trusted proxy: then the nearest address in
/// `X-Forwarded-For` that is not one (read from the right, since a client can
/// write anything at the left end).
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// Refuses console requests that change state (server functions, sign-in,
/// sign-out, setup: anything but GET and HEAD outside `/api`) unless they
/// come from the console's own origin. `SameSite=Lax` cookies alone do not
/// stop a page on another port of the same host, or on a sibling subdomain.
/// The REST API is exempt: it authenticates with a bearer key, which a
/// browser never adds on its own.
pub async fn same_origin(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let exempt = request.method().is_safe() || request.uri().path().starts_with("/api/");
    if !exempt {
        if let Err(reason) = check_origin(request.headers(), settings.public_origin.as_deref()) {
            return ApiError(AppError::new(ErrorCode::Forbidden, reason)).into_response();
        }
    }
    next.run(request).await
}

fn check_origin(headers: &HeaderMap, public_origin: Option<&str>) -> Result<(), String> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = text(header::ORIGIN) else {
        // Browsers send Origin with every POST; Sec-Fetch-Site is the fallback.
        return match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            Some("same-origin") => Ok(()),
            Some(site) => Err(format!(
                "cross-origin request refused: Sec-Fetch-Site is {site}"
            )),
            None => Err(
                "request refused: console requests that change state must carry \
                 an Origin header naming the console"
                    .into(),
            ),
        };
    };
    let same = match public_origin {
        Some(public) => origin.eq_ignore_ascii_case(public),
        // Without --public-url the console is wherever the browser reached it.
        None => {
            let host = text(header::HOST).unwrap_or_default();
            origin.split_once("://").is_some_and(|(scheme, authority)| {
                matches!(scheme, "http" | "https")
                    && !host.is_empty()
                    && authority.eq_ignore_ascii_case(host)
            })
        }
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "cross-origin request refused: Origin {origin} is not this console"
        ))
    }
}

/// Reads the body of a request that has one within `body_read_timeout`
/// (tower-http's body timeout restarts with every chunk, so a client
/// trickling a byte at a time would never hit it), then hands it on.
pub async fn body_deadline(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    use http_body_util::BodyExt as _;
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // Larger bodies than any route takes are refused by the route's own limit.
    let limited = http_body_util::Limited::new(body, super::MAX_BODY_BYTES);
    match tokio::time::timeout(settings.body_read_timeout, limited.collect()).await {
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => ApiError(AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
        ))
        .into_response(),
        Ok(Err(_)) => ApiError(AppError::new(
            ErrorCode::InvalidInput,
            "the request body could not be read",
        ))
        .into_response(),
        Err(_) => {
            let mut response = ApiError(AppError::new(
                ErrorCode::InvalidInput,
                format!(
                    "the request body did not arrive within {}",
                    humantime::format_duration(settings.body_read_timeout)
                ),
            ))
            .into_response();
            *response.status_mut() = axum::http::StatusCode::REQUEST_TIMEOUT;
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// Headers for every answer: no MIME sniffing, no referrer leaving the
/// console, no framing, and no caching of pages and JSON (they carry
/// signing keys, new API keys, payloads). Static assets stay cacheable.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    let dynamic = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html") || kind.starts_with("application/json"));
    if dynamic {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The Content-Security-Policy of a console page: scripts only from here and
/// the inline ones hydration writes (they carry this page's `nonce`), wasm
/// compiled, nothing framing the page.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    header::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn only_the_consoles_own_origin_passes() {
        let ok = |pairs: &[(&'static str, &'static str)], public: Option<&str>| {
            check_origin(&headers(pairs), public).is_ok()
        };
        let host = ("host", "127.0.0.1:3000");
        assert!(ok(&[host, ("origin", "http://127.0.0.1:3000")], None));
        assert!(ok(&[host, ("origin", "https://127.0.0.1:3000")], None));
        assert!(!ok(&[host, ("origin", "http://127.0.0.1:9400")], None));
        assert!(!ok(&[host, ("origin", "null")], None));
        assert!(!ok(&[host, ("origin", "http://evil.127.0.0.1:3000")], None));
        assert!(ok(&[host, ("sec-fetch-site", "same-origin")], None));
        assert!(!ok(&[host, ("sec-fetch-site", "same-site")], None));
        assert!(!ok(&[host], None), "neither header: refused");
        let public = Some("https://hooks.example.com");
        assert!(ok(&[host, ("origin", "https://hooks.example.com")], public));
        assert!(!ok(&[host, ("origin", "http://127.0.0.1:3000")], public));
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let forwarded = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.9")]);
        assert_eq!(
            client_ip(proxy, &forwarded, &trusted),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "the nearest untrusted hop, not what the client wrote at the left"
        );
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &forwarded, &trusted), stranger);
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(proxy, &garbage, &trusted), proxy);
    }
}
