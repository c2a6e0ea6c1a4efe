//! The hook editor, for creating a hook and for its settings tab: name, endpoint,
//! events grouped as in the catalog, custom headers.

use leptos::prelude::*;

use crate::components::{ErrorNotice, FieldError};
use crate::model::catalog::{EventGroup, CATALOG};
use crate::model::hook::{Headers, Hook, HookConfig, NewHook};
use crate::model::AppError;

/// One editable header row; `id` keeps rows stable while they are edited.
#[derive(Clone)]
struct HeaderRow {
    id: usize,
    key: RwSignal<String>,
    value: RwSignal<String>,
}

#[component]
pub fn HookForm(
    /// The hook being edited, or `None` for a new one.
    initial: Option<Hook>,
    submit_label: &'static str,
    #[prop(into)] read_only: Signal<bool>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(into)] on_submit: Callback<NewHook>,
) -> impl IntoView {
    let name = RwSignal::new(initial.as_ref().map(|h| h.name.clone()).unwrap_or_default());
    let url = RwSignal::new(
        initial
            .as_ref()
            .map(|h| h.config.url.clone())
            .unwrap_or_default(),
    );
    let events = RwSignal::new(
        initial
            .as_ref()
            .map(|h| h.events.clone())
            .unwrap_or_default(),
    );
    let next_row = StoredValue::new(0usize);
    let new_row = move |key: String, value: String| {
        let id = next_row.get_value();
        next_row.set_value(id + 1);
        HeaderRow {
            id,
            key: RwSignal::new(key),
            value: RwSignal::new(value),
        }
    };
    let headers = RwSignal::new(
        initial
            .map(|h| h.config.headers.0)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| new_row(k, v))
            .collect::<Vec<_>>(),
    );

    // Effects run only in the browser: until hydration the form cannot submit
    // (it would fall back to a plain GET with the values in the URL).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let header_pairs = headers
            .get_untracked()
            .iter()
            .map(|row| (row.key.get_untracked(), row.value.get_untracked()))
            // A row left entirely blank is no header at all.
            .filter(|(k, v)| !(k.trim().is_empty() && v.trim().is_empty()))
            .collect();
        on_submit.run(NewHook {
            name: name.get_untracked(),
            events: events.get_untracked(),
            config: HookConfig {
                url: url.get_untracked(),
                headers: Headers(header_pairs),
            },
            enabled: None,
        });
    };

    view! {
        <form class="card form" on:submit=submit>
            <ErrorNotice error />
            <fieldset class="plain" disabled=move || read_only.get()>
                <TextField
                    id="hook-form-name"
                    label="Name"
                    field="name"
                    placeholder="e.g. CRM sync"
                    value=name
                    error
                />
                <TextField
                    id="hook-form-endpoint-url"
                    label="Endpoint URL"
                    field="config.url"
                    placeholder="https://example.com/webhooks/logto"
                    value=url
                    error
                    mono=true
                />
                <div class="field">
                    <span>"Events"</span>
                    <p class="muted small">"The endpoint receives a request whenever one of these happens."</p>
                    <div class="event-groups">
                        {CATALOG.iter().map(|group| view! { <EventGroupPicker group events /> }).collect_view()}
                    </div>
                    <FieldError error field="events" />
                </div>
                <div class="field">
                    <span>"Custom headers"</span>
                    <p class="muted small">"Sent with every request, e.g. an API key your endpoint expects."</p>
                    <div class="header-rows">
                        <For each=move || headers.get() key=|row| row.id let(row)>
                            <div class="header-row">
                                <input
                                    type="text"
                                    class="mono"
                                    placeholder="Header name"
                                    aria-label="Header name"
                                    prop:value=move || row.key.get()
                                    on:input=move |ev| row.key.set(event_target_value(&ev))
                                />
                                <input
                                    type="text"
                                    class="mono"
                                    placeholder="Value"
                                    aria-label="Header value"
                                    prop:value=move || row.value.get()
                                    on:input=move |ev| row.value.set(event_target_value(&ev))
                                />
                                <button
                                    type="button"
                                    class="btn btn-ghost btn-small"
                                    aria-label="Remove header"
                                    on:click=move |_| headers.update(|rows| rows.retain(|r| r.id != row.id))
                                >
                                    "Remove"
                                </button>
                            </div>
                        </For>
                    </div>
                    <button
                        type="button"
                        class="btn btn-secondary btn-small"
                        on:click=move |_| headers.update(|rows| rows.push(new_row(String::new(), String::new())))
                    >
                        "Add header"
                    </button>
                    <FieldError error field="config.headers" />
                </div>
            </fieldset>
            <Show when=move || !read_only.get()>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get() || !hydrated.get()>
                        {move || if pending.get() { "Saving…" } else { submit_label }}
                    </button>
                </div>
            </Show>
        </form>
    }
}

/// A labelled text input bound to `value`, with its field's error below it.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    /// The field name errors refer to.
    field: &'static str,
    placeholder: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<AppError>>,
    #[prop(optional)] mono: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                class:mono=mono
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <FieldError error field />
        </div>
    }
}

/// One catalog group: a checkbox for the whole group and one per event.
#[component]
fn EventGroupPicker(group: &'static EventGroup, events: RwSignal<Vec<String>>) -> impl IntoView {
    let names = || group.events.iter().map(|e| e.name);
    let selected_count =
        move || events.with(|chosen| names().filter(|n| chosen.iter().any(|c| c == n)).count());
    let all = move || selected_count() == group.events.len();
    let some = move || selected_count() > 0 && !all();
    let toggle_group = move |_| {
        let select = !all();
        events.update(|chosen| {
            chosen.retain(|c| !names().any(|n| n == c));
            if select {
                chosen.extend(names().map(str::to_owned));
            }
        });
    };
    view! {
        <div class="event-group">
            <label class="check group-check">
                <input
                    type="checkbox"
                    prop:checked=all
                    prop:indeterminate=some
                    on:change=toggle_group
                    aria-label=format!("All {} events", group.name)
                />
                <strong>{group.name}</strong>
                <span class="muted small">{move || format!("{}/{}", selected_count(), group.events.len())}</span>
            </label>
            <div class="event-list">
                {group
                    .events
                    .iter()
                    .map(|event| {
                        let name = event.name;
                        let checked = move || events.with(|chosen| chosen.iter().any(|c| c == name));
                        view! {
                            <label class="check" title=event.description>
                                <input
                                    type="checkbox"
                                    name="events"
                                    value=name
                                    prop:checked=checked
                                    on:change=move |_| {
                                        events
                                            .update(|chosen| {
                                                if chosen.iter().any(|c| c == name) {
                                                    chosen.retain(|c| c != name);
                                                } else {
                                                    chosen.push(name.to_owned());
                                                }
                                            })
                                    }
                                />
                                <span class="mono">{name}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
