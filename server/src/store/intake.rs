//! Fresh deliveries, handed from ingestion straight to this process's
//! dispatcher. Ingestion leases a new delivery to the dispatcher in the same
//! transaction that stores it, if the dispatcher has room for it, and hands it
//! over with its event and hook once the transaction has committed: the
//! dispatcher sends it with no claim and no read. A delivery the dispatcher
//! has no room for is stored without a lease, for a claim to take.

use domain::ids::{DeliveryId, HookId};
use std::sync::Arc;

use super::hooks::HookTarget;
use super::leased::{EventToSend, LeasedDelivery};
use domain::delivery::Trigger;

/// The lease fresh deliveries are stored under.
#[derive(Debug, Clone)]
pub struct LeaseTerms {
    pub owner: Arc<str>,
    pub token: Arc<str>,
    pub expires_at: i64,
}

/// Where ingestion finds the intake, once the dispatcher has started.
pub(super) type SharedIntake = Arc<std::sync::RwLock<Option<Arc<dyn Intake>>>>;

/// Room kept for one fresh delivery: its hook and the bytes of its event.
pub type Reservation = (HookId, usize);

/// What takes fresh deliveries: the local dispatcher.
pub trait Intake: Send + Sync {
    /// The lease for deliveries stored now; `None` while the dispatcher
    /// takes none (it is stopping, or not yet sure of its shares).
    fn lease_terms(&self) -> Option<LeaseTerms>;
    /// Keeps room for one more delivery of `hook_id` whose event is `bytes`
    /// long; false if there is none.
    fn reserve(&self, hook_id: &HookId, bytes: usize) -> bool;
    /// The transaction failed: the room kept is given back.
    fn cancel(&self, reserved: &[Reservation]);
    /// The transaction committed: these deliveries, leased, are the
    /// dispatcher's.
    fn hand_off(&self, fresh: Vec<LeasedDelivery>);
    /// Deliveries were stored without a lease, for a claim to take.
    fn overflowed(&self);
}

/// The leases one ingestion transaction takes, handed over or given back at
/// its end.
pub(super) struct Leasing<'a> {
    intake: Option<&'a dyn Intake>,
    terms: Option<LeaseTerms>,
    reserved: Vec<Reservation>,
    fresh: Vec<LeasedDelivery>,
    unleased: usize,
}

impl<'a> Leasing<'a> {
    pub(super) fn new(intake: Option<&'a dyn Intake>) -> Leasing<'a> {
        Leasing {
            terms: intake.and_then(|intake| intake.lease_terms()),
            intake,
            reserved: Vec::new(),
            fresh: Vec::new(),
            unleased: 0,
        }
    }

    /// The lease delivery `id` of `event` to `hook` is stored under, if the
    /// dispatcher has room for it.
    pub(super) fn lease(
        &mut self,
        id: &DeliveryId,
        event: &Arc<EventToSend>,
        hook: &Arc<HookTarget>,
    ) -> Option<&LeaseTerms> {
        let (Some(intake), Some(terms)) = (self.intake, &self.terms) else {
            self.unleased += 1;
            return None;
        };
        if hook.policy.ordered {
            // Its turn comes only after the hook's earlier deliveries: the
            // claim, which sees them all, knows when.
            self.unleased += 1;
            return None;
        }
        let bytes = event.payload.len();
        if !intake.reserve(&hook.id, bytes) {
            self.unleased += 1;
            return None;
        }
        self.reserved.push((hook.id.clone(), bytes));
        self.fresh.push(LeasedDelivery {
            id: id.to_owned(),
            event: event.clone(),
            hook: hook.clone(),
            attempt_count: 0,
            trigger: Trigger::Auto,
            lease_token: terms.token.clone(),
            lease_expires_at: terms.expires_at,
        });
        Some(terms)
    }

    /// The transaction committed. (A `Leasing` dropped without this gives
    /// back the room it kept: the transaction failed.)
    pub(super) fn committed(mut self) {
        let Some(intake) = self.intake else {
            return;
        };
        self.reserved.clear();
        let fresh = std::mem::take(&mut self.fresh);
        if !fresh.is_empty() {
            intake.hand_off(fresh);
        }
        if self.unleased > 0 {
            intake.overflowed();
        }
    }
}

impl Drop for Leasing<'_> {
    fn drop(&mut self) {
        if let Some(intake) = self.intake {
            if !self.reserved.is_empty() {
                intake.cancel(&self.reserved);
            }
        }
    }
}
