//! Creating a webhook.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::components::{action_error, can_write, ErrorNotice, HookForm, Loading, PageHeader};
use crate::server_fns::event_types::list_event_types;
use crate::server_fns::hooks::CreateHook;

#[component]
pub fn NewHookPage() -> impl IntoView {
    let create = ServerAction::<CreateHook>::new();
    let error = action_error(create);
    let event_types = Resource::new(|| (), |_| list_event_types());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(hook)) = create.value().get() {
            navigate(&format!("/webhooks/{}", hook.id), Default::default());
        }
    });
    view! {
        <Title text="Create webhook" />
        <PageHeader title="Create webhook".into() subtitle="Choose where events go and which ones." />
        <Suspense fallback=Loading>
            {move || {
                let admin = can_write();
                Suspend::new(async move {
                    let can_write = admin.await;
                    let event_types = match event_types.await {
                        Ok(types) => types,
                        Err(e) => return view! { <ErrorNotice error=Signal::stored(Some(e)) /> }.into_any(),
                    };
                    view! {
        <HookForm
            initial=None
            event_types
            submit_label="Create webhook"
            read_only=Signal::stored(!can_write)
            pending=create.pending()
            error
            on_submit=move |input| {
                create.dispatch(CreateHook { input });
            }
        />
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
