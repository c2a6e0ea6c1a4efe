//! Retention: how long the delivery log is kept (the `--retention` default,
//! or what an admin saved in the console, shared by every instance) and the
//! sweep that forgets what is older. With it, the other settings the console
//! reads: the delivery defaults hooks without their own policy get.

use domain::policy::{format_duration, ServerDefaults};
use std::time::Duration;

use async_trait::async_trait;
use domain::ports::{Actor, SettingsPort};
use domain::settings::{days_ms, RetentionSettings};
use domain::AppError;

use super::Service;
use crate::clock::now_ms;
use crate::store::StoreResult;

/// Where the console's choice is kept in the `settings` table.
const RETENTION_KEY: &str = "retention_ms";

/// Events deleted per transaction: small enough that ingestion, which waits
/// for SQLite's write lock, is never held up for long.
const SWEEP_BATCH: i64 = 500;

impl Service {
    /// The window in force and whether the console set it.
    async fn retention_settings(&self) -> StoreResult<RetentionSettings> {
        let default_ms = self.retention_default.as_millis() as i64;
        let saved = self
            .store
            .setting(RETENTION_KEY)
            .await?
            .and_then(|value| value.parse::<i64>().ok())
            .filter(|ms| *ms > 0);
        Ok(RetentionSettings {
            effective_ms: saved.unwrap_or(default_ms),
            default_ms,
            saved: saved.is_some(),
        })
    }

    /// Deletes events older than the retention window with their deliveries
    /// and attempts, a batch per transaction, and the counters past their use.
    /// Returns how many events went.
    pub async fn sweep_expired(&self) -> StoreResult<u64> {
        let now = now_ms();
        let cutoff = now - self.retention_settings().await?.effective_ms;
        let mut deleted = 0;
        loop {
            let purged = self.store.purge_events_before(cutoff, SWEEP_BATCH).await?;
            deleted += purged.events;
            if purged.events < SWEEP_BATCH as u64 {
                break;
            }
            // Let waiting writers (ingestion, the recorder) in between batches.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.store.purge_counters(cutoff, now).await?;
        self.store.delete_expired_sessions(now).await?;
        Ok(deleted)
    }
}

#[async_trait]
impl SettingsPort for Service {
    async fn retention(&self, _actor: &Actor) -> Result<RetentionSettings, AppError> {
        Ok(self.retention_settings().await?)
    }

    async fn delivery_defaults(&self, _actor: &Actor) -> Result<ServerDefaults, AppError> {
        let defaults = self.dispatcher.hook_defaults();
        Ok(ServerDefaults {
            retry_schedule: match defaults.retry_schedule.step_texts().join(", ") {
                steps if steps.is_empty() => "no retries".to_owned(),
                steps => steps,
            },
            request_timeout: format_duration(defaults.request_timeout),
            timeout_cap: format_duration(defaults.timeout_cap),
        })
    }

    async fn set_retention(
        &self,
        actor: &Actor,
        days: Option<u32>,
    ) -> Result<RetentionSettings, AppError> {
        actor.require_write()?;
        let value = days.map(|days| days_ms(days).to_string());
        self.store
            .set_setting(RETENTION_KEY, value.as_deref(), now_ms())
            .await?;
        Ok(self.retention_settings().await?)
    }
}
