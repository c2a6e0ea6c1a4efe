//! The webhooks list.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::{AdminOnly, HealthLabel, PageData, PageHeader, StateBadge};
use crate::server_fns::hooks::list_hooks;
use domain::hook::Hook;

#[component]
pub fn HooksPage() -> impl IntoView {
    let hooks = Resource::new(|| (), |_| list_hooks());
    view! {
        <Title text="Webhooks" />
        <PageHeader
            title="Webhooks".into()
            subtitle="Endpoints that receive events, signed, retried and logged."
        >
            <AdminOnly>
                <A href="/webhooks/new" attr:class="btn btn-primary">
                    "Create webhook"
                </A>
            </AdminOnly>
        </PageHeader>
        <PageData
            resource=hooks
            render={|hooks: Vec<Hook>, can_write| {
                if hooks.is_empty() {
                    view! { <EmptyHooks can_write /> }.into_any()
                } else {
                    view! { <HooksTable hooks /> }.into_any()
                }
            }}
        />
    }
}

#[component]
fn EmptyHooks(can_write: bool) -> impl IntoView {
    view! {
        <div class="card empty-state">
            <h2>"No webhooks yet"</h2>
            <p class="muted">
                "A webhook sends the events you choose to your endpoint as signed HTTP POST requests."
            </p>
            {can_write
                .then(|| {
                    view! {
                        <A href="/webhooks/new" attr:class="btn btn-primary">
                            "Create your first webhook"
                        </A>
                    }
                })}
        </div>
    }
}

#[component]
fn HooksTable(hooks: Vec<Hook>) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Events"</th>
                        <th>"Success rate (24 h)"</th>
                        <th class="num">"Requests (24 h)"</th>
                        <th>"State"</th>
                    </tr>
                </thead>
                <tbody>
                    {hooks.into_iter().map(|hook| view! { <HookRow hook /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn HookRow(hook: Hook) -> impl IntoView {
    let href = format!("/webhooks/{}", hook.id);
    let requests = hook.execution_stats.unwrap_or_default().request_count;
    let health = hook.health();
    view! {
        <tr>
            <td>
                <A href=href attr:class="row-title">
                    {hook.name.clone()}
                </A>
                <div class="muted small mono">{hook.config.url.clone()}</div>
            </td>
            <td data-label="Events">
                <EventChips events=hook.events.clone() />
            </td>
            <td data-label="Success rate (24 h)">
                <HealthLabel health />
            </td>
            <td data-label="Requests (24 h)" class="num">{requests}</td>
            <td data-label="State">
                <StateBadge enabled=hook.enabled />
            </td>
        </tr>
    }
}

/// The first few events as chips, then "+N".
#[component]
fn EventChips(events: Vec<String>) -> impl IntoView {
    const SHOWN: usize = 2;
    let more = events.len().saturating_sub(SHOWN);
    view! {
        <div class="chips">
            {events.into_iter().take(SHOWN).map(|e| view! { <span class="chip">{e}</span> }).collect_view()}
            {(more > 0).then(|| view! { <span class="chip chip-more">{format!("+{more}")}</span> })}
        </div>
    }
}
