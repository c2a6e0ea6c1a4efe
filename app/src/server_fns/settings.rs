//! Settings, for the console.

use leptos::prelude::*;

use domain::settings::RetentionSettings;

use super::ConsoleError;

#[server]
pub async fn get_retention() -> Result<RetentionSettings, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.retention(&actor).await?)
}

/// The retry schedule and timeout of hooks without their own.
#[server]
pub async fn get_delivery_defaults() -> Result<domain::policy::ServerDefaults, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.delivery_defaults(&actor).await?)
}

/// `days` as the form sends it; empty returns to the server's default.
#[server]
pub async fn save_retention(days: String) -> Result<RetentionSettings, ConsoleError> {
    let days = domain::settings::parse_retention_days(&days)?;
    let (console, actor) = super::session::actor().await?;
    Ok(console.set_retention(&actor, days).await?)
}
