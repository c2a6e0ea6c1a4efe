//! One module per page.

pub mod api_keys;
pub mod catalog;
pub mod delivery;
pub mod hook_detail;
pub mod hooks;
pub mod incidents;
pub mod layout;
pub mod new_hook;
pub mod overview;
pub mod requests;
pub mod search;
pub mod settings;
pub mod setup;
pub mod sign_in;
pub mod sources;
pub mod users;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::AuthCard;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <AuthCard title="Page not found">
            <p class="muted">"There is nothing at this address."</p>
            <A href="/webhooks">"Back to webhooks"</A>
        </AuthCard>
    }
}
