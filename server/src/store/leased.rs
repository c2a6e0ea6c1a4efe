//! A delivery leased to one dispatcher, with everything needed to attempt
//! it: what claims return and what ingestion hands over (see `intake`).

use domain::ids::DeliveryId;
use domain::ids::EventId;
use std::sync::Arc;

use domain::delivery::Trigger;

use super::hooks::HookTarget;

/// An event as its deliveries send it; one value shared by all of them.
#[derive(Debug, PartialEq, Eq)]
pub struct EventToSend {
    pub id: EventId,
    pub name: String,
    /// The producer's fields, a JSON object as stored.
    pub payload: String,
    pub created_at: i64,
    /// Where its attempts join the event's trace (see `telemetry`).
    pub trace_parent: Option<String>,
}

/// A delivery leased to one dispatcher, with everything needed to attempt it.
#[derive(Debug, Clone)]
pub struct LeasedDelivery {
    pub id: DeliveryId,
    pub event: Arc<EventToSend>,
    pub hook: Arc<HookTarget>,
    /// Attempts made so far.
    pub attempt_count: i64,
    /// Why the next attempt is made.
    pub trigger: Trigger,
    pub lease_token: Arc<str>,
    pub lease_expires_at: i64,
}
