//! `/live/hooks/:id`: server-sent events for the console, one `attempt` event
//! (its data the delivery id) each time an attempt of that hook is logged;
//! `/live/attempts`: the same for every hook, at most one a second, its data
//! the time it was sent (the overview reloads its figures on each, whatever
//! the rate of attempts).
//! A stream stays open as long as its page does and its session is valid
//! (checked again every minute), so each session may hold only a few
//! (`--live-streams-per-session`), and all of them together at most a quarter
//! of `--max-connections`, which leaves the rest to everything else.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use domain::ids::HookId;
use domain::ports::SessionPort;
use domain::{AppError, ErrorCode};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::counted::{Counted, Full};
use super::error::{ApiPath, ApiResult};
use super::{AppState, HttpSettings};
use crate::service::Service;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/live/hooks/{id}", get(hook_attempts))
        .route("/live/attempts", get(all_attempts))
}

/// How often `/live/attempts` says at most that attempts were logged.
const ALL_ATTEMPTS_EVERY: Duration = Duration::from_secs(1);

/// How often an open stream checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// How many streams each session holds open, by the session token's hash.
pub type OpenStreams = Counted<String>;

async fn hook_attempts(
    State(opened): State<Opened>,
    ApiPath(hook_id): ApiPath<HookId>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    attempts_stream(opened, &headers, Some(hook_id)).await
}

async fn all_attempts(
    State(opened): State<Opened>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    attempts_stream(opened, &headers, None).await
}

/// What a stream needs from the server's state.
struct Opened {
    service: Arc<Service>,
    shutdown: CancellationToken,
    settings: Arc<HttpSettings>,
    streams: Arc<OpenStreams>,
}

impl FromRef<AppState> for Opened {
    fn from_ref(state: &AppState) -> Self {
        Opened {
            service: FromRef::from_ref(state),
            shutdown: FromRef::from_ref(state),
            settings: FromRef::from_ref(state),
            streams: FromRef::from_ref(state),
        }
    }
}

/// A stream of `attempt` events: one per logged attempt of `hook_id`, or
/// with `None` one a second at most while any hook's attempts are logged.
async fn attempts_stream(
    Opened {
        service,
        shutdown,
        settings,
        streams,
    }: Opened,
    headers: &HeaderMap,
    hook_id: Option<HookId>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // The console's session cookie, as its server functions read it.
    let token =
        app::server_fns::session::session_token_in(headers).ok_or_else(AppError::unauthorized)?;
    let actor = service
        .session_actor(&token)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    if let Some(hook_id) = &hook_id {
        domain::ports::HookPort::get_hook(&*service, &actor, hook_id, false).await?;
    }
    let session = crate::service::secrets::sha256_hex(&token);
    // A quarter of the connections, so streams never hold all of them.
    let in_all = (settings.max_connections / 4).max(1);
    let open = streams
        .take(session, settings.live_streams_per_session, in_all)
        .map_err(|full| {
            let reason = match full {
                Full::Key => format!(
                    "this session already has {} live streams open; close a tab",
                    settings.live_streams_per_session
                ),
                Full::Total => {
                    format!("the server has {in_all} live streams open, its most; try again later")
                }
            };
            AppError::new(ErrorCode::TooManyRequests, reason).retry_after(Duration::from_secs(5))
        })?;
    let logged = service.dispatcher().subscribe();
    let mut session_check = tokio::time::interval(SESSION_CHECK);
    session_check.tick().await;
    let state = (logged, session_check, None::<tokio::time::Instant>);
    let stream = futures::stream::unfold(state, move |(mut logged, mut session_check, sent_at)| {
        let hook_id = hook_id.clone();
        let (service, token) = (service.clone(), token.clone());
        async move {
            loop {
                let received = tokio::select! {
                    received = logged.recv() => received,
                    _ = session_check.tick() => {
                        // Signed out, expired or deleted: the stream ends.
                        match service.session_actor(&token).await {
                            Ok(Some(_)) | Err(_) => continue,
                            Ok(None) => return None,
                        }
                    }
                };
                let data = match (&received, &hook_id) {
                    (Ok(batch), Some(hook_id)) => {
                        match batch.iter().find(|l| l.hook_id == *hook_id) {
                            Some(hit) => hit.delivery_id.to_string(),
                            None => continue,
                        }
                    }
                    // Every hook: nothing to name, only that something
                    // happened, and when (browsers drop an event whose
                    // data is empty).
                    (Ok(_), None) => crate::clock::now_ms().to_string(),
                    // Fell behind: say something happened, the page reloads its rows.
                    (Err(RecvError::Lagged(_)), _) => crate::clock::now_ms().to_string(),
                    (Err(RecvError::Closed), _) => return None,
                };
                if hook_id.is_none() {
                    if let Some(sent_at) = sent_at {
                        tokio::time::sleep_until(sent_at + ALL_ATTEMPTS_EVERY).await;
                    }
                    // What was logged while waiting is told by this one event.
                    logged = logged.resubscribe();
                }
                let event = Event::default().event("attempt").data(data);
                let sent_at = Some(tokio::time::Instant::now());
                return Some((Ok(event), (logged, session_check, sent_at)));
            }
        }
    });
    // Ends when the server stops, so an open console tab never holds up shutdown.
    let stream = stream
        .take_until(shutdown.cancelled_owned())
        // The stream holds its place until the client goes away.
        .map(move |event| {
            let _held = &open;
            event
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
