//! Each hook's in-flight limit holds over all instances together, without a
//! lock between them: every live dispatcher takes its share of every hook's
//! limit, and keeps to it in memory (see `state.rs`).
//!
//! The shares come from the roster of live dispatchers in the database. Once a
//! beat each dispatcher says it is alive, and which set of dispatchers (its
//! *view*) it keeps to: it reports a view only once its attempts in flight fit
//! the shares of that view. A share shrinks as soon as a dispatcher sees a
//! newcomer, but grows (a newcomer's from nothing, the others' when one
//! leaves) only once every other live dispatcher reports the same view. So the
//! shares in use never add up to more than a hook's limit, even while
//! instances come and go; a newcomer starts sending after a beat or two.

use std::sync::Mutex;
use std::time::Duration;

use super::state::{HeldLease, State};
use crate::service::now_ms;
use crate::store::Store;

/// How often a dispatcher says it is alive and looks at who else is.
pub const BEAT: Duration = Duration::from_secs(1);

/// A dispatcher not heard from for this long has stopped (a crash, or a
/// process stuck for seconds): the others take its shares.
const ALIVE_FOR: Duration = Duration::from_secs(5);

/// One dispatcher's place among `of` live ones (`of == 0`: no place yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub index: usize,
    pub of: usize,
}

impl Place {
    /// How many of a hook's `limit` slots this place has. The `limit % of`
    /// slots that do not divide evenly go to different places for different
    /// hooks, so no instance is always the one with fewer.
    pub fn slots(&self, hook_id: &str, limit: usize) -> usize {
        if self.of == 0 {
            return 0;
        }
        let rank = (self.index + stable_hash(hook_id) as usize % self.of) % self.of;
        limit / self.of + usize::from(rank < limit % self.of)
    }
}

/// The same on every instance (unlike `std`'s seeded hashers): FNV-1a.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The places a dispatcher must keep to at once: while the others have not
/// all moved to its latest view, the smallest of its old and new shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shares(Vec<Place>);

impl Shares {
    /// No slots at all: a dispatcher that has not yet looked at the roster.
    pub fn none() -> Shares {
        Shares(vec![Place { index: 0, of: 0 }])
    }

    /// Every slot: a dispatcher alone.
    #[cfg(test)]
    pub fn alone() -> Shares {
        Shares(vec![Place { index: 0, of: 1 }])
    }

    /// How many of a hook's `limit` slots are this dispatcher's.
    pub fn slots(&self, hook_id: &str, limit: usize) -> usize {
        self.0
            .iter()
            .map(|place| place.slots(hook_id, limit))
            .min()
            .unwrap_or(0)
    }

    /// True when no hook has a slot (this dispatcher takes no work).
    pub fn is_none(&self) -> bool {
        self.0.iter().any(|place| place.of == 0)
    }

    fn and(&self, place: Place) -> Shares {
        let mut places = self.0.clone();
        if !places.contains(&place) {
            places.push(place);
        }
        Shares(places)
    }
}

/// This dispatcher's view of the roster.
pub struct Roster {
    owner: String,
    /// The live dispatchers as last seen, joined by commas, and this one's
    /// place among them.
    view: String,
    place: Place,
    /// The view this dispatcher last said it keeps to.
    reported: String,
    shares: Shares,
    /// When the database last heard this dispatcher's beat (unix ms).
    heard_at: Option<i64>,
}

impl Roster {
    pub fn new(owner: &str) -> Roster {
        Roster {
            owner: owner.to_owned(),
            view: String::new(),
            place: Place { index: 0, of: 0 },
            reported: String::new(),
            shares: Shares::none(),
            heard_at: None,
        }
    }

