//! What the overview reads besides the per-minute counters: the state of the
//! deliveries and dispatchers, and the hooks that need attention. Each is
//! one statement over indexed state, whatever the size of the log (the
//! lagging hooks: one index probe per hook, see `lag.rs`).

use domain::ids::{DeliveryId, HookId};
use domain::overview::{Attention, HookAttention};

use super::{on_backend, Store, StoreResult};

/// At most this many hooks of each kind on the overview's list; past it, the
/// hooks page has them all.
pub const ATTENTION_CAP: i64 = 100;

/// The deliveries waiting and the dispatchers at work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkState {
    pub waiting: i64,
    pub oldest_waiting_at: Option<i64>,
    pub in_flight: i64,
    pub instances: i64,
}

#[derive(sqlx::FromRow)]
struct TroubledHook {
    id: HookId,
    name: String,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
}

impl Store {
    /// Deliveries waiting (through the partial index of pending ones), and
    /// what the dispatchers seen since `alive_since` have in flight.
    pub async fn work_state(&self, alive_since: i64) -> StoreResult<WorkState> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT
                 (SELECT COUNT(*) FROM deliveries WHERE state = 'pending') AS waiting,
                 (SELECT MIN(created_at) FROM deliveries WHERE state = 'pending')
                     AS oldest_waiting_at,
                 (SELECT CAST(COALESCE(SUM(sending), 0) AS BIGINT) FROM dispatchers
                     WHERE seen_at >= $1) AS in_flight,
                 (SELECT COUNT(*) FROM dispatchers WHERE seen_at >= $1) AS instances",
        )
        .bind(alive_since)
        .fetch_one(pool)
        .await)?)
    }

    /// Hooks switched off or failing without a break, ordered hooks held by
    /// a delivery that has failed so far, and hooks with a delivery waiting
    /// for longer than `lag_ms` at `at`; most urgent first, each hook once.
    pub async fn hooks_needing_attention(
        &self,
        at: i64,
        lag_ms: i64,
    ) -> StoreResult<Vec<HookAttention>> {
        let troubled: Vec<TroubledHook> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT id, name, enabled, disabled_reason, failing_since FROM hooks
             WHERE NOT enabled OR failing_since IS NOT NULL
             ORDER BY enabled, failing_since LIMIT $1",
        )
        .bind(ATTENTION_CAP)
        .fetch_all(pool)
        .await)?;
        // An ordered hook attempts only its oldest pending delivery, so a
        // pending one with attempts behind it is what holds the rest.
        let held: Vec<(HookId, String, DeliveryId, i64)> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT h.id, h.name, d.id, d.attempt_count
             FROM hooks h JOIN deliveries d ON d.hook_id = h.id
             WHERE h.ordered AND h.enabled AND d.state = 'pending' AND d.attempt_count > 0
             ORDER BY d.created_at LIMIT $1",
        )
        .bind(ATTENTION_CAP)
        .fetch_all(pool)
        .await)?;
        let lagging = self.hooks_waiting_since(at - lag_ms).await?;
        let mut attention: Vec<HookAttention> = troubled
            .into_iter()
            .map(|hook| HookAttention {
                reason: match (hook.enabled, hook.failing_since) {
                    (true, Some(since)) => Attention::Failing { since },
                    _ => Attention::Disabled {
                        reason: hook.disabled_reason,
                    },
                },
                hook_id: hook.id,
                hook_name: hook.name,
            })
            .chain(
                held.into_iter()
                    .map(
                        |(hook_id, hook_name, delivery_id, attempt_count)| HookAttention {
                            hook_id,
                            hook_name,
                            reason: Attention::Held {
                                delivery_id,
                                attempt_count,
                            },
                        },
                    ),
            )
            .chain(
                lagging
                    .into_iter()
                    .take(ATTENTION_CAP as usize)
                    .map(|hook| HookAttention {
                        hook_id: hook.id,
                        hook_name: hook.name,
                        reason: Attention::Lagging {
                            oldest_waiting_at: hook.oldest_waiting_at,
                            age_ms: at - hook.oldest_waiting_at,
                        },
                    }),
            )
            .collect();
        attention.sort_by_key(|hook| hook.reason.urgency());
        let mut listed = std::collections::HashSet::new();
        attention.retain(|hook| listed.insert(hook.hook_id.clone()));
        Ok(attention)
    }
}
