//! Newer / older links for a paged list whose page is in the URL (`?page=`).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// Newer / older links that keep the other query parameters (the filters).
/// Past a capped count there are more pages than it says, so "Older" stays.
/// `noun` names what is counted: "requests", "matches".
#[component]
pub fn Pager(total: i64, total_capped: bool, page_size: i64, noun: &'static str) -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let pages = ((total + page_size - 1) / page_size).max(1);
    let more = if total_capped { "+" } else { "" };
    let link = move |to: i64| {
        let mut params = query.get();
        params.replace("page", to.to_string());
        format!("?{}", params.to_query_string().trim_start_matches('?'))
    };
    view! {
        <div class="pager">
            <span class="muted small">
                {move || format!("Page {} of {pages}{more} · {total}{more} {noun}", page())}
            </span>
            <div class="page-actions">
                <Show when=move || { page() > 1 }>
                    <A href=move || link(page() - 1) attr:class="btn btn-secondary btn-small">"← Newer"</A>
                </Show>
                <Show when=move || { page() < pages || total_capped }>
                    <A href=move || link(page() + 1) attr:class="btn btn-secondary btn-small">"Older →"</A>
                </Show>
            </div>
        </div>
    }
}
