//! Hooks, for the console: list, read, create, update, delete, rotate the
//! signing key, send a test payload.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use domain::delivery::{HookTest, HookTestResult};
use domain::hook::{Hook, HookPatch, NewHook};
use domain::ids::HookId;
use domain::lag::HookLag;

use super::ConsoleError;

#[server]
pub async fn list_hooks() -> Result<Vec<Hook>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.list_hooks(&actor, true).await?)
}

#[server]
pub async fn get_hook(id: HookId) -> Result<Hook, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.get_hook(&actor, &id, true).await?)
}

/// How long the hook's deliveries wait (the hook's page shows it).
#[server]
pub async fn get_hook_lag(id: HookId) -> Result<HookLag, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.hook_lag(&actor, &id).await?)
}

#[server(input = Json)]
pub async fn create_hook(input: NewHook) -> Result<Hook, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.create_hook(&actor, input).await?)
}

#[server(input = Json)]
pub async fn update_hook(id: HookId, input: HookPatch) -> Result<Hook, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.update_hook(&actor, &id, input).await?)
}

#[server]
pub async fn delete_hook(id: HookId) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.delete_hook(&actor, &id).await?)
}

#[server]
pub async fn rotate_signing_key(id: HookId) -> Result<Hook, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.rotate_signing_key(&actor, &id).await?)
}

/// Sends a test payload to the hook, with the editor's values in `input`.
#[server(input = Json)]
pub async fn test_hook(id: HookId, input: HookTest) -> Result<HookTestResult, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.test_hook(&actor, &id, input).await?)
}
