//! Search: events and deliveries matching the header's search box (`?q=`),
//! filtered by event type, outcome and time range, all kept in the URL so a
//! search can be shared and survives a reload.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorNotice, Loading, PageHeader, Pager};
use crate::server_fns::search::{search, PAGE_SIZE};
use domain::delivery::DeliveryState;
use domain::search::{SearchMatch, SearchPage};
use domain::time::{format_utc, parse_datetime_local};

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.trim().is_empty());
    let results = Resource::new(
        move || {
            (
                param("q"),
                param("event"),
                param("status"),
                param("from").and_then(|t| parse_datetime_local(&t)),
                param("to").and_then(|t| parse_datetime_local(&t)),
                param("page").and_then(|p| p.parse::<i64>().ok()),
            )
        },
        |(q, event, status, start_time, end_time, page)| async move {
            // Nothing asked yet: no request, no error.
            match q {
                Some(q) => search(q, event, status, start_time, end_time, page)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Search" />
        <PageHeader
            title="Search".to_owned()
            subtitle="Events and deliveries by event id, delivery id (webhook-id), idempotency key or payload words"
        />
        <Filters />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(Some(page)) => view! { <Results page /> }.into_any(),
                    Ok(None) => view! {
                        <div class="card empty-state" data-testid="search-empty">
                            <h2>"Search events and deliveries"</h2>
                            <p class="muted">
                                "Type an event id, a delivery id, an idempotency key, an email, "
                                "a user id or an order number in the search box."
                            </p>
                        </div>
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorNotice error=Signal::stored(Some(e)) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The filters, as a GET form that keeps the search text.
#[component]
fn Filters() -> impl IntoView {
    let query = use_query_map();
    let current = move |name: &str| query.read().get(name).unwrap_or_default();
    let statuses = [
        ("", "All outcomes"),
        ("delivered", "Delivered"),
        ("failed", "Failed"),
        ("pending", "Pending"),
    ];
    view! {
        <Form method="GET" action="" attr:class="card filters">
            <label class="filter">
                <span>"Search"</span>
                <input type="search" name="q" maxlength="200" prop:value=move || current("q") />
            </label>
            <label class="filter">
                <span>"Event"</span>
                <input type="text" name="event" placeholder="All events" prop:value=move || current("event") />
            </label>
            <label class="filter">
                <span>"Outcome"</span>
                <select name="status" prop:value=move || current("status")>
                    {statuses
                        .into_iter()
                        .map(|(value, label)| {
                            view! {
                                <option value=value selected=move || current("status") == value>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="filter">
                <span>"From (UTC)"</span>
                <input type="datetime-local" name="from" prop:value=move || current("from") />
            </label>
            <label class="filter">
                <span>"To (UTC)"</span>
                <input type="datetime-local" name="to" prop:value=move || current("to") />
            </label>
            <button type="submit" class="btn btn-secondary">"Search"</button>
        </Form>
    }
}

#[component]
fn Results(page: SearchPage) -> impl IntoView {
    let SearchPage {
        matches,
        total,
        total_capped,
    } = page;
    view! {
        {if matches.is_empty() {
            view! {
                <div class="card empty-state" data-testid="search-empty">
                    <h2>"Nothing matches"</h2>
                    <p class="muted">
                        "Ids and keys match whole; payload words match as written, whole words "
                        "in order. Widen the filters, or check the text."
                    </p>
                </div>
            }
                .into_any()
        } else {
            view! { <MatchesTable matches /> }.into_any()
        }}
        <Pager total total_capped page_size=PAGE_SIZE noun="matches" />
    }
}

fn state_badge(state: Option<DeliveryState>) -> (&'static str, &'static str) {
    match state {
        Some(DeliveryState::Delivered) => ("badge badge-green", "Delivered"),
        Some(DeliveryState::Failed) => ("badge badge-red", "Failed"),
        Some(DeliveryState::Pending) => ("badge badge-blue", "Pending"),
        None => ("badge badge-grey", "No delivery"),
    }
}

#[component]
fn MatchesTable(matches: Vec<SearchMatch>) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table" data-testid="search-table">
                <thead>
                    <tr>
                        <th>"State"</th>
                        <th>"Webhook"</th>
                        <th>"Event"</th>
                        <th>"Time (UTC)"</th>
                        <th>"Delivery"</th>
                    </tr>
                </thead>
                <tbody>
                    {matches
                        .into_iter()
                        .map(|m| {
                            let (class, label) = state_badge(m.state);
                            let hook = match (m.hook_id, m.hook_name) {
                                (Some(id), Some(name)) => view! {
                                    <A href=format!("/webhooks/{id}") attr:class="row-title">{name}</A>
                                }
                                .into_any(),
                                _ => view! { <span class="muted">"—"</span> }.into_any(),
                            };
                            let delivery = match m.delivery_id {
                                Some(id) => view! {
                                    <A href=format!("/deliveries/{id}") attr:class="mono">{id.to_string()}</A>
                                }
                                .into_any(),
                                None => view! {
                                    <span class="muted mono" title="The event">{m.event_id.to_string()}</span>
                                }
                                .into_any(),
                            };
                            view! {
                                <tr>
                                    <td><span class=class>{label}</span></td>
                                    <td>{hook}</td>
                                    <td class="mono">{m.event.clone()}</td>
                                    <td class="nowrap">{format_utc(m.created_at)}</td>
                                    <td>{delivery}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
