//! Search for the console's Search page: the same search as `GET
//! /api/search`, for any signed-in user.

use leptos::prelude::*;

use domain::search::SearchPage;

use super::ConsoleError;

/// Matches per page on the Search page.
pub const PAGE_SIZE: i64 = 20;

/// One page of the events and deliveries matching `q`, filtered; times are
/// unix ms.
#[server]
pub async fn search(
    q: String,
    event: Option<String>,
    status: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    page: Option<i64>,
) -> Result<SearchPage, ConsoleError> {
    use domain::search::SearchQuery;
    let (console, actor) = super::session::actor().await?;
    let query = SearchQuery {
        q: Some(q),
        event,
        status,
        start_time,
        end_time,
        page,
        page_size: Some(PAGE_SIZE),
    };
    Ok(console.search(&actor, query).await?)
}
