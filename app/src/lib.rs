//! Hookline's console: the Leptos app (rendered on the server, hydrated in the
//! browser) and its server functions. The types it shares with the server
//! live in the `domain` crate.
#![recursion_limit = "256"]

mod components;
mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
mod time;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::CurrentUser;
use crate::pages::{
    api_keys, catalog, delivery, hook_detail, hooks, incidents, layout, new_hook, overview,
    requests, search, settings, setup, sign_in, sources, users,
};
use crate::server_fns::auth::{CompleteSetup, SignIn, SignOut};

/// Pages that load no WebAssembly when opened directly: their forms post to
/// the server, which answers with a redirect (an error comes back in the URL),
/// so a first visit transfers a few kilobytes. Reached from inside the
/// console (after signing out), the router renders them like any other page.
pub const PAGES_WITHOUT_WASM: [&str; 2] = ["/sign-in", "/setup"];

/// The HTML document around the app, rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let hydrate = use_context::<http::request::Parts>()
        .is_none_or(|request| !PAGES_WITHOUT_WASM.contains(&request.uri.path()));
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                {hydrate.then(|| view! { <HydrationScripts options /> })}
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The session actions every page can see; the signed-in user reloads after each.
#[derive(Clone, Copy)]
pub struct SessionActions {
    pub sign_in: ServerAction<SignIn>,
    pub sign_out: ServerAction<SignOut>,
    pub setup: ServerAction<CompleteSetup>,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let actions = SessionActions {
        sign_in: ServerAction::new(),
        sign_out: ServerAction::new(),
        setup: ServerAction::new(),
    };
    provide_context(actions);
    CurrentUser::provide(actions);
    view! {
        <Stylesheet id="leptos" href="/pkg/hookline.css" />
        <Title formatter=|page: String| format!("{page} · Hookline") />
        <Router>
            <Routes fallback=|| view! { <pages::NotFound /> }>
                <Route path=path!("/sign-in") view=sign_in::SignInPage />
                <Route path=path!("/setup") view=setup::SetupPage />
                <ParentRoute path=path!("") view=layout::ConsoleLayout>
                    <Route path=path!("") view=overview::OverviewPage />
                    <Route path=path!("/webhooks") view=hooks::HooksPage />
                    <Route path=path!("/webhooks/new") view=new_hook::NewHookPage />
                    <Route path=path!("/webhooks/:id") view=hook_detail::HookDetailPage />
                    <Route path=path!("/webhooks/:id/requests") view=requests::RequestsPage />
                    <Route path=path!("/deliveries/:id") view=delivery::DeliveryPage />
                    <Route path=path!("/events") view=catalog::CatalogPage />
                    <Route path=path!("/api-keys") view=api_keys::ApiKeysPage />
                    <Route path=path!("/users") view=users::UsersPage />
                    <Route path=path!("/settings") view=settings::SettingsPage />
                    <Route path=path!("/sources") view=sources::SourcesPage />
                    <Route path=path!("/search") view=search::SearchPage />
                    <Route path=path!("/incidents") view=incidents::IncidentsPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A readiness mark for people and browser tests: from here on, clicks run Rust.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
