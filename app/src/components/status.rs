//! How an attempt came out, as a coloured badge: the status code (green for
//! 2xx, amber for 3xx, red otherwise) or "Error" when no response came.

use leptos::prelude::*;

#[component]
pub fn AttemptStatus(status: Option<u16>, error: Option<String>, success: bool) -> impl IntoView {
    match status {
        Some(code) => {
            let class = if success {
                "badge badge-green"
            } else if (300..400).contains(&code) {
                "badge badge-amber"
            } else {
                "badge badge-red"
            };
            view! { <span class=class>{code}</span> }.into_any()
        }
        None => view! {
            <span class="badge badge-red" title=error.unwrap_or_default()>"Error"</span>
        }
        .into_any(),
    }
}
