//! Deliveries, for the console: one delivery's detail, resend, skip, the
//! delivery an ordered hook waits on, and resending a hook's failed
//! deliveries.

use leptos::prelude::*;

use domain::delivery::{Delivery, Recovered};
use domain::ids::{DeliveryId, HookId};

use super::ConsoleError;

#[server]
pub async fn get_delivery(id: DeliveryId) -> Result<Delivery, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.get_delivery(&actor, &id).await?)
}

/// Gives up on a pending delivery without an attempt.
#[server]
pub async fn skip_delivery(id: DeliveryId) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.skip(&actor, &id).await?)
}

/// The delivery an ordered hook waits on, if it waits.
#[server]
pub async fn get_held_delivery(
    hook_id: HookId,
) -> Result<Option<domain::policy::HeldDelivery>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.held_delivery(&actor, &hook_id).await?)
}

/// A new attempt of the delivery now.
#[server]
pub async fn resend_delivery(id: DeliveryId) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.resend(&actor, &id).await?)
}

/// Resends (or, with `dry_run`, counts) the hook's failed deliveries since `since`.
#[server]
pub async fn recover_failed(
    hook_id: HookId,
    since: i64,
    dry_run: bool,
) -> Result<Recovered, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let range = domain::delivery::Recover { since, until: None };
    Ok(console.recover(&actor, &hook_id, range, dry_run).await?)
}
