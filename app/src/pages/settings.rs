//! Settings shared by every instance: how long the delivery log is kept,
//! and where alerts go.

use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::components::A;

use crate::components::{
    action_error, ConfirmButton, ErrorNotice, FieldError, PageData, PageHeader,
};
use crate::server_fns::alerts::{get_alert_settings, RemoveAlertSettings, SaveAlertSettings};
use crate::server_fns::settings::{get_retention, SaveRetention};
use domain::alert::{
    AlertFormat, AlertSettings, AlertSettingsInput, CONSECUTIVE_FAILURES_MAX, LAG_MINUTES_MAX,
    MIN_ATTEMPTS_MAX, WINDOW_MINUTES_MAX,
};
use domain::settings::{describe_window, RetentionSettings, MAX_RETENTION_DAYS};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveRetention>::new();
    let retention = Resource::new(move || save.version().get(), |_| get_retention());
    let error = action_error(save);
    view! {
        <Title text="Settings" />
        <PageHeader
            title="Settings".into()
            subtitle="Shared by every Hookline instance on this database."
        />
        <ErrorNotice error=error />
        <PageData
            resource=retention
            render=move |settings: RetentionSettings, can_write| {
                view! { <RetentionCard settings save error can_write /> }
            }
        />
        <AlertsSection />
    }
}

#[component]
fn AlertsSection() -> impl IntoView {
    let save = ServerAction::<SaveAlertSettings>::new();
    let remove = ServerAction::<RemoveAlertSettings>::new();
    let alerts = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| get_alert_settings(),
    );
    let error = action_error(save);
    let remove_error = action_error(remove);
    view! {
        <ErrorNotice error=error />
        <ErrorNotice error=remove_error />
        <PageData
            resource=alerts
            render={move |settings: Option<AlertSettings>, can_write| {
                view! { <AlertsCard settings save remove error can_write /> }
            }}
        />
    }
}

