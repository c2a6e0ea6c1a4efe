//! The signed-in frame: sidebar, top bar, and the page in the middle.
//! Anyone not signed in is sent to the sign-in page.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

use crate::components::{ErrorNotice, Loading};
use crate::server_fns::auth::current_user;
use crate::server_fns::ConsoleError;
use crate::SessionActions;
use domain::user::{Role, User};

/// The signed-in user, for every page under the layout.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<User>, ConsoleError>>);

/// Whether the signed-in user may change things (admins). Await it inside a
/// `Suspend`: the answer is the same on the server and in the browser.
pub fn can_write() -> impl std::future::Future<Output = bool> {
    let user = expect_context::<CurrentUser>().0;
    async move { matches!(user.await, Ok(Some(user)) if user.role.can_write()) }
}

/// Shows its children to admins only (the server refuses viewers anyway).
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let admin = can_write();
                Suspend::new(async move { admin.await.then(|| children.read_value()()) })
            }}
        </Suspense>
    }
}

/// A page's data: once it and the session are known, `render` draws it, told
/// whether the user may change things; an error is shown as a notice.
#[component]
pub fn PageData<T, F, V>(resource: Resource<Result<T, ConsoleError>>, render: F) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T, bool) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let render = std::sync::Arc::new(render);
    view! {
        <Transition fallback=Loading>
            {move || {
                let admin = can_write();
                let render = render.clone();
                Suspend::new(async move {
                    let can_write = admin.await;
                    match resource.await {
                        Ok(value) => render(value, can_write).into_any(),
                        Err(e) => view! { <ErrorNotice error=Signal::stored(Some(e)) /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

impl CurrentUser {
    /// Created once, by the app itself, so that no page outlives it; it reloads
    /// after every sign-in, sign-out and setup.
    pub fn provide(actions: SessionActions) {
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
    }
}

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
