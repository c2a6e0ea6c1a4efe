//! The event catalog: every type with its group, description and example;
//! "Send sample event" pushes an example through the real pipeline; admins
//! add custom types.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::{action_error, ErrorNotice, FieldError, PageData, PageHeader};
use crate::server_fns::event_types::{list_event_types, CreateEventType, SendSampleEvent};
use domain::event_type::{EventTypeInfo, NewEventType};
use domain::AppError;

use crate::server_fns::ConsoleError;

#[component]
pub fn CatalogPage() -> impl IntoView {
    let create = ServerAction::<CreateEventType>::new();
    let types = Resource::new(move || create.version().get(), |_| list_event_types());
    view! {
        <Title text="Event catalog" />
        <PageHeader
            title="Event catalog".into()
            subtitle="Every event a webhook can listen to: Logto's built-in events and your own."
        />
        <PageData
            resource=types
            render={move |types: Vec<EventTypeInfo>, can_write| view! {
                {can_write.then(|| view! { <NewTypeForm create /> })}
                <CatalogTable types can_write />
            }}
        />
    }
}

#[component]
fn CatalogTable(types: Vec<EventTypeInfo>, can_write: bool) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table catalog" data-testid="catalog">
                <thead>
                    <tr>
                        <th>"Event"</th>
                        <th>"Group"</th>
                        <th>"Description"</th>
                        <th class="actions"></th>
                    </tr>
                </thead>
                <tbody>
                    {types.into_iter().map(|t| view! { <TypeRow info=t can_write /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TypeRow(info: EventTypeInfo, can_write: bool) -> impl IntoView {
    let send = ServerAction::<SendSampleEvent>::new();
    let name = StoredValue::new(info.name.clone());
    let sample = info
        .example
        .as_ref()
        .or(info.schema.as_ref())
        .and_then(|v| serde_json::to_string_pretty(v).ok());
    let sample_label = if info.custom {
        "Schema"
    } else {
        "Example payload"
    };
    let sendable = can_write && !info.custom;
    view! {
        <tr data-testid=format!("type-{}", info.name)>
            <td class="mono row-title">{info.name.clone()}</td>
            <td data-label="Group"><span class="chip">{info.group.clone()}</span></td>
            <td data-label="Description">
                {info.description.clone()}
                {sample.map(|text| view! {
                    <details class="example">
                        <summary class="small">{sample_label}</summary>
                        <pre class="code">{text}</pre>
                    </details>
                })}
                <SampleResult send />
            </td>
            <td class="actions">
                {sendable.then(|| view! {
                    <button
                        type="button"
                        class="btn btn-secondary btn-small"
                        disabled=move || send.pending().get()
                        on:click=move |_| { send.dispatch(SendSampleEvent { event: name.get_value() }); }
                    >
                        "Send sample event"
                    </button>
                })}
            </td>
        </tr>
    }
}

/// What a sample event did: its deliveries, each a link to its detail.
#[component]
fn SampleResult(send: ServerAction<SendSampleEvent>) -> impl IntoView {
    let error = action_error(send);
    view! {
        <ErrorNotice error />
        {move || send.value().get().and_then(Result::ok).map(|event| {
            if event.deliveries.is_empty() {
                view! {
                    <p class="notice notice-info small" data-testid="sample-result">
                        "Sent. No enabled webhook listens to this event, so nothing was delivered."
                    </p>
                }.into_any()
            } else {
                view! {
                    <div class="notice notice-success small" data-testid="sample-result">
                        {format!("Sent to {} webhook(s): ", event.deliveries.len())}
                        {event.deliveries.into_iter().map(|d| view! {
                            <A href=format!("/deliveries/{}", d.id) attr:class="sample-link">{format!("delivery {}", d.id)}</A>
                        }).collect_view()}
                    </div>
                }.into_any()
            }
        })}
    }
}

/// Adds a custom event type: name, description, optional JSON Schema.
#[component]
fn NewTypeForm(create: ServerAction<CreateEventType>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let schema = RwSignal::new(String::new());
    let local_error = RwSignal::new(None::<ConsoleError>);
    let error = Signal::derive(move || {
        local_error
            .get()
            .or_else(|| create.value().get().and_then(Result::err))
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            description.set(String::new());
            schema.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = schema.get_untracked();
        let parsed = if text.trim().is_empty() {
            None
        } else {
            match serde_json::from_str(&text) {
                Ok(value) => Some(value),
                Err(err) => {
                    local_error.set(Some(
                        AppError::invalid("schema", format!("not valid JSON: {err}")).into(),
                    ));
                    return;
                }
            }
        };
        local_error.set(None);
        create.dispatch(CreateEventType {
            input: NewEventType {
                name: name.get_untracked(),
                description: description.get_untracked(),
                schema: parsed,
            },
        });
    };
    view! {
        <form class="card form" on:submit=submit data-testid="new-type">
            <div class="card-title">
                <h2>"Add a custom event type"</h2>
                <p class="muted small">"Producers can send it like any built-in event. With a JSON Schema, events that do not match are refused with 422."</p>
            </div>
            <ErrorNotice error />
            <div class="form-grid">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" class="mono" placeholder="Order.Paid" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    <FieldError error field="name" />
                </label>
                <label class="field">
                    <span>"Description"</span>
                    <input type="text" placeholder="An order was paid" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
                    <FieldError error field="description" />
                </label>
            </div>
            <label class="field">
                <span>"JSON Schema (optional)"</span>
                <textarea class="mono" rows="4" placeholder=r#"{"type": "object", "required": ["orderId"]}"# prop:value=move || schema.get() on:input=move |ev| schema.set(event_target_value(&ev))></textarea>
                <FieldError error field="schema" />
            </label>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>"Add event type"</button>
            </div>
        </form>
    }
}
