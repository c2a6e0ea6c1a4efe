//! Middleware every request passes: who the client is, whether a console
//! request that changes state comes from the console itself, how long its
//! body may take, and the headers that keep pages out of frames and caches.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::ports::{ClientAddr, PublicOrigin};
use domain::{AppError, ErrorCode};
use ipnet::IpNet;

use super::connections::peer_addr;
use super::error::ApiError;
use super::HttpSettings;

/// Records the client's address (see `client_ip`) and the server's public
/// origin in the request's extensions.
pub async fn client_addr(
    State(settings): State<Arc<HttpSettings>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(peer) = peer_addr(&request) {
        let client = client_ip(peer.ip(), request.headers(), &settings.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(client));
    }
    let origin = public_origin(&settings, request.headers());
    request.extensions_mut().insert(origin);
    next.run(request).await
}

/// `--public-url`, else the request's own host over plain HTTP.
fn public_origin(settings: &HttpSettings, headers: &HeaderMap) -> PublicOrigin {
    PublicOrigin(settings.public_origin.clone().unwrap_or_else(|| {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }))
}

/// The peer, unless it is a trusted proxy: then the nearest address in
/// `X-Forwarded-For` that is not one (read from the right, since a client can
/// write anything at the left end).
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    // On a dual-stack socket IPv4 peers arrive as ::ffff:a.b.c.d.
    let peer = peer.to_canonical();
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
        match hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
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

/// Holds a request's body to `body_read_timeout` from the start of the
/// request (tower-http's body timeout restarts with every chunk, so a client
/// trickling a byte at a time would never hit it) and to a size: 256 KiB for
/// the console's server functions, `MAX_BODY_BYTES` elsewhere. Nothing is
/// buffered here: the route reads the body when it wants it, after it has
/// checked the caller, so an anonymous client cannot make the server hold
/// bodies it would refuse.
pub async fn body_limits(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let limit = if request.uri().path().starts_with("/rpc/") {
        super::RPC_BODY_BYTES
    } else {
        super::MAX_BODY_BYTES
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return body_refused(BodyCut::TooLarge(limit), &settings);
    }
    let cut = Arc::new(std::sync::Mutex::new(None));
    let request = request.map(|body| {
        Body::new(GuardedBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(settings.body_read_timeout)),
            remaining: limit,
            limit,
            cut: cut.clone(),
        })
    });
    let response = next.run(request).await;
    let cut = *cut.lock().unwrap_or_else(|e| e.into_inner());
    match cut {
        // The route saw a read error; say what really happened.
        Some(cut) => body_refused(cut, &settings),
        None => response,
    }
}

/// Why a body was cut off.
#[derive(Debug, Clone, Copy)]
enum BodyCut {
    Late,
    TooLarge(usize),
}

fn body_refused(cut: BodyCut, settings: &HttpSettings) -> Response {
    let (status, error) = match cut {
        BodyCut::Late => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            AppError::new(
                ErrorCode::InvalidInput,
                format!(
                    "the request body did not arrive within {}",
                    humantime::format_duration(settings.body_read_timeout)
                ),
            ),
        ),
        BodyCut::TooLarge(limit) => (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {limit} bytes"),
            ),
        ),
    };
    let mut response = ApiError(error).into_response();
    *response.status_mut() = status;
    // The rest of the body was not read: the connection cannot be reused.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that ends in an error once its deadline passes or it
/// grows past its limit, and records which.
struct GuardedBody {
    inner: Body,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    remaining: usize,
    limit: usize,
    cut: Arc<std::sync::Mutex<Option<BodyCut>>>,
}

impl GuardedBody {
    fn cut(&self, why: BodyCut) -> axum::Error {
        *self.cut.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        axum::Error::new(format!("request body cut off: {why:?}"))
    }
}

impl http_body::Body for GuardedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::future::Future as _;
        use std::task::Poll;
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(self.cut(BodyCut::Late))));
        }
        let frame = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &frame {
            let size = frame.data_ref().map_or(0, |data| data.len());
            if size > self.remaining {
                let limit = self.limit;
                return Poll::Ready(Some(Err(self.cut(BodyCut::TooLarge(limit)))));
            }
            self.remaining -= size;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
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
        let mapped_proxy: IpAddr = "::ffff:10.0.0.5".parse().unwrap();
        assert_eq!(
            client_ip(mapped_proxy, &forwarded, &trusted),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "a proxy reaching a dual-stack socket is still trusted"
        );
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(proxy, &garbage, &trusted), proxy);
    }
}
