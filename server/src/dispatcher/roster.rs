//! Which hooks this dispatcher serves. It tells the database it is alive once
//! a beat, and takes its share of the hooks among the dispatchers alive (see
//! `Store::claim_due`): a hook with a backlog stays with the instance whose
//! share it is, and when an instance stops, the others share its hooks from
//! their next look.

use std::time::{Duration, Instant};

use crate::service::now_ms;
use crate::store::{Share, Store};

/// How often a dispatcher says it is alive and looks at who else is.
const BEAT: Duration = Duration::from_secs(1);

/// A dispatcher not heard from for this long has stopped (a crash, or a
/// process stuck for seconds): the others take its hooks.
const ALIVE_FOR: Duration = Duration::from_secs(5);

pub struct Roster {
    owner: String,
    share: Share,
    looked_at: Option<Instant>,
}

impl Roster {
    pub fn new(owner: &str) -> Roster {
        Roster {
            owner: owner.to_owned(),
            share: Share::ALL,
            looked_at: None,
        }
    }

    /// This dispatcher's share of the hooks, looking again once a beat.
    pub async fn share(&mut self, store: &Store) -> Share {
        if self.looked_at.is_some_and(|at| at.elapsed() < BEAT) {
            return self.share;
        }
        let now = now_ms();
        let since = now - ALIVE_FOR.as_millis() as i64;
        match store.dispatcher_alive(&self.owner, now, since).await {
            Ok(alive) => self.share = Share::among(&alive, &self.owner),
            Err(err) => {
                tracing::warn!(error = %err, "could not tell the database this dispatcher is alive; keeping its share of the hooks")
            }
        }
        self.looked_at = Some(Instant::now());
        self.share
    }

    /// This dispatcher stops: the others need not wait to take its hooks.
    pub async fn leave(&self, store: &Store) {
        if let Err(err) = store.dispatcher_gone(&self.owner).await {
            tracing::warn!(error = %err, "could not say this dispatcher stopped; its hooks move once it is missed");
        }
    }
}
