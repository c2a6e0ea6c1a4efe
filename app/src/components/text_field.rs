//! A labelled text input bound to a signal, with its field's error below it.

use leptos::prelude::*;

use crate::components::FieldError;
use crate::server_fns::ConsoleError;

/// A labelled text input bound to `value`, with its field's error below it.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    /// The field name errors refer to.
    field: &'static str,
    placeholder: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<ConsoleError>>,
    #[prop(optional)] mono: bool,
    /// The keyboard a phone shows (`decimal`, `numeric`); text by default.
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                class:mono=mono
                inputmode=inputmode
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <FieldError error field />
        </div>
    }
}
