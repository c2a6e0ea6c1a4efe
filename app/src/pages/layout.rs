//! The signed-in frame: top bar, sidebar, and the page in the middle.
//! Anyone not signed in is sent to the sign-in page.
//!
//! The top bar comes first in the document, then the navigation, then the
//! page, so that reading and tabbing follow what is seen: at phone width the
//! navigation collapses behind the top bar's menu button and opens below it.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;

use crate::components::{CurrentUser, ThemeToggle};
use crate::SessionActions;
use domain::user::{Role, User};

/// The frame of every signed-in page. The page itself (the `Outlet`) is drawn
/// straight away, never inside a `Suspend`: pages create resources, and a
/// resource created inside a `Suspend` can be created twice on the server.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    let sign_out = expect_context::<SessionActions>().sign_out;
    // The phone menu: closed on every page change.
    let menu_open = RwSignal::new(false);
    let menu_button = NodeRef::<leptos::html::Button>::new();
    let nav = NodeRef::<leptos::html::Nav>::new();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    let close_on_escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
            if let Some(button) = menu_button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(user.await, Ok(None) | Err(_)).then(|| view! { <Redirect path="/sign-in" /> })
            })}
        </Suspense>
        <a class="skip-link" href="#content">"Skip to content"</a>
        <div class="console" class:menu-open=move || menu_open.get() on:keydown=close_on_escape>
            <header class="topbar">
                <button
                    type="button"
                    class="icon-btn menu-toggle"
                    aria-label="Menu"
                    aria-controls="console-nav"
                    aria-expanded=move || if menu_open.get() { "true" } else { "false" }
                    node_ref=menu_button
                    on:click=move |_| {
                        let opening = !menu_open.get_untracked();
                        menu_open.set(opening);
                        if opening {
                            focus_first_link(nav);
                        }
                    }
                >
                    <svg class="icon icon-menu" viewBox="0 0 24 24" aria-hidden="true">
                        <path d="M4 7h16M4 12h16M4 17h16" />
                    </svg>
                    <svg class="icon icon-close" viewBox="0 0 24 24" aria-hidden="true">
                        <path d="M6 6l12 12M18 6L6 18" />
                    </svg>
                </button>
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"H"</span>
                    "Hookline"
                </A>
                <form class="topbar-search" action="/search" method="get" role="search">
                    <svg class="icon search-icon" viewBox="0 0 24 24" aria-hidden="true">
                        <circle cx="11" cy="11" r="7" />
                        <path d="M20 20l-4-4" />
                    </svg>
                    <input
                        type="search"
                        name="q"
                        aria-label="Search events and deliveries"
                        placeholder="Search events, deliveries, payloads…"
                    />
                </form>
                <div class="topbar-actions">
                    <ThemeToggle />
                    <div class="user-badge">
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                user.await.ok().flatten().map(|user| view! { <UserBadge user /> })
                            })}
                        </Suspense>
                    </div>
                    <ActionForm action=sign_out>
                        <button type="submit" class="btn btn-ghost btn-small">
                            "Sign out"
                        </button>
                    </ActionForm>
                </div>
            </header>
            <aside class="sidebar" id="console-nav">
                <nav aria-label="Console" node_ref=nav on:click=move |_| menu_open.set(false)>
                    <NavLink href="/" label="Overview" exact=true>
                        <rect x="3" y="3" width="7" height="9" rx="1.5" />
                        <rect x="14" y="3" width="7" height="5" rx="1.5" />
                        <rect x="14" y="12" width="7" height="9" rx="1.5" />
                        <rect x="3" y="16" width="7" height="5" rx="1.5" />
                    </NavLink>
                    <NavLink href="/webhooks" label="Webhooks">
                        <path d="M13 2L4 14h7l-1 8 9-12h-7z" />
                    </NavLink>
                    <NavLink href="/incidents" label="Incidents">
                        <path d="M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0zM12 9v4M12 17h.01" />
                    </NavLink>
                    <NavLink href="/events" label="Event catalog">
                        <path d="M8 6h12M8 12h12M8 18h12M4 6h.01M4 12h.01M4 18h.01" />
                    </NavLink>
                    <NavLink href="/sources" label="Sources">
                        <path d="M12 3v12M7 10l5 5 5-5M5 21h14" />
                    </NavLink>
                    <NavLink href="/api-keys" label="API keys">
                        <circle cx="8" cy="15" r="4" />
                        <path d="M11 12l9-9M17 6l3 3M15 8l2 2" />
                    </NavLink>
                    <NavLink href="/users" label="Users">
                        <circle cx="9" cy="8" r="4" />
                        <path d="M2 21a7 7 0 0 1 14 0M16 3.5a4 4 0 0 1 0 9M22 21a7 7 0 0 0-4-6.3" />
                    </NavLink>
                    <NavLink href="/settings" label="Settings">
                        <circle cx="12" cy="12" r="3" />
                        <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
                    </NavLink>
                </nav>
            </aside>
            <main class="content" id="content" tabindex="-1">
                <Outlet />
            </main>
        </div>
    }
}

/// A sidebar link: its icon's shapes (24×24, drawn by the stylesheet's
/// stroke) and its label.
#[component]
fn NavLink(
    href: &'static str,
    label: &'static str,
    #[prop(optional)] exact: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <A href=href exact=exact>
            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                {children()}
            </svg>
            {label}
        </A>
    }
}

#[component]
fn UserBadge(user: User) -> impl IntoView {
    let role_class = match user.role {
        Role::Admin => "badge badge-blue",
        Role::Viewer => "badge badge-grey",
    };
    let title = user.email.clone();
    view! {
        <span class="user-email" title=title>{user.email}</span>
        <span class=role_class>{user.role.as_str()}</span>
    }
}

/// Moves focus into the phone menu once it is shown, so the links come next
/// for the keyboard (the button sits before them in the top bar).
fn focus_first_link(nav: NodeRef<leptos::html::Nav>) {
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        let first = nav
            .get_untracked()
            .and_then(|nav| nav.query_selector("a").ok().flatten());
        if let Some(link) = first.and_then(|a| a.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
            let _ = link.focus();
        }
    });
}
