//! One delivery: its event and hook, and every attempt as a timeline with the
//! request sent and the response that came back; Resend.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::{
    action_error, live_attempts, AttemptStatus, CopyButton, ErrorNotice, PageData,
};
use crate::server_fns::deliveries::{get_delivery, ResendDelivery};
use domain::delivery::{Attempt, Delivery, DeliveryState};
use domain::time::format_utc;

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let params = use_params_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    let resend = ServerAction::<ResendDelivery>::new();
    // Known once the delivery has loaded; then its hook's live updates refresh it.
    let hook_id = RwSignal::new(String::new());
    let live = live_attempts(hook_id.into());
    let delivery = Resource::new(
        move || (id.get(), resend.version().get(), live.get()),
        |(id, ..)| get_delivery(id.into()),
    );
    Effect::new(move |_| {
        let loaded = delivery.with(|loaded| match loaded {
            Some(Ok(delivery)) => Some(delivery.hook_id.to_string()),
            _ => None,
        });
        if let Some(loaded) = loaded.filter(|loaded| *loaded != hook_id.get_untracked()) {
            hook_id.set(loaded);
        }
    });
    view! {
        <PageData
            resource=delivery
            render={move |delivery: Delivery, can_write| view! { <DeliveryDetail delivery can_write resend /> }}
        />
    }
}

#[component]
fn DeliveryDetail(
    delivery: Delivery,
    can_write: bool,
    resend: ServerAction<ResendDelivery>,
) -> impl IntoView {
    let requests = format!("/webhooks/{}/requests", delivery.hook_id);
    let (state_class, state_label) = match delivery.state {
        DeliveryState::Delivered => ("badge badge-green", "Delivered"),
        DeliveryState::Failed => ("badge badge-red", "Failed"),
        DeliveryState::Pending => ("badge badge-blue", "Pending"),
    };
    let id = StoredValue::new(delivery.id.clone());
    let error = action_error(resend);
    view! {
        <Title text=format!("Delivery {}", delivery.id) />
        <A href=requests attr:class="back-link">"← Requests"</A>
        <section class="card hook-header">
            <div class="hook-title">
                <div>
                    <div class="title-line">
                        <h1 class="mono-title">{delivery.event.clone()}</h1>
                        <span class=state_class data-testid="delivery-state">{state_label}</span>
                    </div>
                    <div class="muted small id-line">
                        "Delivery to "
                        <A href=format!("/webhooks/{}", delivery.hook_id) attr:data-testid="delivery-hook">
                            {delivery.hook_name.clone()}
                        </A>
                    </div>
                </div>
                {can_write.then(|| view! {
                    <div class="page-actions">
                        <button
                            type="button"
                            class="btn btn-primary"
                            data-testid="resend"
                            disabled=move || resend.pending().get()
                            on:click=move |_| { resend.dispatch(ResendDelivery { id: id.get_value() }); }
                        >
                            {move || if resend.pending().get() { "Resending…" } else { "Resend" }}
                        </button>
                    </div>
                })}
            </div>
            <div class="figures">
                <div class="figure">
                    <span class="figure-label">"webhook-id"</span>
                    <span class="figure-value small mono id-line" data-testid="webhook-id">
                        {delivery.id.to_string()}
                        <CopyButton text=delivery.id.to_string() />
                    </span>
                </div>
                <div class="figure">
                    <span class="figure-label">"Event id"</span>
                    <span class="figure-value small mono">{delivery.event_id.to_string()}</span>
                </div>
                {delivery.idempotency_key.clone().map(|key| view! {
                    <div class="figure">
                        <span class="figure-label">"Idempotency key"</span>
                        <span class="figure-value small mono" data-testid="idempotency-key">{key}</span>
                    </div>
                })}
                <div class="figure">
                    <span class="figure-label">"Created"</span>
                    <span class="figure-value small">{format_utc(delivery.created_at)}</span>
                </div>
                <div class="figure">
                    <span class="figure-label">"Attempts"</span>
                    <span class="figure-value" data-testid="attempt-count">{delivery.attempt_count}</span>
                </div>
                {delivery.next_attempt_at.map(|at| view! {
                    <div class="figure">
                        <span class="figure-label">"Next attempt"</span>
                        <span class="figure-value small">{format_utc(at)}</span>
                    </div>
                })}
                {delivery.trace_id.clone().map(|trace| view! {
                    <div class="figure">
                        <span class="figure-label">"Trace id"</span>
                        <span class="figure-value small mono id-line" data-testid="trace-id">
                            {trace.clone()}
                            <CopyButton text=trace />
                        </span>
                    </div>
                })}
            </div>
            <ErrorNotice error />
        </section>
        <div class="timeline">
            {delivery
                .attempts
                .into_iter()
                .rev()
                .map(|attempt| view! { <AttemptCard attempt /> })
                .collect_view()}
        </div>
    }
}

