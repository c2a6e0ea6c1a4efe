//! States as coloured badges and labels: an attempt's outcome, a hook's
//! state and its health.

use leptos::prelude::*;

use domain::hook::{Band, Health};

/// How an attempt came out: the status code (green for 2xx, amber for 3xx,
/// red otherwise) or "Error" when no response came.
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

/// A hook's success rate, coloured by its band, or why there is none.
#[component]
pub fn HealthLabel(health: Health) -> impl IntoView {
    match health {
        Health::NotInUse => view! { <span class="muted">"Not in use"</span> }.into_any(),
        Health::NoRequests => view! { <span class="muted">"No requests yet"</span> }.into_any(),
        Health::Rate(rate, band) => {
            let class = match band {
                Band::Red => "rate rate-red",
                Band::Amber => "rate rate-amber",
                Band::Green => "rate rate-green",
            };
            view! { <span class=class>{format!("{rate:.1} %")}</span> }.into_any()
        }
    }
}

/// Whether a hook is enabled.
#[component]
pub fn StateBadge(enabled: bool) -> impl IntoView {
    if enabled {
        view! { <span class="badge badge-green">"Enabled"</span> }
    } else {
        view! { <span class="badge badge-grey">"Disabled"</span> }
    }
}
