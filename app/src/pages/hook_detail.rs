//! One webhook: its figures, enable/disable and delete, and the settings tab
//! with the signing key.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::components::{
    action_error, ConfirmButton, CopyButton, ErrorNotice, HealthLabel, HeldNotice, HookForm,
    HookTabs, IncidentBanner, PageData, StateBadge, Tab,
};
use crate::server_fns::event_types::list_event_types;
use crate::server_fns::hooks::{get_hook, get_hook_lag, DeleteHook, RotateSigningKey, UpdateHook};
use domain::event_type::EventTypeInfo;
use domain::hook::{Hook, HookPatch};
use domain::ids::HookId;
use domain::key_ring::SignatureScheme;
use domain::lag::HookLag;
use domain::policy::PolicyPatch;
use domain::time::format_lag;

#[component]
pub fn HookDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = ServerAction::<UpdateHook>::new();
    let toggle = ServerAction::<UpdateHook>::new();
    let rotate = ServerAction::<RotateSigningKey>::new();
    let delete = ServerAction::<DeleteHook>::new();
    let hook = Resource::new(
        move || {
            (
                id.get(),
                save.version().get(),
                toggle.version().get(),
                rotate.version().get(),
            )
        },
        // The hook, how long its deliveries wait, and every event type its
        // settings may choose from.
        |(id, ..)| async move {
            let hook = get_hook(id.clone().into()).await?;
            Ok((
                hook,
                get_hook_lag(id.into()).await?,
                list_event_types().await?,
            ))
        },
    );
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/webhooks", Default::default());
        }
    });
    let actions = HookActions {
        save,
        toggle,
        rotate,
        delete,
    };
    view! {
        <A href="/webhooks" attr:class="back-link">
            "← Webhooks"
        </A>
        <PageData
            resource=hook
            render={move |(hook, lag, event_types): (Hook, HookLag, Vec<EventTypeInfo>), can_write| {
                view! { <HookDetail hook lag event_types actions can_write /> }
            }}
        />
    }
}

#[derive(Clone, Copy)]
struct HookActions {
    save: ServerAction<UpdateHook>,
    toggle: ServerAction<UpdateHook>,
    rotate: ServerAction<RotateSigningKey>,
    delete: ServerAction<DeleteHook>,
}

