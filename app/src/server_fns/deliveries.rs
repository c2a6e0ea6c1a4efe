//! Deliveries, for the console: one delivery's detail, resend, and resending
//! a hook's failed deliveries.

use leptos::prelude::*;

use domain::delivery::{Delivery, Recovered};

use super::ConsoleError;

#[server]
pub async fn get_delivery(id: String) -> Result<Delivery, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.get_delivery(&actor, &id).await?)
}

#[server]
pub async fn resend_delivery(id: String) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.resend(&actor, &id).await?)
}

/// Resends (or, with `dry_run`, counts) the hook's failed deliveries since `since`.
#[server]
pub async fn recover_failed(
    hook_id: String,
    since: i64,
    dry_run: bool,
) -> Result<Recovered, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let range = domain::delivery::Recover { since, until: None };
    Ok(console.recover(&actor, &hook_id, range, dry_run).await?)
}
