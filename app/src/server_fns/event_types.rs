//! Event types, for the console's catalog and the hook editor: list, add a
//! custom type, send a built-in type's sample event.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use domain::delivery::EventRecord;
use domain::event_type::{EventTypeInfo, NewEventType};

use super::ConsoleError;

#[server]
pub async fn list_event_types() -> Result<Vec<EventTypeInfo>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.list_event_types(&actor).await?)
}

#[server(input = Json)]
pub async fn create_event_type(input: NewEventType) -> Result<EventTypeInfo, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.create_event_type(&actor, input).await?)
}

/// Pushes a built-in type's example through the real pipeline, as a producer
/// would; answers with the event and the deliveries it made.
#[server]
pub async fn send_sample_event(event: String) -> Result<EventRecord, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let mut body = domain::catalog::find_event(&event)
        .ok_or_else(|| domain::AppError::invalid("event", format!("`{event}` has no example")))?
        .example_json();
    body["event"] = serde_json::Value::String(event);
    let body = serde_json::to_vec(&body).map_err(|_| domain::AppError::internal())?;
    let answer = console.ingest_event(&actor, &body, None, None).await?;
    Ok(console.get_event(&actor, &answer.ingested.id).await?)
}
