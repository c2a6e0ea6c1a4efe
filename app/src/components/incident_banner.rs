//! On a hook's page: the incidents open for it (failing, retries run out;
//! a disabled hook has its own notice), and a note on the hook that
//! carries the alerts, which is changed in Settings.

use leptos::prelude::*;
use leptos_router::components::A;

use domain::alert::{Incident, IncidentKind};
use domain::ids::HookId;
use domain::time::format_utc;

use crate::server_fns::alerts::{hook_alerts, HookAlertState};

/// Fetched in the browser only: the banner is not part of the page the
/// server renders, so hydration never waits on it or meets it half-drawn.
#[component]
pub fn IncidentBanner(hook_id: HookId) -> impl IntoView {
    let hook_id = StoredValue::new(hook_id);
    let alerts = LocalResource::new(move || hook_alerts(hook_id.get_value()));
    move || {
        alerts
            .get()
            .and_then(Result::ok)
            .map(|alerts| view! { <Banners alerts /> })
    }
}

#[component]
fn Banners(alerts: HookAlertState) -> impl IntoView {
    let shown: Vec<Incident> = alerts
        .open
        .into_iter()
        .filter(|incident| incident.kind != IncidentKind::Disabled)
        .collect();
    view! {
        {alerts.carries_alerts.then(|| view! {
            <div class="notice notice-info" data-testid="alerts-hook-notice">
                "This hook carries Hookline's alerts. Change where they go in "
                <A href="/settings">"Settings"</A>
                "; its signing key verifies them."
            </div>
        })}
        {shown
            .into_iter()
            .map(|incident| {
                view! {
                    <div class="notice notice-warning" data-testid="incident-banner">
                        <strong>{incident.kind.label()}</strong>
                        {format!(" since {}: {}. ", format_utc(incident.opened_at), incident.reason)}
                        <A href="/incidents?state=open">"Incidents"</A>
                    </div>
                }
            })
            .collect_view()}
    }
}
