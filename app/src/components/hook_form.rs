//! The hook editor, for creating a hook and for its settings tab: name, endpoint,
//! events grouped as in the catalog, custom headers, payload filter and
//! delivery policy.

use domain::ids::HookId;
use leptos::prelude::*;

use leptos_router::components::A;

use crate::components::filter_field::{filter_text, parse_filter, FilterField};
use crate::components::policy_fields::{PolicyFields, PolicyText};
use crate::components::{action_error, AttemptStatus, ErrorNotice, FieldError, TextField};
use crate::server_fns::hooks::TestHook;
use crate::server_fns::ConsoleError;
use domain::delivery::HookTest;
use domain::event_type::EventTypeInfo;
use domain::hook::{Headers, Hook, HookConfig, NewHook};
use domain::key_ring::SignatureScheme;

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
    /// Every event type a hook may listen to, built-in and custom.
    event_types: Vec<EventTypeInfo>,
    submit_label: &'static str,
    #[prop(into)] read_only: Signal<bool>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] error: Signal<Option<ConsoleError>>,
    #[prop(into)] on_submit: Callback<NewHook>,
    /// The saved hook's id: offers "Send test payload" with the form's values.
    #[prop(optional_no_strip)]
    test_hook_id: Option<HookId>,
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
    let filter = RwSignal::new(filter_text(
        initial.as_ref().and_then(|h| h.filter.as_ref()),
    ));
    let policy = PolicyText::new(initial.as_ref().map(|h| &h.policy));
    let editing = initial.is_some();
    let scheme = RwSignal::new(
        initial
            .as_ref()
            .map(|h| h.signature_scheme)
            .unwrap_or_default(),
    );
    // A filter or policy that does not parse is refused here, with the
    // server's words.
    let input_error = RwSignal::new(None::<ConsoleError>);
    let error = Signal::derive(move || input_error.get().or_else(|| error.get()));
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

    // The endpoint as the form has it now, saved or not.
    let config = move || HookConfig {
        url: url.get_untracked(),
        headers: Headers(
            headers
                .get_untracked()
                .iter()
                .map(|row| (row.key.get_untracked(), row.value.get_untracked()))
                // A row left entirely blank is no header at all.
                .filter(|(k, v)| !(k.trim().is_empty() && v.trim().is_empty()))
                .collect(),
        ),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed =
            parse_filter(&filter.get_untracked()).and_then(|filter| Ok((filter, policy.parse()?)));
        let (filter, policy) = match parsed {
            Ok(parsed) => parsed,
            Err(err) => return input_error.set(Some(err.into())),
        };
        input_error.set(None);
        on_submit.run(NewHook {
            name: name.get_untracked(),
            events: events.get_untracked(),
            config: config(),
            enabled: None,
            filter,
            policy,
            signature_scheme: Some(scheme.get_untracked()),
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
                        {by_group(event_types)
                            .into_iter()
                            .map(|(group, types)| view! { <EventGroupPicker group types events /> })
                            .collect_view()}
                    </div>
                    <FieldError error field="events" />
                </div>
                <div class="field">
                    <span>"Custom headers"</span>
                    <p class="muted small">"Sent with every request, e.g. an API key your endpoint expects."</p>
                    // Viewers get the values masked by the server.
                    <Show when=move || read_only.get() && !headers.read().is_empty()>
                        <p class="muted small" data-testid="header-values-admins-only">
                            "Only admins can see header values."
                        </p>
                    </Show>
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
                <FilterField text=filter events error />
                <PolicyFields policy error />
                <SchemeField scheme editing />
            </fieldset>
            {test_hook_id.map(|hook_id| view! { <TestPayload hook_id events config=Callback::new(move |()| config()) /> })}
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

/// How requests are signed: a shared secret (HMAC) or Ed25519.
#[component]
fn SchemeField(scheme: RwSignal<SignatureScheme>, editing: bool) -> impl IntoView {
    let choices = [
        (
            SignatureScheme::Hmac,
            "HMAC (shared secret; Logto's header and Standard Webhooks v1)",
        ),
        (
            SignatureScheme::Ed25519,
            "Ed25519 (receivers hold only a public key; Standard Webhooks v1a)",
        ),
    ];
    let parse = |value: String| match value.as_str() {
        "ed25519" => SignatureScheme::Ed25519,
        _ => SignatureScheme::Hmac,
    };
    view! {
        <div class="field">
            <label for="hook-form-scheme">"Signature scheme"</label>
            <select
                id="hook-form-scheme"
                prop:value=move || scheme.get().as_str()
                on:change=move |ev| scheme.set(parse(event_target_value(&ev)))
            >
                {choices
                    .into_iter()
                    .map(|(choice, label)| {
                        view! {
                            <option value=choice.as_str() selected=move || scheme.get() == choice>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {editing
                .then(|| {
                    view! {
                        <p class="muted small">
                            "Changing it makes a new key of that scheme; the current key keeps "
                            "signing beside it for the rotation overlap, so receivers can switch."
                        </p>
                    }
                })}
        </div>
    }
}

/// "Send test payload": one of the chosen events' example, sent now to the
/// endpoint and headers as the form has them, with what came back.
#[component]
fn TestPayload(
    hook_id: HookId,
    events: RwSignal<Vec<String>>,
    config: Callback<(), HookConfig>,
) -> impl IntoView {
    let test = ServerAction::<TestHook>::new();
    let chosen = RwSignal::new(String::new());
    let hook_id = StoredValue::new(hook_id);
    let event = move || {
        let picked = chosen.get();
        let events = events.get();
        if events.contains(&picked) {
            picked
        } else {
            events.first().cloned().unwrap_or_default()
        }
    };
    let send = move |_| {
        test.dispatch(TestHook {
            id: hook_id.get_value(),
            input: HookTest {
                events: vec![event()],
                config: Some(config.run(())),
            },
        });
    };
    let error = action_error(test);
    view! {
        <div class="field test-payload">
            <span>"Send test payload"</span>
            <p class="muted small">"Sends the event's example payload to the endpoint above, with the values in this form, saved or not."</p>
            <div class="recover-row">
                <select aria-label="Test event" on:change=move |ev| chosen.set(event_target_value(&ev)) prop:value=event>
                    {move || events.get().into_iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_view()}
                </select>
                <button type="button" class="btn btn-secondary" data-testid="send-test" disabled=move || test.pending().get() || event().is_empty() on:click=send>
                    {move || if test.pending().get() { "Sending…" } else { "Send test payload" }}
                </button>
            </div>
            <ErrorNotice error />
            {move || test.value().get().and_then(Result::ok).and_then(|result| result.outcomes.into_iter().next()).map(|outcome| view! {
                <div class="test-result" data-testid="test-result">
                    <div class="attempt-head">
                        <AttemptStatus status=outcome.status error=outcome.error.clone() success=outcome.success />
                        <span class="muted small">{format!("{} ms", outcome.duration_ms)}</span>
                        <A href=format!("/deliveries/{}", outcome.delivery_id)>"Open delivery"</A>
                    </div>
                    {outcome.error.clone().map(|e| view! { <div class="notice notice-error">{e}</div> })}
                    {outcome.body.clone().map(|body| view! { <pre class="code">{if body.is_empty() { "(empty body)".to_owned() } else { body }}</pre> })}
                </div>
            })}
        </div>
    }
}

/// Event types in their groups, groups in the order they first appear.
fn by_group(types: Vec<EventTypeInfo>) -> Vec<(String, Vec<EventTypeInfo>)> {
    let mut groups: Vec<(String, Vec<EventTypeInfo>)> = Vec::new();
    for info in types {
        match groups.iter_mut().find(|(name, _)| *name == info.group) {
            Some((_, members)) => members.push(info),
            None => groups.push((info.group.clone(), vec![info])),
        }
    }
    groups
}

/// One group: a checkbox for the whole group and one per event.
#[component]
fn EventGroupPicker(
    group: String,
    types: Vec<EventTypeInfo>,
    events: RwSignal<Vec<String>>,
) -> impl IntoView {
    let names = StoredValue::new(types.iter().map(|t| t.name.clone()).collect::<Vec<_>>());
    let total = types.len();
    let selected_count = move || {
        names.with_value(|names| {
            events.with(|chosen| names.iter().filter(|n| chosen.contains(n)).count())
        })
    };
    let all = move || selected_count() == total;
    let some = move || selected_count() > 0 && !all();
    let toggle_group = move |_| {
        let select = !all();
        names.with_value(|names| {
            events.update(|chosen| {
                chosen.retain(|c| !names.contains(c));
                if select {
                    chosen.extend(names.iter().cloned());
                }
            })
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
                    aria-label=format!("All {group} events")
                />
                <strong>{group.clone()}</strong>
                <span class="muted small">{move || format!("{}/{total}", selected_count())}</span>
            </label>
            <div class="event-list">
                {types
                    .into_iter()
                    .map(|event| {
                        let name = StoredValue::new(event.name.clone());
                        let checked = move || name.with_value(|name| events.with(|chosen| chosen.contains(name)));
                        view! {
                            <label class="check" title=event.description.clone()>
                                <input
                                    type="checkbox"
                                    name="events"
                                    value=event.name.clone()
                                    prop:checked=checked
                                    on:change=move |_| {
                                        let name = name.get_value();
                                        events
                                            .update(|chosen| {
                                                if chosen.contains(&name) {
                                                    chosen.retain(|c| *c != name);
                                                } else {
                                                    chosen.push(name);
                                                }
                                            })
                                    }
                                />
                                <span class="mono">{event.name.clone()}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
