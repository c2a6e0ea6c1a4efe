//! Creating a webhook.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::hook_form::HookForm;
use crate::api::hooks::CreateHook;
use crate::components::PageHeader;
use crate::pages::layout::use_can_write;

#[component]
pub fn NewHookPage() -> impl IntoView {
    let create = ServerAction::<CreateHook>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let can_write = use_can_write();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(hook)) = create.value().get() {
            navigate(&format!("/webhooks/{}", hook.id), Default::default());
        }
    });
    view! {
        <Title text="Create webhook" />
        <PageHeader title="Create webhook".into() subtitle="Choose where events go and which ones." />
        <HookForm
            initial=None
            submit_label="Create webhook"
            read_only=Signal::derive(move || !can_write.get())
            pending=create.pending()
            error
            on_submit=move |input| {
                create.dispatch(CreateHook { input });
            }
        />
    }
}
