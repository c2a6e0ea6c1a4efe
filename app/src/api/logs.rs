//! Deliveries and the request log, for the console: the Requests tab, a
//! delivery's detail, resend, recover, hook tests and the event catalog.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use serde::{Deserialize, Serialize};

use domain::delivery::{
    Bucket, Delivery, EventRecord, HookTest, HookTestResult, LogPage, Recovered,
};
use domain::event_type::{EventTypeInfo, NewEventType};

use super::ConsoleError;

/// Rows per page on the Requests tab.
pub const PAGE_SIZE: i64 = 20;

/// The Requests tab's data: a page of the log and the chart over the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestsView {
    pub page: LogPage,
    pub chart: Vec<Bucket>,
    pub page_size: i64,
}

/// One page of a hook's attempts, filtered, and the chart over `range`.
#[server]
pub async fn hook_requests(
    hook_id: String,
    event: Option<String>,
    status: Option<String>,
    range: Option<String>,
    page: Option<i64>,
) -> Result<RequestsView, ConsoleError> {
    use domain::delivery::{LogQuery, TimeRange};
    let (console, actor) = super::session::actor().await?;
    let range = match range.as_deref() {
        None | Some("") => TimeRange::default(),
        Some(text) => TimeRange::parse(text)
            .ok_or_else(|| domain::AppError::invalid("range", format!("unknown range `{text}`")))?,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let start = now - range.millis();
    let query = LogQuery {
        event,
        status,
        start_time: Some(start),
        end_time: None,
        page,
        page_size: Some(PAGE_SIZE),
    };
    let page = console.recent_logs(&actor, &hook_id, query).await?;
    let chart = console
        .hook_chart(&actor, &hook_id, start, now + 1, range.buckets())
        .await?;
    Ok(RequestsView {
        page,
        chart,
        page_size: PAGE_SIZE,
    })
}

#[server]
pub async fn get_delivery(id: String) -> Result<Delivery, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.get_delivery(&actor, &id).await?)
}

#[server]
pub async fn resend_delivery(id: String) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.resend(&actor, &id).await?)
}

/// Resends (or, with `dry_run`, counts) the hook's failed deliveries since `since`.
#[server]
pub async fn recover_failed(
    hook_id: String,
    since: i64,
    dry_run: bool,
) -> Result<Recovered, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let range = domain::delivery::Recover { since, until: None };
    Ok(console.recover(&actor, &hook_id, range, dry_run).await?)
}

#[server(input = Json)]
pub async fn test_hook(id: String, input: HookTest) -> Result<HookTestResult, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.test_hook(&actor, &id, input).await?)
}

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
