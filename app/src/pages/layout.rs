//! The signed-in frame: sidebar, top bar, and the page in the middle.
//! Anyone not signed in is sent to the sign-in page.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

use crate::api::auth::current_user;
use crate::model::user::{Role, User};
use crate::model::AppError;
use crate::SessionActions;

/// The signed-in user, for every page under the layout.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<User>, AppError>>);

/// True when the signed-in user may change things (admins).
pub fn use_can_write() -> Signal<bool> {
    let user = expect_context::<CurrentUser>().0;
    Signal::derive(move || {
        user.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|u| u.role.can_write())
    })
}

#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let actions = expect_context::<SessionActions>();
    let user = Resource::new_blocking(
        move || {
            (
                actions.sign_in.version().get(),
                actions.sign_out.version().get(),
                actions.setup.version().get(),
            )
        },
        |_| current_user(),
    );
    provide_context(CurrentUser(user));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! { <Frame user /> }.into_any(),
                    Ok(None) | Err(_) => view! { <Redirect path="/sign-in" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(user: User) -> impl IntoView {
    let sign_out = expect_context::<SessionActions>().sign_out;
    let role_class = match user.role {
        Role::Admin => "badge badge-blue",
        Role::Viewer => "badge badge-grey",
    };
    view! {
        <div class="console">
            <aside class="sidebar">
                <A href="/webhooks" attr:class="brand">
                    <span class="brand-mark">"H"</span>
                    "Hookline"
                </A>
                <nav>
                    <A href="/webhooks">"Webhooks"</A>
                    <A href="/api-keys">"API keys"</A>
                    <A href="/users">"Users"</A>
                </nav>
            </aside>
            <div class="main">
                <div class="topbar">
                    <span class="user-email">{user.email.clone()}</span>
                    <span class=role_class>{user.role.as_str()}</span>
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
