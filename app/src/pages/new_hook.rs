//! Creating a webhook.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::hook_form::HookForm;
use crate::api::hooks::CreateHook;
use crate::components::{Loading, PageHeader};
use crate::pages::layout::can_write;

#[component]
pub fn NewHookPage() -> impl IntoView {
    let create = ServerAction::<CreateHook>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
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
                    view! {
        <HookForm
            initial=None
            submit_label="Create webhook"
            read_only=Signal::stored(!can_write)
            pending=create.pending()
            error
            on_submit=move |input| {
                create.dispatch(CreateHook { input });
            }
        />
                    }
                })
            }}
        </Suspense>
    }
}
