//! Settings, for the console.

use leptos::prelude::*;

use crate::model::settings::RetentionSettings;
use crate::model::AppError;

#[server]
pub async fn get_retention() -> Result<RetentionSettings, AppError> {
    let (console, actor) = super::session::actor().await?;
    console.retention(&actor).await
}

/// `days` as the form sends it; empty returns to the server's default.
#[server]
pub async fn save_retention(days: String) -> Result<RetentionSettings, AppError> {
    let days = crate::model::settings::parse_retention_days(&days)?;
    let (console, actor) = super::session::actor().await?;
    console.set_retention(&actor, days).await
}
