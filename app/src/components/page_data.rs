//! A page's data, drawn once it has loaded.

use leptos::prelude::*;

use super::access::can_write;
use super::feedback::{ErrorNotice, Loading};
use crate::server_fns::ConsoleError;

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
