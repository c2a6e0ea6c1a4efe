//! A hook's request log and chart, and sending again: resend one delivery,
//! recover every failed one in a time range.

use async_trait::async_trait;
use domain::delivery::{Bucket, LogPage, LogQuery, Recover, Recovered, LOG_COUNT_LIMIT};
use domain::ids::{DeliveryId, HookId};
use domain::lag::{HookLag, LagDistribution, FIRST_ATTEMPT_WINDOW_MS};
use domain::policy::HeldDelivery;
use domain::ports::{Actor, LogPort};
use domain::{AppError, ErrorCode};

use super::Service;
use crate::clock::now_ms;
use crate::store::{Resend, Skip};

/// The most buckets a chart may ask for.
const MAX_BUCKETS: i64 = 500;

#[async_trait]
impl LogPort for Service {
    async fn recent_logs(
        &self,
        _actor: &Actor,
        hook_id: &HookId,
        query: LogQuery,
    ) -> Result<LogPage, AppError> {
        let filter = query.validated()?;
        self.existing_hook(hook_id).await?;
        let (attempts, counted) = self
            .store
            .recent_attempts(hook_id, &filter, LOG_COUNT_LIMIT)
            .await?;
        Ok(LogPage {
            attempts,
            total: counted.min(LOG_COUNT_LIMIT),
            total_capped: counted > LOG_COUNT_LIMIT,
        })
    }

    async fn hook_chart(
        &self,
        _actor: &Actor,
        hook_id: &HookId,
        from: i64,
        to: i64,
        buckets: i64,
    ) -> Result<Vec<Bucket>, AppError> {
        if from >= to {
            return Err(AppError::invalid("from", "from must be before to"));
        }
        if !(1..=MAX_BUCKETS).contains(&buckets) {
            return Err(AppError::invalid(
                "buckets",
                format!("buckets must be 1 to {MAX_BUCKETS}"),
            ));
        }
        self.existing_hook(hook_id).await?;
        // Whole minutes: the figures are kept per minute.
        let bucket_ms = ((to - from) / buckets).max(1).div_euclid(60_000).max(1) * 60_000;
        Ok(self
            .store
            .attempt_buckets(Some(hook_id), from, to, bucket_ms)
            .await?)
    }

    async fn resend(&self, actor: &Actor, delivery_id: &DeliveryId) -> Result<(), AppError> {
        actor.require_write()?;
        match self.store.schedule_resend(delivery_id, now_ms()).await? {
            Resend::Scheduled => {
                self.dispatcher.wake();
                Ok(())
            }
            Resend::NotFound => Err(AppError::not_found("delivery")),
            Resend::HookDisabled => Err(AppError::new(
                ErrorCode::Conflict,
                "the hook is disabled; enable it before resending",
            )),
            Resend::InFlight => Err(AppError::new(
                ErrorCode::Conflict,
                "an attempt of this delivery is in flight; resend once it is logged",
            )),
        }
    }

    async fn skip(&self, actor: &Actor, delivery_id: &DeliveryId) -> Result<(), AppError> {
        actor.require_write()?;
        match self.store.skip_delivery(delivery_id, now_ms()).await? {
            Skip::Skipped => {
                // An ordered hook's next delivery may go now.
                self.dispatcher.wake();
                Ok(())
            }
            Skip::NotFound => Err(AppError::not_found("delivery")),
            Skip::NotPending => Err(AppError::new(
                ErrorCode::Conflict,
                "the delivery is not pending: it was delivered or has failed already",
            )),
            Skip::InFlight => Err(AppError::new(
                ErrorCode::Conflict,
                "an attempt of this delivery is in flight; skip it once it is logged",
            )),
        }
    }

    async fn held_delivery(
        &self,
        _actor: &Actor,
        hook_id: &HookId,
    ) -> Result<Option<HeldDelivery>, AppError> {
        Ok(self.store.held_delivery(hook_id).await?)
    }

    async fn hook_lag(&self, _actor: &Actor, hook_id: &HookId) -> Result<HookLag, AppError> {
        self.existing_hook(hook_id).await?;
        let now = now_ms();
        let (oldest_waiting_at, lags) = tokio::try_join!(
            self.store.oldest_waiting_at(hook_id),
            self.store
                .first_attempt_lags(hook_id, now - FIRST_ATTEMPT_WINDOW_MS),
        )?;
        Ok(HookLag {
            oldest_waiting_at,
            oldest_waiting_age_ms: oldest_waiting_at.map(|at| (now - at).max(0)),
            first_attempt: LagDistribution::of(lags),
        })
    }

    async fn recover(
        &self,
        actor: &Actor,
        hook_id: &HookId,
        range: Recover,
        dry_run: bool,
    ) -> Result<Recovered, AppError> {
        if !dry_run {
            actor.require_write()?;
        }
        let now = now_ms();
        let until = range.until.unwrap_or(now + 1);
        if range.since >= until {
            return Err(AppError::invalid("since", "since must be before until"));
        }
        let hook = self.existing_hook(hook_id).await?;
        if !hook.enabled && !dry_run {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "the hook is disabled; enable it before recovering",
            ));
        }
        let deliveries = self
            .store
            .schedule_recover(hook_id, range.since, until, now, dry_run)
            .await?;
        if deliveries > 0 && !dry_run {
            self.dispatcher.wake();
        }
        Ok(Recovered { deliveries })
    }
}

impl Service {
    /// The hook, or 404.
    async fn existing_hook(&self, hook_id: &HookId) -> Result<crate::store::HookRow, AppError> {
        self.store
            .hook(hook_id)
            .await?
            .ok_or_else(|| AppError::not_found("hook"))
    }
}
