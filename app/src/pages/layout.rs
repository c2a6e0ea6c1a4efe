//! The signed-in frame: sidebar, top bar, and the page in the middle.
//! Anyone not signed in is sent to the sign-in page.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

use crate::components::CurrentUser;
use crate::SessionActions;
use domain::user::{Role, User};

/// The frame of every signed-in page. The page itself (the `Outlet`) is drawn
/// straight away, never inside a `Suspend`: pages create resources, and a
/// resource created inside a `Suspend` can be created twice on the server.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    let sign_out = expect_context::<SessionActions>().sign_out;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(user.await, Ok(None) | Err(_)).then(|| view! { <Redirect path="/sign-in" /> })
            })}
        </Suspense>
        <div class="console">
            <aside class="sidebar">
                <A href="/webhooks" attr:class="brand">
                    <span class="brand-mark">"H"</span>
                    "Hookline"
                </A>
                <nav>
                    <A href="/webhooks">"Webhooks"</A>
                    <A href="/events">"Event catalog"</A>
                    <A href="/api-keys">"API keys"</A>
                    <A href="/users">"Users"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
            </aside>
            <div class="main">
                <div class="topbar">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            user.await.ok().flatten().map(|user| view! { <UserBadge user /> })
                        })}
                    </Suspense>
                    <ActionForm action=sign_out>
                        <button type="submit" class="btn btn-ghost btn-small">
                            "Sign out"
                        </button>
                    </ActionForm>
                </div>
                <main class="content">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

#[component]
fn UserBadge(user: User) -> impl IntoView {
    let role_class = match user.role {
        Role::Admin => "badge badge-blue",
        Role::Viewer => "badge badge-grey",
    };
    view! {
        <span class="user-email">{user.email}</span>
        <span class=role_class>{user.role.as_str()}</span>
    }
}
