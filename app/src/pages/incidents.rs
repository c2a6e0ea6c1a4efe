//! Incidents: hooks that were failing, disabled by the dispatcher, or let
//! deliveries run out of retries, from when it began until it ended. The
//! tab (open or all) is in the URL, so a link to open incidents stays one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::{PageData, PageHeader};
use crate::server_fns::alerts::list_incidents;
use domain::alert::{Incident, IncidentKind};
use domain::time::format_utc;

#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let open_only = move || query.read().get("state").as_deref() == Some("open");
    let incidents = Resource::new(open_only, list_incidents);
    let tab = move |open: bool| {
        if open == open_only() {
            "tab tab-active"
        } else {
            "tab"
        }
    };
    view! {
        <Title text="Incidents" />
        <PageHeader
            title="Incidents".into()
            subtitle="Hooks in trouble, as the alert watch found them. Each one raises an alert when it begins and when it ends."
        />
        <nav class="tabs" aria-label="Which incidents">
            <A href="/incidents?state=open" attr:class=move || tab(true)>"Open"</A>
            <A href="/incidents" attr:class=move || tab(false)>"All"</A>
        </nav>
        <PageData
            resource=incidents
            render={move |incidents: Vec<Incident>, _can_write| {
                if incidents.is_empty() {
                    view! {
                        <div class="card empty-state">
                            <h2>"No incidents"</h2>
                            <p class="muted">
                                "Every hook is answering. Alerts go where "
                                <A href="/settings">"Settings"</A>
                                " says once a hook fails, is disabled or lets a delivery run out of retries."
                            </p>
                        </div>
                    }
                    .into_any()
                } else {
                    view! { <IncidentsTable incidents /> }.into_any()
                }
            }}
        />
    }
}

#[component]
fn IncidentsTable(incidents: Vec<Incident>) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="table" data-testid="incidents-table">
                <thead>
                    <tr>
                        <th>"What happened"</th>
                        <th>"Hook"</th>
                        <th>"Since"</th>
                        <th>"State"</th>
                    </tr>
                </thead>
                <tbody>
                    {incidents.into_iter().map(|incident| view! { <IncidentRow incident /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn IncidentRow(incident: Incident) -> impl IntoView {
    let badge = match (incident.kind, incident.resolved_at.is_some()) {
        (_, true) => "badge badge-grey",
        (IncidentKind::Disabled, false) => "badge badge-red",
        (_, false) => "badge badge-amber",
    };
    let state = match incident.resolved_at {
        Some(at) => format!("Resolved {}", format_utc(at)),
        None => "Open".to_owned(),
    };
    view! {
        <tr>
            <td class="row-title">
                <span class=badge>{incident.kind.label()}</span>
                " "
                {incident.reason.clone()}
                {incident.delivery_id.clone().map(|id| view! {
                    <div class="small">
                        <A href=format!("/deliveries/{id}")><code>{id.to_string()}</code></A>
                    </div>
                })}
            </td>
            <td data-label="Hook">
                <A href=format!("/webhooks/{}", incident.hook_id)>{incident.hook_name.clone()}</A>
            </td>
            <td data-label="Since" class="muted">{format_utc(incident.opened_at)}</td>
            <td data-label="State" class=if incident.resolved_at.is_some() { "muted" } else { "" }>{state}</td>
        </tr>
    }
}
