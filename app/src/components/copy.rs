//! Copies a value to the clipboard and says so.

use leptos::prelude::*;

/// What was just made, with the value to copy now: a new API key (shown
/// once), a new source's URL.
#[component]
pub fn MadeNotice(
    /// What was made, in bold.
    title: String,
    /// What to do with the value.
    hint: &'static str,
    value: String,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="notice notice-success secret-once" role="status">
            <p>
                <strong>{title}</strong>
                " "
                {hint}
            </p>
            <div class="secret-row">
                <code class="secret" data-testid=testid>{value.clone()}</code>
                <CopyButton text=value />
            </div>
        </div>
    }
}

/// A button that copies `text`; it reads `label` ("Copy" unless given),
/// then "Copied" for a moment.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    #[prop(optional)] label: Option<&'static str>,
) -> impl IntoView {
    let label = label.unwrap_or("Copy");
    let copied = RwSignal::new(false);
    let copy = move |_| {
        write_clipboard(&text.get_untracked());
        copied.set(true);
        set_timeout(
            move || copied.set(false),
            std::time::Duration::from_millis(1500),
        );
    };
    view! {
        <button type="button" class="btn btn-ghost btn-small" on:click=copy>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn write_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        // The returned promise only says whether the browser allowed it.
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Copying happens in the browser only.
#[cfg(not(feature = "hydrate"))]
fn write_clipboard(_text: &str) {}
