//! The tabs of a webhook's pages: Settings and Requests.

use domain::ids::HookId;
use leptos::prelude::*;
use leptos_router::components::A;

/// A webhook's tabs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Settings,
    Requests,
}

#[component]
pub fn HookTabs(hook_id: HookId, active: Tab) -> impl IntoView {
    let class = move |tab: Tab| {
        if tab == active {
            "tab tab-active"
        } else {
            "tab"
        }
    };
    view! {
        <nav class="tabs">
            <A href=format!("/webhooks/{hook_id}") attr:class=class(Tab::Settings)>"Settings"</A>
            <A href=format!("/webhooks/{hook_id}/requests") attr:class=class(Tab::Requests)>"Requests"</A>
        </nav>
    }
}
