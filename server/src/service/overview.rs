//! The overview: the whole system at a glance, for the console's home page
//! and `GET /api/overview`.

use async_trait::async_trait;
use domain::overview::{totals, Overview};
use domain::ports::{Actor, OverviewPort};
use domain::AppError;

use super::Service;
use crate::clock::now_ms;
use crate::dispatcher::ALIVE_FOR;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

#[async_trait]
impl OverviewPort for Service {
    /// Every signed-in user and API key may read it: it holds no secrets.
    async fn overview(&self, _actor: &Actor) -> Result<Overview, AppError> {
        let at = now_ms();
        let next_minute = at - at.rem_euclid(MINUTE_MS) + MINUTE_MS;
        let this_hour = at - at.rem_euclid(HOUR_MS);
        let lag_ms = self.lag_threshold_ms().await?;
        // Four reads side by side: counters by hour for the chart and the
        // day, by minute for the last hour, the state of the work, and the
        // hooks in trouble.
        let (chart, last_hour, work, attention) = tokio::try_join!(
            self.store
                .attempt_buckets(None, this_hour - 23 * HOUR_MS, next_minute, HOUR_MS),
            self.store
                .attempt_buckets(None, next_minute - HOUR_MS, next_minute, MINUTE_MS),
            self.store.work_state(at - ALIVE_FOR.as_millis() as i64),
            self.store.hooks_needing_attention(at, lag_ms),
        )?;
        Ok(Overview {
            at,
            last_hour: totals(&last_hour),
            last_day: totals(&chart),
            chart,
            waiting: work.waiting,
            oldest_waiting_at: work.oldest_waiting_at,
            in_flight: work.in_flight,
            instances: work.instances,
            attention,
        })
    }
}
