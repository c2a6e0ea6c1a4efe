//! Hooks: create, read, update, delete, rotate the signing key.

use app::console::Actor;
use app::model::hook::{ExecutionStats, Hook, HookPatch, NewHook};
use app::model::AppError;

use super::secrets::{new_id, new_signing_key};
use super::{db_error, now_ms, Service, KEY_ROTATION_OVERLAP};
use crate::store::HookRow;

impl Service {
    pub async fn list_hooks(
        &self,
        _actor: &Actor,
        with_stats: bool,
    ) -> Result<Vec<Hook>, AppError> {
        let rows = self.store.list_hooks().await.map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut hook = row.into_hook();
                // No deliveries exist before the dispatcher; the figures start at zero.
                hook.execution_stats = with_stats.then(ExecutionStats::default);
                hook
            })
            .collect())
    }

    pub async fn get_hook(&self, _actor: &Actor, id: &str) -> Result<Hook, AppError> {
        Ok(self.hook_row(id).await?.into_hook())
    }

    pub async fn create_hook(&self, actor: &Actor, input: NewHook) -> Result<Hook, AppError> {
        actor.require_write()?;
        let input = input.validated()?;
        let now = now_ms();
        let row = HookRow {
            id: new_id(),
            name: input.name,
            events: input.events,
            url: input.config.url,
            headers: input.config.headers,
            enabled: input.enabled.unwrap_or(true),
            disabled_reason: None,
            signing_key: new_signing_key(),
            previous_signing_key: None,
            previous_key_expires_at: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_hook(&row).await.map_err(db_error)?;
        Ok(row.into_hook())
    }

    pub async fn update_hook(
        &self,
        actor: &Actor,
        id: &str,
        input: HookPatch,
    ) -> Result<Hook, AppError> {
        actor.require_write()?;
        let input = input.validated()?;
        let mut row = self.hook_row(id).await?;
        if let Some(name) = input.name {
            row.name = name;
        }
        if let Some(events) = input.events {
            row.events = events;
        }
        if let Some(config) = input.config {
            row.url = config.url;
            row.headers = config.headers;
        }
        if let Some(enabled) = input.enabled {
            if enabled {
                row.disabled_reason = None;
            }
            row.enabled = enabled;
        }
        self.save(row).await
    }

    pub async fn delete_hook(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        actor.require_write()?;
        if self.store.delete_hook(id).await.map_err(db_error)? {
            Ok(())
        } else {
            Err(AppError::not_found("hook"))
        }
    }

    /// A new signing key; the old one stays valid for the overlap window.
    pub async fn rotate_signing_key(&self, actor: &Actor, id: &str) -> Result<Hook, AppError> {
        actor.require_write()?;
        let mut row = self.hook_row(id).await?;
        let now = now_ms();
        row.previous_signing_key = Some(std::mem::replace(&mut row.signing_key, new_signing_key()));
        row.previous_key_expires_at = Some(now + KEY_ROTATION_OVERLAP.as_millis() as i64);
        self.save(row).await
    }

    async fn hook_row(&self, id: &str) -> Result<HookRow, AppError> {
        self.store
            .hook(id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| AppError::not_found("hook"))
    }

    async fn save(&self, mut row: HookRow) -> Result<Hook, AppError> {
        row.updated_at = now_ms();
        if self.store.update_hook(&row).await.map_err(db_error)? {
            Ok(row.into_hook())
        } else {
            Err(AppError::not_found("hook"))
        }
    }
}