    /// One beat: looks at who is alive, sets `state`'s shares accordingly,
    /// and says this dispatcher is alive. Returns the leases of queued
    /// deliveries whose hooks this dispatcher no longer has a slot of, to be
    /// given back.
    pub async fn beat(&mut self, store: &Store, state: &Mutex<State>) -> Vec<HeldLease> {
        let now = now_ms();
        let mut given_back = Vec::new();
        match store
            .live_dispatchers(now - ALIVE_FOR.as_millis() as i64)
            .await
        {
            Ok(alive) => {
                let others: Vec<(&str, &str)> = alive
                    .iter()
                    .filter(|entry| entry.owner != self.owner)
                    .map(|entry| (entry.owner.as_str(), entry.view.as_str()))
                    .collect();
                self.look(&others);
                let mut state = state.lock().unwrap();
                given_back = state.set_shares(self.shares.clone());
                if state.fits(self.place) {
                    self.reported = self.view.clone();
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not read the dispatchers roster; keeping this dispatcher's shares")
            }
        }
        match store
            .dispatcher_beat(&self.owner, now, &self.reported)
            .await
        {
            Ok(()) => self.heard_at = Some(now),
            Err(err) => {
                tracing::warn!(error = %err, "could not tell the database this dispatcher is alive");
            }
        }
        // Unheard for nearly as long as the others wait before they take its
        // shares, a dispatcher takes none until it is heard again.
        let unheard_for = self.heard_at.map_or(i64::MAX, |at| now - at);
        if unheard_for >= (ALIVE_FOR - BEAT).as_millis() as i64 {
            self.shares = Shares::none();
            self.view.clear();
            given_back.extend(state.lock().unwrap().set_shares(Shares::none()));
        }
        given_back
    }

    /// Takes in the other live dispatchers and the views they report.
    fn look(&mut self, others: &[(&str, &str)]) {
        let mut owners: Vec<&str> = others.iter().map(|(owner, _)| *owner).collect();
        owners.push(&self.owner);
        owners.sort_unstable();
        let view = owners.join(",");
        if view != self.view {
            self.place = Place {
                index: owners.iter().position(|o| *o == self.owner).unwrap_or(0),
                of: owners.len(),
            };
            self.view = view;
        }
        let agreed = others.iter().all(|(_, view)| *view == self.view);
        self.shares = if agreed {
            Shares(vec![self.place])
        } else {
            self.shares.and(self.place)
        };
    }

    /// This dispatcher stops: the others need not wait to take its shares.
    pub async fn leave(&self, store: &Store) {
        if let Err(err) = store.dispatcher_gone(&self.owner).await {
            tracing::warn!(error = %err, "could not say this dispatcher stopped; its shares move once it is missed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_places_of_a_view_share_each_hook_limit_exactly() {
        for of in 1..=5 {
            for limit in [1, 3, 10] {
                for hook in ["a", "hook-2", "zzz"] {
                    let total: usize = (0..of)
                        .map(|index| Place { index, of }.slots(hook, limit))
                        .sum();
                    assert_eq!(total, limit, "{of} places, limit {limit}, hook {hook}");
                }
            }
        }
    }

    #[test]
    fn a_newcomer_takes_nothing_until_the_others_keep_to_its_view() {
        let mut newcomer = Roster::new("b");
        newcomer.look(&[("a", "a")]);
        assert_eq!(newcomer.shares.slots("h", 10), 0);
        // `a` has seen `b` and keeps to the view of both.
        newcomer.look(&[("a", "a,b")]);
        assert_eq!(newcomer.shares.slots("h", 10), 5);
    }

    #[test]
    fn a_share_shrinks_at_once_and_grows_only_once_all_agree() {
        let mut first = Roster::new("a");
        first.look(&[]);
        assert_eq!(first.shares.slots("h", 10), 10);
        // `b` arrives, not yet keeping to the view of both: `a` shrinks now.
        first.look(&[("b", "")]);
        assert_eq!(first.shares.slots("h", 10), 5);
        first.look(&[("b", "a,b")]);
        assert_eq!(first.shares.slots("h", 10), 5);
        // `c` arrives and `b` leaves; until `c` agrees, a keeps the smaller.
        first.look(&[("c", "")]);
        assert_eq!(first.shares, Shares(vec![Place { index: 0, of: 2 }]));
        first.look(&[("c", "a,c")]);
        assert_eq!(first.shares.slots("h", 10), 5);
        first.look(&[]);
        assert_eq!(first.shares.slots("h", 10), 10);
    }
}
