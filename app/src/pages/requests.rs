//! A webhook's Requests tab: the chart and the log, filtered by event, outcome
//! and time range (kept in the URL), paged, with new rows arriving live, and
//! "Resend failed since …".

use domain::ids::HookId;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{
    live_attempts, AttemptStatus, Chart, ErrorNotice, HookTabs, Loading, PageData, Pager,
    StateBadge, Tab,
};
use crate::server_fns::deliveries::RecoverFailed;
use crate::server_fns::hooks::get_hook;
use crate::server_fns::requests::{hook_requests, RequestsView};
use domain::delivery::{AttemptSummary, TimeRange};
use domain::hook::Hook;
use domain::time::{format_utc, parse_datetime_local};

#[component]
pub fn RequestsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let live = live_attempts(id);
    let recover = ServerAction::<RecoverFailed>::new();
    let hook = Resource::new(move || HookId::from(id.get()), get_hook);
    let requests = Resource::new(
        move || {
            (
                id.get(),
                param("event"),
                param("status"),
                param("range"),
                param("page").and_then(|p| p.parse::<i64>().ok()),
                live.get(),
                recover.version().get(),
            )
        },
        |(id, event, status, range, page, ..)| hook_requests(id.into(), event, status, range, page),
    );
    view! {
        <A href="/webhooks" attr:class="back-link">
            "← Webhooks"
        </A>
        <PageData
            resource=hook
            render={move |hook: Hook, can_write| {
                view! {
                    <Title text=format!("{} · Requests", hook.name) />
                    <section class="card hook-header">
                        <div class="title-line">
                            <h1>{hook.name.clone()}</h1>
                            <StateBadge enabled=hook.enabled />
                        </div>
                        <div class="muted small mono">{hook.config.url.clone()}</div>
                    </section>
                    <HookTabs hook_id=hook.id.clone() active=Tab::Requests />
                    <Filters hook=hook.clone() />
                    <Transition fallback=Loading>
                        {move || Suspend::new(async move {
                            match requests.await {
                                Ok(view) => view! { <RequestsBody view /> }.into_any(),
                                Err(e) => view! { <ErrorNotice error=Signal::stored(Some(e)) /> }.into_any(),
                            }
                        })}
                    </Transition>
                    {can_write.then(|| view! { <RecoverPanel hook_id=hook.id.clone() recover /> })}
                }
            }}
        />
    }
}

