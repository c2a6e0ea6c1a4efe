//! Who is signed in, and what they may do: the current user for every page,
//! whether they may change things, and what only admins see.

use leptos::prelude::*;

use crate::server_fns::auth::current_user;
use crate::server_fns::ConsoleError;
use crate::SessionActions;
use domain::user::User;

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
