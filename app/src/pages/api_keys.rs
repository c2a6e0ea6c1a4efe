//! API keys: create (the secret is shown once), list, revoke.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    action_error, AdminOnly, ErrorNotice, FieldError, MadeNotice, PageData, PageHeader, RemoveCell,
};
use crate::server_fns::api_keys::{list_api_keys, CreateApiKey, RevokeApiKey};
use domain::api_key::ApiKey;
use domain::time::format_utc;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let create_error = action_error(create);
    let revoke_error = action_error(revoke);
    view! {
            <Title text="API keys" />
            <PageHeader title="API keys".into() subtitle="Producers send events to POST /api/events with one of these as a Bearer token." />
            <AdminOnly>
                <ActionForm action=create attr:class="card form inline-form">
                    <div class="field grow">
    <label for="api-keys-new-key-name">"New key name"</label>
                        <input id="api-keys-new-key-name" type="text" name="name" placeholder="e.g. logto-production" required />
                        <FieldError error=create_error field="name" />
                    </div>
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        "Create key"
                    </button>
                </ActionForm>
            </AdminOnly>
            {move || {
                create
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|created| {
                        view! {
                            <MadeNotice
                                title=format!("Key \u{201c}{}\u{201d} created.", created.key.name)
                                hint="Copy it now: it is not shown again."
                                value=created.secret
                                testid="new-api-key"
                            />
                        }
                    })
            }}
            <ErrorNotice error=create_error />
        <ErrorNotice error=revoke_error />
            <PageData
                resource=keys
                render={move |keys: Vec<ApiKey>, can_write| {
                    if keys.is_empty() {
                        view! {
                            <div class="card empty-state">
                                <h2>"No API keys yet"</h2>
                                <p class="muted">"Create a key for each system that sends events, so each can be revoked alone."</p>
                            </div>
                        }
                            .into_any()
                    } else {
                        view! { <KeysTable keys revoke can_write /> }.into_any()
                    }
                }}
            />
        }
}

#[component]
fn KeysTable(
    keys: Vec<ApiKey>,
    revoke: ServerAction<RevokeApiKey>,
    can_write: bool,
) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Key"</th>
                        <th>"Created"</th>
                        <th>"Last used"</th>
                        <th>"State"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {keys
                        .into_iter()
                        .map(|key| {
                            let active = key.revoked_at.is_none();
                            let id = key.id.clone();
                            view! {
                                <tr>
                                    <td class="row-title">{key.name.clone()}</td>
                                    <td data-label="Key">
                                        <code>{format!("{}…", key.prefix)}</code>
                                    </td>
                                    <td data-label="Created" class="muted">{format_utc(key.created_at)}</td>
                                    <td data-label="Last used" class="muted">{key.last_used_at.map_or_else(|| "Never".to_string(), format_utc)}</td>
                                    <td data-label="State">
                                        {if active {
                                            view! { <span class="badge badge-green">"Active"</span> }
                                        } else {
                                            view! { <span class="badge badge-grey">"Revoked"</span> }
                                        }}
                                    </td>
                                    <RemoveCell
                                        shown=can_write && active
                                        label="Revoke"
                                        title="Revoke this key?"
                                        message=format!(
                                            "Requests using \u{201c}{}\u{201d} will be refused at once. This cannot be undone.",
                                            key.name,
                                        )
                                        confirm_label="Revoke key"
                                        on_confirm=move |()| {
                                            revoke.dispatch(RevokeApiKey { id: id.clone() });
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
