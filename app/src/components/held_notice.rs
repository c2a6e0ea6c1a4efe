//! On an ordered hook's page: the delivery the hook waits on, if one keeps
//! failing and holds the rest back, with "Skip" for admins.

use leptos::prelude::*;
use leptos_router::components::A;

use domain::ids::HookId;
use domain::policy::HeldDelivery;
use domain::time::format_utc;

use crate::components::{action_error, ConfirmButton, ErrorNotice};
use crate::server_fns::deliveries::{get_held_delivery, SkipDelivery};

#[component]
pub fn HeldNotice(hook_id: HookId, can_write: bool) -> impl IntoView {
    let skip = ServerAction::<SkipDelivery>::new();
    let hook_id = StoredValue::new(hook_id);
    let held = Resource::new(
        move || skip.version().get(),
        move |_| get_held_delivery(hook_id.get_value()),
    );
    let error = action_error(skip);
    view! {
        <Transition fallback=|| ()>
            {move || {
                held.get()
                    .and_then(Result::ok)
                    .flatten()
                    .map(|held| view! { <Held held can_write skip /> })
            }}
        </Transition>
        <ErrorNotice error />
    }
}

#[component]
fn Held(held: HeldDelivery, can_write: bool, skip: ServerAction<SkipDelivery>) -> impl IntoView {
    let id = StoredValue::new(held.delivery_id.clone());
    let next = held
        .next_attempt_at
        .map(|at| format!(", next attempt {}", format_utc(at)))
        .unwrap_or_default();
    let failed = match held.attempt_count {
        1 => "1 failed attempt".to_owned(),
        n => format!("{n} failed attempts"),
    };
    view! {
        <div class="notice notice-warning held-notice" data-testid="held-delivery">
            <div>
                "Ordered delivery is waiting on "
                <A href=format!("/deliveries/{}", held.delivery_id)>
                    <code>{held.delivery_id.to_string()}</code>
                </A>
                {format!(" ({}, {failed}{next}); {} more wait behind it.", held.event, held.waiting)}
            </div>
            <Show when=move || can_write>
                <ConfirmButton
                    label="Skip"
                    title="Skip this delivery?"
                    message="It ends as failed without another attempt, and the next delivery goes. You can resend it later.".to_string()
                    confirm_label="Skip delivery"
                    disabled=skip.pending()
                    on_confirm=move |()| {
                        skip.dispatch(SkipDelivery { id: id.get_value() });
                    }
                />
            </Show>
        </div>
    }
}
