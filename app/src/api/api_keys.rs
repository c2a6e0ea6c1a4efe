//! API keys, for the console.

use leptos::prelude::*;

use crate::model::api_key::{ApiKey, CreatedApiKey};
use crate::model::AppError;

#[server]
pub async fn list_api_keys() -> Result<Vec<ApiKey>, AppError> {
    let (console, actor) = super::session::actor().await?;
    console.list_api_keys(&actor).await
}

#[server]
pub async fn create_api_key(name: String) -> Result<CreatedApiKey, AppError> {
    let (console, actor) = super::session::actor().await?;
    console.create_api_key(&actor, &name).await
}

#[server]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let (console, actor) = super::session::actor().await?;
    console.revoke_api_key(&actor, &id).await
}
