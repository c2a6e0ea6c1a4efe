//! A button that asks before it acts.

use leptos::prelude::*;

#[component]
pub fn ConfirmButton(
    /// The button's label.
    label: &'static str,
    /// The dialog's title and text.
    title: &'static str,
    #[prop(into)] message: Signal<String>,
    /// The confirming button's label.
    confirm_label: &'static str,
    #[prop(optional)] danger: bool,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(into)] on_confirm: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let button_class = if danger {
        "btn btn-danger-outline"
    } else {
        "btn btn-secondary"
    };
    let confirm_class = if danger {
        "btn btn-danger"
    } else {
        "btn btn-primary"
    };
    view! {
        <button type="button" class=button_class disabled=disabled on:click=move |_| open.set(true)>
            {label}
        </button>
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| open.set(false)>
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-label=title
                    on:click=|ev| ev.stop_propagation()
                >
                    <h2>{title}</h2>
                    <p>{move || message.get()}</p>
                    <div class="modal-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>
                            "Cancel"
                        </button>
                        <button
                            type="button"
                            class=confirm_class
                            on:click=move |_| {
                                open.set(false);
                                on_confirm.run(());
                            }
                        >
                            {confirm_label}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// A table row's actions cell: a danger button that asks before it removes
/// the row's item (revokes a key, removes a user). Empty unless `shown`.
#[component]
pub fn RemoveCell(
    shown: bool,
    /// The button's label.
    label: &'static str,
    /// The dialog's title and text.
    title: &'static str,
    message: String,
    /// The confirming button's label.
    confirm_label: &'static str,
    #[prop(into)] on_confirm: Callback<()>,
) -> impl IntoView {
    view! {
        <td class="actions">
            {shown.then(|| view! {
                <ConfirmButton label title message confirm_label danger=true on_confirm />
            })}
        </td>
    }
}
