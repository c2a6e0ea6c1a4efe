//! What a hook's delivery policy means here: its own retry schedule and
//! request timeout where it has them, the server's where it does not.

use std::time::Duration;

use domain::policy::{DeliveryPolicy, RetrySchedule};

use super::LEASE_MARGIN;

/// The server's retry schedule and request timeout, and how far a hook's own
/// timeout may go: as far as the lease leaves room for ([`LEASE_MARGIN`]
/// short of it), and at least as far as the server's.
#[derive(Debug, Clone)]
pub struct HookDefaults {
    pub retry_schedule: RetrySchedule,
    pub request_timeout: Duration,
    pub timeout_cap: Duration,
}

impl HookDefaults {
    pub fn new(retry_schedule: RetrySchedule, request_timeout: Duration, lease: Duration) -> Self {
        HookDefaults {
            retry_schedule,
            request_timeout,
            timeout_cap: lease.saturating_sub(LEASE_MARGIN).max(request_timeout),
        }
    }

    /// The waits after failed attempts of the hook's deliveries.
    pub fn retry_schedule<'a>(&'a self, policy: &'a DeliveryPolicy) -> &'a RetrySchedule {
        policy
            .retry_schedule
            .as_ref()
            .unwrap_or(&self.retry_schedule)
    }

    /// How long one request to the hook may take.
    pub fn request_timeout(&self, policy: &DeliveryPolicy) -> Duration {
        policy.request_timeout.map_or(self.request_timeout, |own| {
            own.duration().min(self.timeout_cap)
        })
    }
}
