//! A hook's request log, for the console's Requests tab: a page of attempts,
//! filtered, and the chart over the chosen time range.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use domain::delivery::{Bucket, LogPage};
use domain::ids::HookId;

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
    hook_id: HookId,
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
    let now = crate::time::now_ms();
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
