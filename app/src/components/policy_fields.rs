//! The hook form's delivery policy: ordered delivery, a rate limit, and the
//! hook's own retry schedule and request timeout, each checked in the browser
//! with the server's rules, with the server's values shown where the hook
//! has none of its own.

use leptos::prelude::*;

use domain::policy::{DeliveryPolicy, RateLimit, RequestTimeout, RetrySchedule};
use domain::AppError;

use crate::components::{FieldError, TextField};
use crate::server_fns::settings::get_delivery_defaults;
use crate::server_fns::ConsoleError;

/// The policy as the form holds it: text as typed, empty for "the server's".
#[derive(Clone, Copy)]
pub struct PolicyText {
    ordered: RwSignal<bool>,
    per_second: RwSignal<String>,
    burst: RwSignal<String>,
    retry_schedule: RwSignal<String>,
    request_timeout: RwSignal<String>,
}

impl PolicyText {
    pub fn new(policy: Option<&DeliveryPolicy>) -> PolicyText {
        let policy = policy.cloned().unwrap_or_default();
        let limit = policy.rate_limit;
        PolicyText {
            ordered: RwSignal::new(policy.ordered),
            per_second: RwSignal::new(
                limit
                    .map(|l| l.per_second().to_string())
                    .unwrap_or_default(),
            ),
            burst: RwSignal::new(limit.map(|l| l.burst().to_string()).unwrap_or_default()),
            retry_schedule: RwSignal::new(
                policy
                    .retry_schedule
                    .map(|s| s.step_texts().join(", "))
                    .unwrap_or_default(),
            ),
            request_timeout: RwSignal::new(
                policy
                    .request_timeout
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            ),
        }
    }

    /// The policy the text describes, or the first field at fault (named as
    /// the API names it).
    pub fn parse(&self) -> Result<DeliveryPolicy, AppError> {
        let per_second = self.per_second.get_untracked();
        let burst = self.burst.get_untracked();
        let rate_limit = match (per_second.trim(), burst.trim()) {
            ("", "") => None,
            (per_second, burst) => {
                let per_second = per_second.parse::<f64>().map_err(|_| {
                    AppError::invalid(
                        "rateLimit.perSecond",
                        "give deliveries per second as a number, e.g. 20 or 0.5",
                    )
                })?;
                let burst = if burst.is_empty() {
                    1
                } else {
                    burst.parse::<u32>().map_err(|_| {
                        AppError::invalid(
                            "rateLimit.burst",
                            "give the burst as a whole number, e.g. 10",
                        )
                    })?
                };
                Some(RateLimit::new(per_second, burst)?)
            }
        };
        let schedule = self.retry_schedule.get_untracked();
        let retry_schedule = match schedule.trim() {
            "" => None,
            steps => Some(RetrySchedule::for_hook(
                &steps.split(',').map(str::trim).collect::<Vec<_>>(),
            )?),
        };
        let timeout = self.request_timeout.get_untracked();
        let request_timeout = match timeout.trim() {
            "" => None,
            timeout => Some(RequestTimeout::parse(timeout)?),
        };
        Ok(DeliveryPolicy {
            ordered: self.ordered.get_untracked(),
            rate_limit,
            retry_schedule,
            request_timeout,
        })
    }
}

#[component]
pub fn PolicyFields(
    policy: PolicyText,
    #[prop(into)] error: Signal<Option<ConsoleError>>,
) -> impl IntoView {
    let defaults = Resource::new(|| (), |()| get_delivery_defaults());
    let schedule = move || {
        defaults
            .get()
            .and_then(Result::ok)
            .map(|d| d.retry_schedule)
    };
    let timeout = move || {
        defaults
            .get()
            .and_then(Result::ok)
            .map(|d| d.request_timeout)
    };
    let cap = move || defaults.get().and_then(Result::ok).map(|d| d.timeout_cap);
    view! {
        <div class="field policy-fields" data-testid="delivery-policy">
            <span>"Delivery policy"</span>
            <label class="check">
                <input
                    type="checkbox"
                    id="hook-form-ordered"
                    prop:checked=move || policy.ordered.get()
                    on:change=move |ev| policy.ordered.set(event_target_checked(&ev))
                />
                <span>"Ordered delivery"</span>
            </label>
            <p class="muted small">
                "One delivery at a time, in the order events came in. A delivery that keeps failing holds the rest back until its retries run out or you skip it."
            </p>
            <div class="policy-grid">
                <TextField
                    id="hook-form-rate"
                    label="Rate limit (per second)"
                    field="rateLimit.perSecond"
                    placeholder="No limit"
                    value=policy.per_second
                    error
                    inputmode="decimal"
                />
                <TextField
                    id="hook-form-burst"
                    label="Burst"
                    field="rateLimit.burst"
                    placeholder="1"
                    value=policy.burst
                    error
                    inputmode="numeric"
                />
            </div>
            <p class="muted small">"Deliveries over the limit wait their turn; they do not fail."</p>
            <div class="field">
                <label for="hook-form-retry">"Retry schedule"</label>
                <input
                    id="hook-form-retry"
                    type="text"
                    class="mono"
                    placeholder="Server's schedule"
                    prop:value=move || policy.retry_schedule.get()
                    on:input=move |ev| policy.retry_schedule.set(event_target_value(&ev))
                />
                <Suspense fallback=|| ()>
                    <p class="muted small" data-testid="retry-schedule-source">
                        {move || source_hint(policy.retry_schedule, "schedule", schedule())}
                    </p>
                </Suspense>
                <p class="muted small">
                    "Waits after each failed attempt, e.g. 10s, 1m, 10m: at most 20, each at least 1s, 7 days in all."
                </p>
                <FieldError error field="retrySchedule" />
            </div>
            <div class="field">
                <label for="hook-form-timeout">"Request timeout"</label>
                <input
                    id="hook-form-timeout"
                    type="text"
                    class="mono"
                    placeholder="Server's timeout"
                    prop:value=move || policy.request_timeout.get()
                    on:input=move |ev| policy.request_timeout.set(event_target_value(&ev))
                />
                <Suspense fallback=|| ()>
                    <p class="muted small" data-testid="request-timeout-source">
                        {move || source_hint(policy.request_timeout, "timeout", timeout())}
                    </p>
                    <p class="muted small">
                        {move || format!("From 1s to 30s; on this server at most {} takes effect.", cap().unwrap_or_default())}
                    </p>
                </Suspense>
                <FieldError error field="requestTimeout" />
            </div>
        </div>
    }
}

/// Where a setting comes from: the server's value while the hook's own field
/// is empty.
fn source_hint(own: RwSignal<String>, what: &str, server: Option<String>) -> String {
    let server = server.unwrap_or_default();
    if own.read().trim().is_empty() {
        format!("In effect: the server's {what}, {server}.")
    } else {
        format!("Instead of the server's {what}, {server}.")
    }
}