#[component]
fn AlertsCard(
    settings: Option<AlertSettings>,
    save: ServerAction<SaveAlertSettings>,
    remove: ServerAction<RemoveAlertSettings>,
    error: Signal<Option<crate::server_fns::ConsoleError>>,
    can_write: bool,
) -> impl IntoView {
    let on = settings.is_some();
    let rules = settings.as_ref().map(|s| s.rules.clone());
    let summary = settings.as_ref().map(|settings| {
        let rules = &settings.rules;
        let rate = rules.success_rate_below.map(|percent| {
            format!(
                ", or under {percent} % success over {} minutes (at least {} attempts)",
                rules.window_minutes, rules.min_attempts
            )
        });
        view! {
            <dt>"Sends to"</dt>
            <dd><code class="wrap" data-testid="alerts-url">{rules.url.clone()}</code></dd>
            <dt>"Body"</dt>
            <dd>{match rules.format {
                AlertFormat::Json => "Hookline's JSON, signed",
                AlertFormat::Slack => "Slack's {\"text\": …}, signed",
            }}</dd>
            <dt>"Failing when"</dt>
            <dd>{format!("{} attempts in a row fail{}", rules.consecutive_failures, rate.unwrap_or_default())}</dd>
            <dt>"Lagging when"</dt>
            <dd>{format!("a delivery has waited over {} min", rules.lag_minutes)}</dd>
            <dt>"Carried by"</dt>
            <dd><A href=format!("/webhooks/{}", settings.hook_id)>"the alerts hook"</A>" (its log, key and resends)"</dd>
        }
    });
    let form = rules.unwrap_or_else(AlertSettingsInput::defaults);
    let url = form.url.clone();
    let slack = form.format == AlertFormat::Slack;
    let in_a_row = form.consecutive_failures.to_string();
    let rate = form
        .success_rate_below
        .map(|p| p.to_string())
        .unwrap_or_default();
    let window = form.window_minutes.to_string();
    let min_attempts = form.min_attempts.to_string();
    let lag = form.lag_minutes.to_string();
    view! {
        <section class="card settings-card" data-testid="alerts-card">
            <div class="settings-card-text">
                <h2>"Alerts"</h2>
                <p class="muted">
                    "Hear about a hook in trouble before its customers do: "
                    <code>"hook.failing"</code>", "<code>"hook.disabled"</code>", "<code>"hook.lagging"</code>", "
                    <code>"delivery.exhausted"</code>" and "<code>"hook.recovered"</code>
                    " go to your operations endpoint, once per incident, signed, retried and logged. "
                    <A href="/incidents">"Incidents"</A>" lists them."
                </p>
                <dl class="facts">
                    <dt>"Status"</dt>
                    <dd data-testid="alerts-status">
                        {if on {
                            view! { <span class="badge badge-green">"On"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge-grey">"Off"</span> }.into_any()
                        }}
                    </dd>
                    {summary}
                </dl>
            </div>
            {can_write.then(|| view! {
                <div>
                    <ActionForm action=save attr:class="form">
                        <div class="field">
                            <label for="alerts-url">"Operations endpoint URL"</label>
                            <input id="alerts-url" type="url" name="url" class="mono" required
                                placeholder="https://hooks.slack.com/services/…" value=url />
                            <FieldError error=error field="url" />
                        </div>
                        <div class="field">
                            <label for="alerts-format">"Body"</label>
                            <select id="alerts-format" name="format">
                                <option value="json" selected=!slack>"Hookline JSON"</option>
                                <option value="slack" selected=slack>"Slack-compatible {\"text\"}"</option>
                            </select>
                            <FieldError error=error field="format" />
                        </div>
                        <div class="alerts-rules">
                            <RuleField id="alerts-in-a-row" label="Failures in a row" name="consecutive_failures"
                                field="consecutiveFailures" max=CONSECUTIVE_FAILURES_MAX placeholder="5"
                                value=in_a_row error />
                            <RuleField id="alerts-rate" label="Or success under (%)" name="success_rate_below"
                                field="successRateBelow" max=100 placeholder="Off" value=rate error />
                            <RuleField id="alerts-window" label="Over (minutes)" name="window_minutes"
                                field="windowMinutes" max=WINDOW_MINUTES_MAX placeholder="15"
                                value=window error />
                            <RuleField id="alerts-min" label="With at least (attempts)" name="min_attempts"
                                field="minAttempts" max=MIN_ATTEMPTS_MAX placeholder="20"
                                value=min_attempts error />
                            <RuleField id="alerts-lag" label="Lagging after (minutes)" name="lag_minutes"
                                field="lagMinutes" max=LAG_MINUTES_MAX placeholder="5"
                                value=lag error />
                        </div>
                        <p class="hint">"Leave the success rate empty to alert on failures in a row only. A hook lags when a delivery has waited longer than its minutes."</p>
                        <div class="form-actions">
                            <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                                {if on { "Save" } else { "Turn alerts on" }}
                            </button>
                            {on.then(|| view! {
                                <ConfirmButton
                                    label="Turn off"
                                    title="Turn alerts off?"
                                    message="No more alerts are sent; the alerts hook and its log are removed.".to_string()
                                    confirm_label="Turn off"
                                    danger=true
                                    on_confirm=move |()| {
                                        remove.dispatch(RemoveAlertSettings {});
                                    }
                                />
                            })}
                        </div>
                    </ActionForm>
                </div>
            })}
        </section>
    }
}

#[component]
fn RetentionCard(
    settings: RetentionSettings,
    save: ServerAction<SaveRetention>,
    error: Signal<Option<crate::server_fns::ConsoleError>>,
    can_write: bool,
) -> impl IntoView {
    let effective = describe_window(settings.effective_ms);
    let default = describe_window(settings.default_ms);
    let source = if settings.saved {
        format!("Set here. The server's default (--retention) is {default}.")
    } else {
        "The server's default (--retention).".to_owned()
    };
    let current_days = settings
        .saved
        .then(|| settings.effective_days().to_string());
    let placeholder = format!("Default: {default}");
    view! {
        <section class="card settings-card">
            <div class="settings-card-text">
                <h2>"Log retention"</h2>
                <p class="muted">
                    "Events older than this are deleted with their deliveries and every attempt, "
                    "in small batches that never hold up ingestion. Deliveries still being retried are kept until they finish."
                </p>
                <dl class="facts">
                    <dt>"Kept for"</dt>
                    <dd data-testid="retention-effective">
                        <strong>{effective}</strong>
                    </dd>
                    <dt>"Source"</dt>
                    <dd class="muted">{source}</dd>
                </dl>
            </div>
            {can_write.then(|| view! {
                <ActionForm action=save attr:class="form inline-form">
                    <div class="field">
                        <label for="retention-days">"Keep the log for (days)"</label>
                        <input
                            id="retention-days"
                            type="number"
                            name="days"
                            min="1"
                            max=MAX_RETENTION_DAYS.to_string()
                            placeholder=placeholder
                            value=current_days
                        />
                        <FieldError error=error field="days" />
                        <p class="hint">"Leave empty to use the server's default."</p>
                    </div>
                    <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                        "Save"
                    </button>
                </ActionForm>
            })}
        </section>
    }
}

/// One number of the failing or lagging rule: from 1 to `max`, posted as `name`, its
/// error found by the API's `field` name.
#[component]
fn RuleField(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    field: &'static str,
    max: u32,
    placeholder: &'static str,
    value: String,
    error: Signal<Option<crate::server_fns::ConsoleError>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="number" name=name min="1" max=max.to_string() placeholder=placeholder value=value />
            <FieldError error field />
        </div>
    }
}
