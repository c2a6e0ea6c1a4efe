//! Lag: how long a hook's deliveries wait. A delivery waits from its
//! creation (with its event) until it is delivered or given up on, whatever
//! holds it: its next retry, an ordered hook's earlier delivery, a limit, or
//! its hook being disabled (until the dispatcher ends it). For
//! `GET /api/hooks/:id/lag` and the hook's page.

use serde::{Deserialize, Serialize};

/// How many of a hook's first attempts the distribution reads at most …
pub const FIRST_ATTEMPT_SAMPLE: i64 = 1000;
/// … and from how far back (unix ms before now): the last hour.
pub const FIRST_ATTEMPT_WINDOW_MS: i64 = 60 * 60 * 1000;

/// A hook's lag now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookLag {
    /// When its oldest waiting delivery was created (unix ms); null when
    /// none waits.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub oldest_waiting_at: Option<i64>,
    /// How long that delivery has waited, in ms; null when none waits.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub oldest_waiting_age_ms: Option<i64>,
    /// Event age at first attempt (the first attempt's start minus the
    /// event's creation) over the hook's newest 1,000 first attempts of the
    /// last hour (test sends excluded).
    pub first_attempt: LagDistribution,
}

/// A distribution of durations in ms; the figures are null when `count`
/// is 0.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LagDistribution {
    /// How many durations it is made of.
    pub count: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub p50_ms: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub p90_ms: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub p99_ms: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub max_ms: Option<i64>,
}

impl LagDistribution {
    /// The distribution of `durations` (in any order), by nearest rank.
    pub fn of(mut durations: Vec<i64>) -> LagDistribution {
        durations.sort_unstable();
        let rank = |percent: usize| {
            let n = durations.len();
            // Nearest rank: the smallest value with `percent` % at or below it.
            (n > 0).then(|| durations[(n * percent).div_ceil(100).max(1) - 1])
        };
        LagDistribution {
            count: durations.len() as i64,
            p50_ms: rank(50),
            p90_ms: rank(90),
            p99_ms: rank(99),
            max_ms: durations.last().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(LagDistribution::of(Vec::new()), LagDistribution::default());
        let one = LagDistribution::of(vec![7]);
        assert_eq!(
            (one.p50_ms, one.p99_ms, one.max_ms),
            (Some(7), Some(7), Some(7))
        );
        let hundred = LagDistribution::of((1..=100).rev().collect());
        assert_eq!(hundred.count, 100);
        assert_eq!(hundred.p50_ms, Some(50));
        assert_eq!(hundred.p90_ms, Some(90));
        assert_eq!(hundred.p99_ms, Some(99));
        assert_eq!(hundred.max_ms, Some(100));
    }
}