/// The filters, as a GET form: applying them changes the URL, so a filtered
/// view can be shared and survives a reload.
#[component]
fn Filters(hook: Hook) -> impl IntoView {
    let query = use_query_map();
    let current = move |name: &str| query.read().get(name).unwrap_or_default();
    let events = hook.events.clone();
    view! {
        <Form method="GET" action="" attr:class="card filters">
            <label class="filter">
                <span>"Event"</span>
                <select name="event" prop:value=move || current("event")>
                    <option value="">"All events"</option>
                    {events
                        .into_iter()
                        .map(|e| {
                            let selected = {
                                let e = e.clone();
                                move || current("event") == e
                            };
                            view! { <option value=e.clone() selected=selected>{e.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="filter">
                <span>"Outcome"</span>
                <select name="status" prop:value=move || current("status")>
                    <option value="" selected=move || current("status").is_empty()>"All outcomes"</option>
                    <option value="success" selected=move || current("status") == "success">"Succeeded"</option>
                    <option value="failed" selected=move || current("status") == "failed">"Failed"</option>
                </select>
            </label>
            <label class="filter">
                <span>"Time range"</span>
                <select name="range" prop:value=move || {
                    let chosen = current("range");
                    if chosen.is_empty() { TimeRange::default().as_param().to_owned() } else { chosen }
                }>
                    {TimeRange::ALL
                        .into_iter()
                        .map(|r| {
                            let selected = move || {
                                let chosen = current("range");
                                chosen == r.as_param() || (chosen.is_empty() && r == TimeRange::default())
                            };
                            view! { <option value=r.as_param() selected=selected>{range_label(r)}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" class="btn btn-secondary">"Apply"</button>
        </Form>
    }
}

/// How the time-range filter names a range.
fn range_label(range: TimeRange) -> &'static str {
    match range {
        TimeRange::Hour => "Last hour",
        TimeRange::Day => "Last 24 hours",
        TimeRange::Week => "Last 7 days",
    }
}

#[component]
fn RequestsBody(view: RequestsView) -> impl IntoView {
    let RequestsView {
        page,
        chart,
        page_size,
    } = view;
    let (total, total_capped) = (page.total, page.total_capped);
    view! {
        <Chart buckets=chart />
        {if page.attempts.is_empty() {
            view! {
                <div class="card empty-state" data-testid="requests-empty">
                    <h2>"No requests match"</h2>
                    <p class="muted">
                        "Requests appear here as soon as events this webhook listens to are sent. "
                        "Send one with the API (POST /api/events), use \u{201c}Send test payload\u{201d} "
                        "on the Settings tab, or widen the filters."
                    </p>
                </div>
            }
                .into_any()
        } else {
            view! { <AttemptsTable attempts=page.attempts /> }.into_any()
        }}
        <Pager total total_capped page_size noun="requests" />
    }
}

#[component]
fn AttemptsTable(attempts: Vec<AttemptSummary>) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table" data-testid="requests-table">
                <thead>
                    <tr>
                        <th>"Status"</th>
                        <th>"Event"</th>
                        <th>"Time (UTC)"</th>
                        <th class="num">"Duration"</th>
                        <th class="num">"Attempt"</th>
                        <th>"Trigger"</th>
                    </tr>
                </thead>
                <tbody>
                    {attempts
                        .into_iter()
                        .map(|a| {
                            let href = format!("/deliveries/{}", a.delivery_id);
                            view! {
                                <tr>
                                    <td>
                                        <A href=href.clone()>
                                            <AttemptStatus status=a.response_status error=a.error.clone() success=a.success />
                                        </A>
                                    </td>
                                    <td>
                                        <A href=href attr:class="row-title mono">{a.event.clone()}</A>
                                    </td>
                                    <td data-label="Time (UTC)" class="nowrap">{format_utc(a.started_at)}</td>
                                    <td data-label="Duration" class="num">{format!("{} ms", a.duration_ms)}</td>
                                    <td data-label="Attempt" class="num">{a.number}</td>
                                    <td data-label="Trigger"><span class="chip">{a.trigger.as_str()}</span></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "Resend failed since …": count first, then confirm with the count.
#[component]
fn RecoverPanel(hook_id: HookId, recover: ServerAction<RecoverFailed>) -> impl IntoView {
    let preview = ServerAction::<RecoverFailed>::new();
    let since = RwSignal::new(String::new());
    let since_ms = move || parse_datetime_local(&since.get());
    let hook_id = StoredValue::new(hook_id);
    let counted = move || {
        preview
            .value()
            .get()
            .and_then(Result::ok)
            .map(|r| r.deliveries)
    };
    let error = Signal::derive(move || {
        preview
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| recover.value().get().and_then(Result::err))
    });
    view! {
        <section class="card">
            <div class="card-title">
                <h2>"Resend failed deliveries"</h2>
                <p class="muted small">"Every delivery that failed since the time you choose gets a new attempt now."</p>
            </div>
            <div class="recover-row">
                <label class="filter">
                    <span>"Failed since (UTC)"</span>
                    <input
                        type="datetime-local"
                        data-testid="recover-since"
                        prop:value=move || since.get()
                        on:input=move |ev| {
                            since.set(event_target_value(&ev));
                            preview.value().set(None);
                        }
                    />
                </label>
                <button
                    type="button"
                    class="btn btn-secondary"
                    disabled=move || since_ms().is_none() || preview.pending().get()
                    on:click=move |_| {
                        if let Some(ms) = since_ms() {
                            preview.dispatch(RecoverFailed { hook_id: hook_id.get_value(), since: ms, dry_run: true });
                        }
                    }
                >
                    "Find failed deliveries"
                </button>
                {move || counted().map(|n| {
                    let label = if n == 1 { "1 failed delivery will be resent.".to_owned() } else { format!("{n} failed deliveries will be resent.") };
                    view! {
                        <span class="recover-count" data-testid="recover-count">{label}</span>
                        <button
                            type="button"
                            class="btn btn-primary"
                            disabled=move || n == 0 || recover.pending().get()
                            on:click=move |_| {
                                if let Some(ms) = since_ms() {
                                    recover.dispatch(RecoverFailed { hook_id: hook_id.get_value(), since: ms, dry_run: false });
                                    preview.value().set(None);
                                }
                            }
                        >
                            {format!("Resend {n}")}
                        </button>
                    }
                })}
                {move || recover.value().get().and_then(Result::ok).map(|r| view! {
                    <span class="notice notice-success" data-testid="recover-done">{format!("{} resent", r.deliveries)}</span>
                })}
            </div>
            <ErrorNotice error />
        </section>
    }
}
