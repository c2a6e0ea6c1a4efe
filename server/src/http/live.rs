//! `/live/hooks/:id`: server-sent events for the console, one `attempt` event
//! (its data the delivery id) each time an attempt of that hook is logged.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::console::SessionPort;
use app::model::AppError;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::error::{ApiPath, ApiResult};
use super::AppState;
use crate::service::Service;

pub fn routes() -> Router<AppState> {
    Router::new().route("/live/hooks/{id}", get(hook_attempts))
}

async fn hook_attempts(
    State(service): State<Arc<Service>>,
    State(shutdown): State<CancellationToken>,
    ApiPath(hook_id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // The console's session cookie, as its server functions read it.
    let token = app::api::session::session_token_in(&headers).ok_or_else(AppError::unauthorized)?;
    let actor = service
        .session_actor(&token)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    app::console::HookPort::get_hook(&*service, &actor, &hook_id, false).await?;
    let logged = service.dispatcher().subscribe();
    let stream = futures::stream::unfold(logged, move |mut logged| {
        let hook_id = hook_id.clone();
        async move {
            loop {
                match logged.recv().await {
                    Ok(batch) => {
                        if let Some(hit) = batch.iter().find(|l| l.hook_id == hook_id) {
                            let event = Event::default().event("attempt").data(&hit.delivery_id);
                            return Some((Ok(event), logged));
                        }
                    }
                    // Fell behind: say something happened, the page reloads its rows.
                    Err(RecvError::Lagged(_)) => {
                        return Some((Ok(Event::default().event("attempt").data("")), logged))
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    // Ends when the server stops, so an open console tab never holds up shutdown.
    let stream = stream.take_until(shutdown.cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