#[component]
fn HookDetail(
    hook: Hook,
    lag: HookLag,
    event_types: Vec<EventTypeInfo>,
    actions: HookActions,
    can_write: bool,
) -> impl IntoView {
    let id = StoredValue::new(hook.id.clone());
    let enabled = hook.enabled;
    let header_error = Signal::derive(move || {
        [
            actions.toggle.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
            actions
                .rotate
                .value()
                .get()
                .map(|r| r.map(|_| ()))
                .and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    });
    let requests = hook.execution_stats.unwrap_or_default().request_count;
    view! {
            <Title text=hook.name.clone() />
            <section class="card hook-header">
                <div class="hook-title">
                    <div>
                        <div class="title-line">
    <h1>{hook.name.clone()}</h1>
    <StateBadge enabled />
    </div>
                        <div class="muted small id-line">
                            "ID " <code>{hook.id.to_string()}</code> <CopyButton text=hook.id.to_string() />
                        </div>
                        {hook
                            .disabled_reason
                            .clone()
                            .map(|reason| view! { <div class="notice notice-warning">"Disabled: " {reason}</div> })}
                        <IncidentBanner hook_id=hook.id.clone() />
                        {hook.policy.ordered.then(|| view! { <HeldNotice hook_id=hook.id.clone() can_write /> })}
                    </div>
                    <Show when=move || can_write>
                        <div class="page-actions">
                            <ConfirmButton
                                label=if enabled { "Disable" } else { "Enable" }
                                title=if enabled { "Disable this webhook?" } else { "Enable this webhook?" }
                                message=if enabled {
                                    "It will receive no new events until it is enabled again.".to_string()
                                } else {
                                    "It will receive new events again. Events it missed while disabled are not replayed.".to_string()
                                }
                                confirm_label=if enabled { "Disable" } else { "Enable" }
                            disabled=actions.toggle.pending()
                                on_confirm=move |()| {
                                    actions.toggle.dispatch(UpdateHook {
                                        id: id.get_value(),
                                        input: HookPatch { enabled: Some(!enabled), ..Default::default() },
                                    });
                                }
                            />
                            <ConfirmButton
                                label="Delete"
                                title="Delete this webhook?"
                                message="It stops receiving events and its settings are removed. This cannot be undone.".to_string()
                                confirm_label="Delete webhook"
                                danger=true
                                on_confirm=move |()| {
                                    actions.delete.dispatch(DeleteHook { id: id.get_value() });
                                }
                            />
                        </div>
                    </Show>
                </div>
                <div class="figures">
                    <div class="figure">
                        <span class="figure-label">"Requests (24 h)"</span>
                        <span class="figure-value">{requests}</span>
                    </div>
                    <div class="figure">
                        <span class="figure-label">"Success rate (24 h)"</span>
                        <span class="figure-value">
                            <HealthLabel health=hook.health() />
                        </span>
                    </div>
                    <div class="figure">
                        <span class="figure-label">"Events"</span>
                        <span class="figure-value">{hook.events.len()}</span>
                    </div>
                    <LagFigures lag />
                </div>
                <ErrorNotice error=header_error />
            </section>
            <HookTabs hook_id=hook.id.clone() active=Tab::Settings />
            <SigningKey hook=hook.clone() rotate=actions.rotate can_write />
            <HookForm
                test_hook_id=(can_write).then(|| hook.id.clone())
                initial=Some(hook)
                event_types
                submit_label="Save changes"
                read_only=Signal::stored(!can_write)
                pending=actions.save.pending()
                error=action_error(actions.save)
                on_submit=move |input: domain::hook::NewHook| {
                    actions.save.dispatch(UpdateHook {
                        id: id.get_value(),
                        input: HookPatch {
                            name: Some(input.name),
                            events: Some(input.events),
                            config: Some(input.config),
                            enabled: None,
                            filter: Some(input.filter),
                            policy: PolicyPatch::replacing_with(input.policy),
                            signature_scheme: input.signature_scheme,
                        },
                    });
                }
            />
        }
}

/// How long the hook's deliveries wait: the oldest waiting one, and event
/// age at first attempt over the last hour (its newest 1,000).
#[component]
fn LagFigures(lag: HookLag) -> impl IntoView {
    let oldest = lag
        .oldest_waiting_age_ms
        .map_or_else(|| "none".to_owned(), format_lag);
    let first = lag.first_attempt;
    let percentiles = match (first.p50_ms, first.p99_ms) {
        (Some(p50), Some(p99)) => format!("p50 {} · p99 {}", format_lag(p50), format_lag(p99)),
        _ => "none in the last hour".to_owned(),
    };
    // None rather than an empty string: the browser's parser drops an empty
    // text node, and hydration would then walk a DOM that does not match.
    let count = match first.count {
        0 => None,
        1 => Some(" (1 attempt)".to_owned()),
        n => Some(format!(" ({n} attempts)")),
    };
    view! {
        <div class="figure" data-testid="oldest-waiting">
            <span class="figure-label">"Oldest waiting"</span>
            <span class="figure-value">{oldest}</span>
        </div>
        <div class="figure" data-testid="first-attempt-lag">
            <span class="figure-label">"Event age at first attempt (1 h)"</span>
            <span class="figure-value small">
                {percentiles}
                {count.map(|count| view! { <span class="muted">{count}</span> })}
            </span>
        </div>
    }
}

/// How the hook signs: an HMAC key, masked until revealed, in raw and
/// `whsec_` form (to viewers only a word on who may see it: the server masks
/// it for them), or an Ed25519 hook's public key, which anyone may see.
#[component]
fn SigningKey(
    hook: Hook,
    rotate: ServerAction<RotateSigningKey>,
    can_write: bool,
) -> impl IntoView {
    let rotate_button = can_write.then(|| view! { <RotateKey id=hook.id.clone() rotate /> });
    if let (SignatureScheme::Ed25519, Some(public)) =
        (hook.signature_scheme, hook.public_key.clone())
    {
        return view! {
            <section class="card">
                <div class="card-title">
                    <h2>"Public key"</h2>
                    <p class="muted small">
                        "Requests are signed with Ed25519: verify the Standard Webhooks "
                        <code>"webhook-signature"</code>
                        " (" <code>"v1a"</code> ") with this key. It cannot sign, so it need not be kept secret. "
                        "No " <code>"logto-signature-sha-256"</code>
                        " is sent: Logto's scheme needs a shared secret."
                    </p>
                </div>
                <div class="secret-row">
                    <span class="secret-label">"Public key"</span>
                    <code class="secret" data-testid="public-key">{public.clone()}</code>
                    <CopyButton text=public />
                </div>
                {rotate_button}
            </section>
        }
        .into_any();
    }
    if !can_write {
        return view! {
            <section class="card">
                <div class="card-title">
                    <h2>"Signing key"</h2>
                </div>
                <p class="muted small" data-testid="signing-key-admins-only">
                    "Only admins can see the signing key and custom header values."
                </p>
            </section>
        }
        .into_any();
    }
    let revealed = RwSignal::new(false);
    let key = hook.signing_key.clone().unwrap_or_default();
    let whsec = hook.whsec().unwrap_or_default();
    let mask = |secret: &str| "•".repeat(secret.len().min(32));
    let shown = {
        let (key, whsec) = (key.clone(), whsec.clone());
        move |raw: bool| {
            let secret = if raw { &key } else { &whsec };
            if revealed.get() {
                secret.clone()
            } else {
                mask(secret)
            }
        }
    };
    let shown_whsec = shown.clone();
    view! {
        <section class="card">
            <div class="card-title card-title-split">
                <h2>"Signing key"</h2>
                <button type="button" class="btn btn-secondary btn-small" on:click=move |_| revealed.update(|r| *r = !*r)>
                    {move || if revealed.get() { "Hide" } else { "Reveal" }}
                </button>
            </div>
            <div class="card-title">
                <p class="muted small">
                    "Verify "
                    <code>"logto-signature-sha-256"</code>
                    " (HMAC-SHA256 of the body) or the Standard Webhooks "
                    <code>"webhook-signature"</code>
                    " with this key."
                </p>
            </div>
            <div class="secret-row">
                <span class="secret-label">"Key"</span>
                <code class="secret" data-testid="signing-key">{move || shown(true)}</code>
                <CopyButton text=key />
            </div>
            <div class="secret-row">
                <span class="secret-label">"Standard Webhooks"</span>
                <code class="secret" data-testid="signing-key-whsec">{move || shown_whsec(false)}</code>
                <CopyButton text=whsec />
            </div>
            {rotate_button}
        </section>
    }
    .into_any()
}

/// "Rotate key": a new key of the same scheme; the current one keeps
/// signing beside it for a day.
#[component]
fn RotateKey(id: HookId, rotate: ServerAction<RotateSigningKey>) -> impl IntoView {
    view! {
        <div class="form-actions">
            <ConfirmButton
                label="Rotate key"
                title="Rotate the signing key?"
                message="A new key signs every request from now on. The current key stays valid for 24 hours, so receivers can switch over.".to_string()
                confirm_label="Rotate key"
                disabled=rotate.pending()
                on_confirm=move |()| {
                    rotate.dispatch(RotateSigningKey { id: id.clone() });
                }
            />
        </div>
    }
}
