//! A button that asks before it acts.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsValue;

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
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let opener = NodeRef::<leptos::html::Button>::new();
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
    // A native modal dialog: the browser keeps focus inside it while it is
    // open, closes it on Escape, and shows it above everything else.
    let show = move |_| {
        if let Some(dialog) = dialog.get_untracked() {
            let _ = dialog.show_modal();
        }
    };
    let close = move || {
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    // However it closed (Cancel, Escape, a click outside, confirming), focus
    // goes back to the button that opened it.
    let restore_focus = move |_| {
        if let Some(button) = opener.get_untracked() {
            let _ = button.focus();
        }
    };
    // A click on the backdrop lands on the dialog itself, not on its content.
    let click_outside = move |ev: leptos::ev::MouseEvent| {
        let on_backdrop = dialog
            .get_untracked()
            .is_some_and(|dialog| ev.target().map(JsValue::from) == Some(JsValue::from(dialog)));
        if on_backdrop {
            close();
        }
    };
    view! {
        <button
            type="button"
            class=button_class
            disabled=disabled
            aria-haspopup="dialog"
            node_ref=opener
            on:click=show
        >
            {label}
        </button>
        <dialog class="modal" aria-label=title node_ref=dialog on:close=restore_focus on:click=click_outside>
            <div class="modal-body">
                <h2>{title}</h2>
                <p>{move || message.get()}</p>
                <div class="modal-actions">
                    <button type="button" class="btn btn-secondary" on:click=move |_| close()>
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class=confirm_class
                        on:click=move |_| {
                            close();
                            on_confirm.run(());
                        }
                    >
                        {confirm_label}
                    </button>
                </div>
            </div>
        </dialog>
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
