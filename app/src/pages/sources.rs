//! Sources: a Logto webhook's URL to post to, so Logto's events reach
//! Hookline's hooks with retries, the log and resends.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    action_error, AdminOnly, ErrorNotice, FieldError, MadeNotice, PageData, PageHeader, RemoveCell,
};
use crate::server_fns::sources::{list_sources, CreateSource, DeleteSource};
use domain::source::Source;
use domain::time::format_utc;

#[component]
pub fn SourcesPage() -> impl IntoView {
    let create = ServerAction::<CreateSource>::new();
    let delete = ServerAction::<DeleteSource>::new();
    let sources = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_sources(),
    );
    let create_error = action_error(create);
    let delete_error = action_error(delete);
    view! {
        <Title text="Sources" />
        <PageHeader
            title="Sources".into()
            subtitle="Put Hookline behind Logto: its webhooks post here, and Hookline delivers to your hooks with retries."
        />
        <AdminOnly>
            <ActionForm action=create attr:class="card form">
                <div class="card-title">
                    <h2>"Add a Logto source"</h2>
                    <p class="muted small">
                        "In Logto's console, create a webhook and copy its signing key. "
                        "Then paste the URL shown here into that webhook's endpoint."
                    </p>
                </div>
                <div class="field">
                    <label for="source-name">"Name"</label>
                    <input id="source-name" type="text" name="name" placeholder="e.g. Logto production" required />
                    <FieldError error=create_error field="name" />
                </div>
                <div class="field">
                    <label for="source-signing-key">"Logto webhook signing key"</label>
                    <input id="source-signing-key" type="password" class="mono" name="signing_key" autocomplete="off" required />
                    <FieldError error=create_error field="signingKey" />
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        "Add source"
                    </button>
                </div>
            </ActionForm>
        </AdminOnly>
        {move || {
            create
                .value()
                .get()
                .and_then(Result::ok)
                .map(|source| {
                    view! {
                        <MadeNotice
                            title=format!("Source \u{201c}{}\u{201d} added.", source.name)
                            hint="Paste this URL into the Logto webhook's endpoint."
                            value=source.url
                            testid="new-source-url"
                        />
                    }
                })
        }}
        <ErrorNotice error=create_error />
        <ErrorNotice error=delete_error />
        <PageData
            resource=sources
            render={move |sources: Vec<Source>, can_write| {
                if sources.is_empty() {
                    view! {
                        <div class="card empty-state">
                            <h2>"No sources yet"</h2>
                            <p class="muted">"Events from Logto's own webhooks arrive here once a source is added."</p>
                        </div>
                    }
                    .into_any()
                } else {
                    view! { <SourcesTable sources delete can_write /> }.into_any()
                }
            }}
        />
    }
}

#[component]
fn SourcesTable(
    sources: Vec<Source>,
    delete: ServerAction<DeleteSource>,
    can_write: bool,
) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table" data-testid="sources-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Kind"</th>
                        <th>"URL"</th>
                        <th>"Created"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {sources
                        .into_iter()
                        .map(|source| {
                            let id = source.id.clone();
                            view! {
                                <tr>
                                    <td class="row-title">{source.name.clone()}</td>
                                    <td data-label="Kind"><span class="badge badge-blue">{source.kind.as_str()}</span></td>
                                    <td data-label="URL"><code class="wrap">{source.url.clone()}</code></td>
                                    <td data-label="Created" class="muted">{format_utc(source.created_at)}</td>
                                    <RemoveCell
                                        shown=can_write
                                        label="Remove"
                                        title="Remove this source?"
                                        message=format!(
                                            "Requests to \u{201c}{}\u{201d}'s URL will be refused from now on.",
                                            source.name,
                                        )
                                        confirm_label="Remove source"
                                        on_confirm=move |()| {
                                            delete.dispatch(DeleteSource { id: id.clone() });
                                        }
                                    />
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
