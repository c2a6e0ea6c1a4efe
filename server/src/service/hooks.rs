//! Hooks: create, read, update, delete, rotate the signing key.

use std::collections::HashMap;

use app::console::{Actor, HookPort};
use app::model::hook::{ExecutionStats, Hook, HookPatch, NewHook};
use app::model::AppError;
use async_trait::async_trait;

use super::secrets::{new_id, new_signing_key};
use super::{db_error, now_ms, Service};
use crate::store::HookRow;

#[async_trait]
impl HookPort for Service {
    async fn list_hooks(&self, _actor: &Actor, include_stats: bool) -> Result<Vec<Hook>, AppError> {
        let rows = self.store.list_hooks().await.map_err(db_error)?;
        let stats = self.day_stats(include_stats).await?;
        Ok(rows
            .into_iter()
            .map(|row| with_stats(row, stats.as_ref()))
            .collect())
    }

    async fn get_hook(
        &self,
        _actor: &Actor,
        id: &str,
        include_stats: bool,
    ) -> Result<Hook, AppError> {
        let row = self.store.hook(id).await.map_err(db_error)?;
        let stats = self.day_stats(include_stats).await?;
        row.map(|row| with_stats(row, stats.as_ref()))
            .ok_or_else(|| AppError::not_found("hook"))
    }

    async fn create_hook(&self, actor: &Actor, input: NewHook) -> Result<Hook, AppError> {
        actor.require_write()?;
        let input = input.validated(&self.custom_event_names().await?)?;
        let now = now_ms();
        let row = HookRow::new(new_id(), input, new_signing_key(), now);
        self.store.insert_hook(&row).await.map_err(db_error)?;
        Ok(row.into_hook())
    }

    async fn update_hook(
        &self,
        actor: &Actor,
        id: &str,
        input: HookPatch,
    ) -> Result<Hook, AppError> {
        actor.require_write()?;
        let patch = input.validated(&self.custom_event_names().await?)?;
        self.store
            .patch_hook(id, &patch, now_ms())
            .await
            .map_err(db_error)?
            .map(HookRow::into_hook)
            .ok_or_else(|| AppError::not_found("hook"))
    }

    async fn delete_hook(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        actor.require_write()?;
        if self.store.delete_hook(id).await.map_err(db_error)? {
            Ok(())
        } else {
            Err(AppError::not_found("hook"))
        }
    }

    /// A new signing key; the old one stays valid for the overlap window.
    async fn rotate_signing_key(&self, actor: &Actor, id: &str) -> Result<Hook, AppError> {
        actor.require_write()?;
        let now = now_ms();
        let overlap = self.dispatcher.settings().key_rotation_overlap;
        let previous_expires_at = now + overlap.as_millis() as i64;
        self.store
            .rotate_signing_key(id, &new_signing_key(), previous_expires_at, now)
            .await
            .map_err(db_error)?
            .map(HookRow::into_hook)
            .ok_or_else(|| AppError::not_found("hook"))
    }
}

impl Service {
    /// Every hook's requests and successes over the last 24 h, when asked for:
    /// one query over the per-minute figures, however many hooks there are.
    async fn day_stats(
        &self,
        wanted: bool,
    ) -> Result<Option<HashMap<String, ExecutionStats>>, AppError> {
        if !wanted {
            return Ok(None);
        }
        let since = now_ms() - 24 * 3600 * 1000;
        self.store
            .execution_stats(since)
            .await
            .map(Some)
            .map_err(db_error)
    }
}

/// The hook, with its 24 h figures when they were asked for.
fn with_stats(row: HookRow, stats: Option<&HashMap<String, ExecutionStats>>) -> Hook {
    let mut hook = row.into_hook();
    hook.execution_stats = stats.map(|stats| stats.get(&hook.id).copied().unwrap_or_default());
    hook
}
