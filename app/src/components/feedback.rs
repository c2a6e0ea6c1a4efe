//! Headers, loading and error states shared by every page.

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;

use crate::server_fns::ConsoleError;

#[component]
pub fn PageHeader(
    title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="page-header">
            <div>
                <h1>{title}</h1>
                {subtitle.map(|s| view! { <p class="muted">{s}</p> })}
            </div>
            <div class="page-actions">{children.map(|c| c())}</div>
        </header>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <div class="loading" aria-busy="true">"Loading…"</div> }
}

/// An error that belongs to no single field.
#[component]
pub fn ErrorNotice(#[prop(into)] error: Signal<Option<ConsoleError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.field.is_none())
            .map(|e| view! { <div class="notice notice-error" role="alert">{e.0.message}</div> })
    }
}

/// The message for one field, shown beside it.
#[component]
pub fn FieldError(
    #[prop(into)] error: Signal<Option<ConsoleError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.for_field(field))
            .map(|message| view! { <p class="field-error" role="alert">{message}</p> })
    }
}

/// The error a server action last ended with, if any, for [`ErrorNotice`]
/// and [`FieldError`]. A form posted without the wasm app (the sign-in and
/// setup pages load none) comes back to its page with the error in the URL,
/// which the router offers as a [`ServerActionError`]; it counts until the
/// action runs in the browser.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<ConsoleError>>
where
    S: leptos::server_fn::ServerFn<Error = ConsoleError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let posted = use_context::<ServerActionError>()
        .filter(|error| error.path() == S::PATH)
        .map(|error| ServerFnUrlError::<ConsoleError>::decode_err(error.err()));
    Signal::derive(move || match action.value().get() {
        Some(result) => result.err(),
        None => posted.clone(),
    })
}
