//! API keys, for the console.

use leptos::prelude::*;

use domain::api_key::{ApiKey, CreatedApiKey};
use domain::ids::ApiKeyId;

use super::ConsoleError;

#[server]
pub async fn list_api_keys() -> Result<Vec<ApiKey>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.list_api_keys(&actor).await?)
}

#[server]
pub async fn create_api_key(name: String) -> Result<CreatedApiKey, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.create_api_key(&actor, &name).await?)
}

#[server]
pub async fn revoke_api_key(id: ApiKeyId) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.revoke_api_key(&actor, &id).await?)
}
