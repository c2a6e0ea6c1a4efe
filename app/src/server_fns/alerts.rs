//! Alerts and incidents, for the console.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use domain::alert::{AlertSettings, Incident};
use domain::ids::HookId;

use super::ConsoleError;

/// `None` while alerts are off.
#[server]
pub async fn get_alert_settings() -> Result<Option<AlertSettings>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.alert_settings(&actor).await?)
}

/// The form's fields as text; empty numbers take their defaults, an empty
/// success rate turns the rate rule off.
#[server]
pub async fn save_alert_settings(
    url: String,
    format: String,
    consecutive_failures: String,
    success_rate_below: String,
    window_minutes: String,
    min_attempts: String,
    lag_minutes: String,
) -> Result<AlertSettings, ConsoleError> {
    let input = domain::alert::AlertSettingsInput::from_form(
        &url,
        &format,
        &consecutive_failures,
        &success_rate_below,
        &window_minutes,
        &min_attempts,
        &lag_minutes,
    )?;
    let (console, actor) = super::session::actor().await?;
    Ok(console.save_alert_settings(&actor, input).await?)
}

#[server]
pub async fn remove_alert_settings() -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.remove_alert_settings(&actor).await?)
}

/// Incidents, newest first: only open ones with `open_only`.
#[server]
pub async fn list_incidents(open_only: bool) -> Result<Vec<Incident>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let query = domain::alert::IncidentQuery {
        state: open_only.then(|| "open".to_owned()),
        hook_id: None,
        limit: Some(domain::alert::INCIDENTS_LIMIT_MAX),
    };
    Ok(console.incidents(&actor, query).await?)
}

/// What a hook's page says about alerts: its open incidents, and whether
/// it is the hook that carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookAlertState {
    pub open: Vec<Incident>,
    pub carries_alerts: bool,
}

#[server]
pub async fn hook_alerts(hook_id: HookId) -> Result<HookAlertState, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let query = domain::alert::IncidentQuery {
        state: Some("open".to_owned()),
        hook_id: Some(hook_id.clone()),
        limit: None,
    };
    let open = console.incidents(&actor, query).await?;
    let carries_alerts = console
        .alert_settings(&actor)
        .await?
        .is_some_and(|settings| settings.hook_id == hook_id);
    Ok(HookAlertState {
        open,
        carries_alerts,
    })
}
