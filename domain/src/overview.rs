//! The overview: how the whole system is doing right now, for the console's
//! home page and `GET /api/overview`.

use serde::{Deserialize, Serialize};

use crate::delivery::Bucket;
use crate::hook::ExecutionStats;
use crate::ids::{DeliveryId, HookId};

/// System health at a glance. Read from the per-minute counters and indexed
/// delivery state, so it costs the same whatever the size of the log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// When these figures were read (unix ms).
    pub at: i64,
    /// Requests and successes over the last hour (test sends excluded).
    pub last_hour: ExecutionStats,
    /// Requests and successes over the last 24 hours.
    pub last_day: ExecutionStats,
    /// The last 24 hours by hour, oldest first; the last bucket is the
    /// current hour so far.
    pub chart: Vec<Bucket>,
    /// Deliveries not yet delivered or given up on.
    pub waiting: i64,
    /// When the oldest of them was created (unix ms).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub oldest_waiting_at: Option<i64>,
    /// Attempts being sent right now, over every instance (as each last
    /// reported, at most a second ago).
    pub in_flight: i64,
    /// Server processes whose dispatcher is alive (several share one
    /// PostgreSQL database).
    pub instances: i64,
    /// Hooks that need someone to look at them, most urgent first, each
    /// once (under its most urgent reason).
    pub attention: Vec<HookAttention>,
}

/// A hook that needs attention, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookAttention {
    pub hook_id: HookId,
    pub hook_name: String,
    pub reason: Attention,
}

/// Why a hook is on the overview's list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Attention {
    /// Switched off, by an admin or by Hookline (with its reason).
    Disabled {
        #[cfg_attr(feature = "openapi", schema(required = true))]
        reason: Option<String>,
    },
    /// An ordered hook waiting on a delivery that has failed so far.
    Held {
        #[serde(rename = "deliveryId")]
        delivery_id: DeliveryId,
        #[serde(rename = "attemptCount")]
        attempt_count: i64,
    },
    /// Its attempts have failed without a break since `since` (unix ms).
    Failing { since: i64 },
    /// Its oldest waiting delivery was created at `oldestWaitingAt` (unix
    /// ms) and has waited `ageMs`, longer than the lagging rule allows
    /// (the alert settings' `lagMinutes`, 5 while alerts are off).
    Lagging {
        #[serde(rename = "oldestWaitingAt")]
        oldest_waiting_at: i64,
        #[serde(rename = "ageMs")]
        age_ms: i64,
    },
}

impl Attention {
    /// Lower sorts first: a disabled hook gets nothing at all, a held one
    /// holds back all its other deliveries, a failing one may yet recover.
    /// Lagging comes last because it is what the others cause: a hook is
    /// listed as lagging only when nothing above explains its wait (a slow
    /// endpoint, too low a limit).
    pub fn urgency(&self) -> u8 {
        match self {
            Attention::Disabled { .. } => 0,
            Attention::Held { .. } => 1,
            Attention::Failing { .. } => 2,
            Attention::Lagging { .. } => 3,
        }
    }
}

/// Sums buckets' requests and successes.
pub fn totals<'a>(buckets: impl IntoIterator<Item = &'a Bucket>) -> ExecutionStats {
    buckets
        .into_iter()
        .fold(ExecutionStats::default(), |sum, bucket| ExecutionStats {
            request_count: sum.request_count + bucket.requests,
            success_count: sum.success_count + bucket.successes,
        })
}
