//! API keys for producers and scripts. Only a SHA-256 of each key is kept.

use async_trait::async_trait;
use domain::api_key::{validate_name, ApiKey, CreatedApiKey};
use domain::ids::ApiKeyId;
use domain::ports::{Actor, ApiKeyPort};
use domain::AppError;

use super::secrets::{random_alphanumeric, sha256_hex};
use super::Service;
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::{ApiKeyRow, Store};

/// Marks a string as a Hookline API key (and makes leaked keys easy to grep for).
const KEY_PREFIX: &str = "hkl_";
/// Characters of the key shown in lists.
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 6;

#[async_trait]
impl ApiKeyPort for Service {
    async fn list_api_keys(&self, _actor: &Actor) -> Result<Vec<ApiKey>, AppError> {
        let rows = self.store.list_api_keys().await?;
        Ok(rows.into_iter().map(ApiKeyRow::into_api_key).collect())
    }

    async fn create_api_key(&self, actor: &Actor, name: &str) -> Result<CreatedApiKey, AppError> {
        actor.require_write()?;
        self.issue_api_key(name).await
    }

    async fn revoke_api_key(&self, actor: &Actor, id: &ApiKeyId) -> Result<(), AppError> {
        actor.require_write()?;
        if self.store.revoke_api_key(id, now_ms()).await? {
            self.known_keys.forget_all();
            Ok(())
        } else {
            Err(AppError::not_found("active API key"))
        }
    }
}

impl Service {
    /// Creates a key without an actor (see [`issue_api_key`]).
    pub async fn issue_api_key(&self, name: &str) -> Result<CreatedApiKey, AppError> {
        issue_api_key(&self.store, name).await
    }
}

/// Creates a key without an actor: for the `api-key create` command, which
/// needs only the store for it.
pub async fn issue_api_key(store: &Store, name: &str) -> Result<CreatedApiKey, AppError> {
    let name = validate_name(name)?;
    let secret = format!("{KEY_PREFIX}{}", random_alphanumeric(40));
    let row = ApiKeyRow {
        id: new_id(),
        name,
        prefix: secret[..SHOWN_CHARS].to_owned(),
        key_hash: sha256_hex(&secret),
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_api_key(&row).await?;
    Ok(CreatedApiKey {
        key: row.into_api_key(),
        secret,
    })
}
