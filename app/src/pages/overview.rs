//! The home page: is anything wrong right now? Requests and success rate
//! over the last hour and day, the work waiting and in flight, and the hooks
//! that need someone to look at them; refreshed as attempts are logged.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::{live_any_attempts, Chart, HealthLabel, PageData, PageHeader};
use crate::server_fns::overview::get_overview;
use domain::hook::{ExecutionStats, Health};
use domain::overview::{Attention, HookAttention, Overview};
use domain::time::{format_age, format_utc};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let live = live_any_attempts();
    let overview = Resource::new(move || live.get(), |_| get_overview());
    view! {
        <Title text="Overview" />
        <PageHeader
            title="Overview".into()
            subtitle="Every hook at a glance, updated as attempts are logged."
        />
        <PageData
            resource=overview
            render=|overview: Overview, _| view! { <OverviewBody overview /> }
        />
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let oldest = overview
        .oldest_waiting_at
        .map(|at| format!("oldest {}", format_age(overview.at - at)))
        .unwrap_or_else(|| "none waiting".to_owned());
    view! {
        <section class="card stat-grid" aria-label="System health" data-testid="overview-figures">
            <RateFigure label="Last hour" stats=overview.last_hour />
            <RateFigure label="Last 24 hours" stats=overview.last_day />
            <Figure label="Waiting" value=overview.waiting.to_string() detail=oldest testid="waiting" />
            <Figure
                label="In flight"
                value=overview.in_flight.to_string()
                detail="attempts being sent".to_owned()
                testid="in-flight"
            />
            <Figure
                label="Instances"
                value=overview.instances.to_string()
                detail="dispatchers alive".to_owned()
                testid="instances"
            />
        </section>
        <h2 class="section-title">"Requests, last 24 hours"</h2>
        <Chart buckets=overview.chart />
        <Attentions hooks=overview.attention />
        <p class="muted small">"As of " {format_utc(overview.at)}</p>
    }
}

/// Requests in a window and their success rate, coloured by its band.
#[component]
fn RateFigure(label: &'static str, stats: ExecutionStats) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-label">{label}</span>
            <span class="stat-value">{stats.request_count}</span>
            <span class="stat-detail">
                "requests · " <HealthLabel health=Health::of(true, stats) />
            </span>
        </div>
    }
}

#[component]
fn Figure(
    label: &'static str,
    value: String,
    detail: String,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="stat" data-testid=testid>
            <span class="stat-label">{label}</span>
            <span class="stat-value">{value}</span>
            <span class="stat-detail muted">{detail}</span>
        </div>
    }
}

/// The hooks that need attention, each linking to its page.
#[component]
fn Attentions(hooks: Vec<HookAttention>) -> impl IntoView {
    view! {
        <section class="card table-card" data-testid="attention">
            <div class="card-title">
                <h2>"Needs attention"</h2>
                <p class="muted">"Disabled hooks, hooks failing now, ordered hooks held by a failing delivery, and hooks whose deliveries wait too long."</p>
            </div>
            {if hooks.is_empty() {
                view! { <p class="empty-row">"All hooks are healthy."</p> }.into_any()
            } else {
                view! {
                    <ul class="attention-list">
                        {hooks.into_iter().map(|hook| view! { <AttentionRow hook /> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn AttentionRow(hook: HookAttention) -> impl IntoView {
    let href = format!("/webhooks/{}", hook.hook_id);
    let (badge, why) = match hook.reason {
        Attention::Disabled { reason } => (
            view! { <span class="badge badge-grey">"Disabled"</span> }.into_any(),
            reason.unwrap_or_else(|| "switched off by an admin".to_owned()).into_any(),
        ),
        Attention::Failing { since } => (
            view! { <span class="badge badge-red">"Failing"</span> }.into_any(),
            format!("every attempt since {} has failed", format_utc(since)).into_any(),
        ),
        Attention::Held {
            delivery_id,
            attempt_count,
        } => (
            view! { <span class="badge badge-amber">"Held"</span> }.into_any(),
            view! {
                "waiting on "
                <A href=format!("/deliveries/{delivery_id}")>"a delivery"</A>
                {format!(" that failed {attempt_count} time{}", if attempt_count == 1 { "" } else { "s" })}
            }
                .into_any(),
        ),
        Attention::Lagging {
            oldest_waiting_at,
            age_ms,
        } => (
            view! { <span class="badge badge-amber">"Lagging"</span> }.into_any(),
            format!(
                "a delivery has waited {} (since {})",
                format_age(age_ms),
                format_utc(oldest_waiting_at)
            )
                .into_any(),
        ),
    };
    view! {
        <li class="attention-row">
            {badge}
            <A href=href attr:class="row-title">{hook.hook_name}</A>
            <span class="muted small">{why}</span>
        </li>
    }
}
