//! Server-side helpers for server functions: the port from context, the
//! session cookie, and the caller it names.

use std::sync::Arc;

use cookie::{Cookie, SameSite};
use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use http::HeaderValue;
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;

use domain::ports::{Actor, Console, NewSession};
use domain::AppError;

pub const SESSION_COOKIE: &str = "hookline_session";

/// The service behind the console, provided by the server for every request.
pub fn console() -> Result<Arc<dyn Console>, AppError> {
    use_context::<Arc<dyn Console>>().ok_or_else(AppError::internal)
}

fn request_parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(AppError::internal)
}

/// The session token from the request's cookie, if any.
pub fn session_token() -> Result<Option<String>, AppError> {
    Ok(session_token_in(&request_parts()?.headers))
}

/// The session token in these request headers' cookies, if any; also for
/// routes outside server functions (the console's live updates).
pub fn session_token_in(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// True for a server function called by a plain HTML form (a browser
/// navigation, which asks for HTML) rather than by the wasm app: server_fn
/// answers it with a redirect back to the form's page.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Where callers reach this server (see `PublicOrigin`).
pub fn public_origin() -> Result<String, AppError> {
    request_parts()?
        .extensions
        .get::<domain::ports::PublicOrigin>()
        .map(|origin| origin.0.clone())
        .ok_or_else(AppError::internal)
}

/// Where the request came from (see `ClientAddr`); unknown callers share one key.
pub fn client_addr() -> Result<std::net::IpAddr, AppError> {
    let unknown = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    Ok(request_parts()?
        .extensions
        .get::<domain::ports::ClientAddr>()
        .map_or(unknown, |addr| addr.0))
}

/// The signed-in caller, or `None`.
pub async fn current_actor() -> Result<Option<Actor>, AppError> {
    match session_token()? {
        Some(token) => console()?.session_actor(&token).await,
        None => Ok(None),
    }
}

/// The signed-in caller; refuses anonymous calls.
pub async fn actor() -> Result<(Arc<dyn Console>, Actor), AppError> {
    let actor = current_actor().await?.ok_or_else(AppError::unauthorized)?;
    Ok((console()?, actor))
}

/// Sets (or, with `None`, clears) the session cookie on the response.
pub fn set_session_cookie(session: Option<&NewSession>) -> Result<(), AppError> {
    let secure = request_is_https(&request_parts()?);
    let token = session.map(|s| s.token.clone()).unwrap_or_default();
    let mut cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    match session {
        Some(session) => {
            let expires =
                cookie::time::OffsetDateTime::from_unix_timestamp(session.expires_at / 1000)
                    .map_err(|_| AppError::internal())?;
            cookie.set_expires(expires);
        }
        None => cookie.make_removal(),
    }
    let value = HeaderValue::from_str(&cookie.to_string()).map_err(|_| AppError::internal())?;
    expect_context::<ResponseOptions>().append_header(SET_COOKIE, value);
    Ok(())
}

/// True when the browser reached us over https, directly or through a proxy.
fn request_is_https(parts: &Parts) -> bool {
    parts.uri.scheme_str() == Some("https")
        || parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}
