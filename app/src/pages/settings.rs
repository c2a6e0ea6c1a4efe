//! Settings shared by every instance: how long the delivery log is kept.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{action_error, ErrorNotice, FieldError, PageData, PageHeader};
use crate::server_fns::settings::{get_retention, SaveRetention};
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