/// One attempt: what was sent and what came back.
#[component]
fn AttemptCard(attempt: Attempt) -> impl IntoView {
    let request_body = pretty_json(&attempt.request_body);
    let curl = attempt.as_curl();
    let response_body = attempt.response_body.as_deref().map(pretty_json);
    view! {
        <article class="card attempt" data-testid="attempt">
            <header class="attempt-head">
                <AttemptStatus status=attempt.summary.response_status error=attempt.summary.error.clone() success=attempt.summary.success />
                <strong>{format!("Attempt {}", attempt.summary.number)}</strong>
                <span class="chip">{attempt.summary.trigger.as_str()}</span>
                <span class="muted small">{format_utc(attempt.summary.started_at)}</span>
                <span class="muted small">{format!("{} ms", attempt.summary.duration_ms)}</span>
                <span class="attempt-tools">
                    <CopyButton text=curl label="Copy as curl" />
                </span>
            </header>
            {attempt.summary.error.clone().map(|e| view! { <div class="notice notice-error" data-testid="attempt-error">{e}</div> })}
            <div class="exchange">
                <section>
                    <h3>"Request"</h3>
                    <div class="kv"><span>"POST"</span><code class="wrap">{attempt.url.clone()}</code></div>
                    <Headers pairs=attempt.request_headers.clone() />
                    <Body text=request_body truncated=false />
                </section>
                <section>
                    <h3>"Response"</h3>
                    {match attempt.summary.response_status {
                        Some(code) => view! { <div class="kv"><span>"Status"</span><strong>{code}</strong></div> }.into_any(),
                        None => view! { <p class="muted small">"No response."</p> }.into_any(),
                    }}
                    {attempt.response_headers.clone().map(|pairs| view! { <Headers pairs /> })}
                    {response_body.map(|text| view! { <Body text truncated=attempt.response_body_truncated /> })}
                </section>
            </div>
        </article>
    }
}

#[component]
fn Headers(pairs: Vec<(String, String)>) -> impl IntoView {
    view! {
        <details class="headers">
            <summary>{format!("Headers ({})", pairs.len())}</summary>
            // The <tbody> is written out: a browser's parser adds one around
            // bare rows, and hydration must find the DOM it rendered.
            <table class="kv-table">
                <tbody>
                    {pairs
                        .into_iter()
                        .map(|(name, value)| view! { <tr><th>{name}</th><td class="mono wrap">{value}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[component]
fn Body(text: String, truncated: bool) -> impl IntoView {
    view! {
        <div class="body-block">
            <div class="body-tools">
                <span class="muted small">"Body"</span>
                {truncated.then(|| view! { <span class="badge badge-amber">"Cut at 64 KiB"</span> })}
                <CopyButton text=text.clone() />
            </div>
            <pre class="code" data-testid="body">{if text.is_empty() { "(empty)".to_owned() } else { text }}</pre>
        </div>
    }
}

/// JSON re-indented for reading; anything else as it is.
fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_owned())
}
