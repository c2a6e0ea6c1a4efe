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

use super::shares::{Place, Shares};
use super::state::{HeldLease, State};
use crate::clock::Clock;
use crate::store::Store;

/// How often a dispatcher says it is alive and looks at who else is.
pub const BEAT: Duration = Duration::from_secs(1);

/// A dispatcher not heard from for this long has stopped (a crash, or a
/// process stuck for seconds): the others take its shares.
pub(crate) const ALIVE_FOR: Duration = Duration::from_secs(5);

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
    clock: Clock,
}

impl Roster {
    pub fn new(owner: &str, clock: Clock) -> Roster {
        Roster {
            owner: owner.to_owned(),
            view: String::new(),
            place: Place { index: 0, of: 0 },
            reported: String::new(),
            shares: Shares::none(),
            heard_at: None,
            clock,
        }
    }

    /// One beat: looks at who is alive, sets `state`'s shares accordingly,
    /// and says this dispatcher is alive. Returns the leases of queued
    /// deliveries whose hooks this dispatcher no longer has a slot of, to be
    /// given back.
    pub async fn beat(&mut self, store: &Store, state: &Mutex<State>) -> Vec<HeldLease> {
        let now = self.clock.now_ms();
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
        let sending = state.lock().unwrap().sending();
        match store
            .dispatcher_beat(&self.owner, now, &self.reported, sending)
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
            Shares::of(self.place)
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
    use crate::dispatcher::fair::Limits;
    use domain::ids::HookId;
    use std::time::Duration;

    fn state() -> Mutex<State> {
        let limits = Limits {
            per_hook: 10,
            max_sending: 10,
            reserve: 10,
            max_queued: 10,
            max_queued_per_hook: 10,
            max_queued_bytes: 1 << 20,
        };
        let defaults = crate::dispatcher::policy::HookDefaults::new(
            "1s".parse().unwrap(),
            Duration::from_secs(1),
            Duration::from_secs(5),
        );
        Mutex::new(State::new(limits, defaults, Duration::from_secs(1)))
    }

    #[tokio::test]
    async fn a_dispatcher_not_heard_for_a_while_is_left_out_of_the_view() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("roster.db").display());
        let store = Store::connect(&url).await.unwrap();
        let clock = Clock::manual(1_000_000);
        let (mut a, mut b) = (
            Roster::new("a", clock.clone()),
            Roster::new("b", clock.clone()),
        );
        let (state_a, state_b) = (state(), state());
        a.beat(&store, &state_a).await;
        b.beat(&store, &state_b).await;
        assert_eq!(
            (b.view.as_str(), b.place),
            ("a,b", Place { index: 1, of: 2 })
        );

        // `a` stops beating; just before `ALIVE_FOR` it still counts.
        clock.advance(ALIVE_FOR - Duration::from_millis(1));
        b.beat(&store, &state_b).await;
        assert_eq!(b.view, "a,b");
        clock.advance(Duration::from_millis(2));
        b.beat(&store, &state_b).await;
        assert_eq!((b.view.as_str(), b.place), ("b", Place { index: 0, of: 1 }));
        assert_eq!(b.shares.slots(&HookId::from("h"), 10), 10);
    }

    #[test]
    fn a_newcomer_takes_nothing_until_the_others_keep_to_its_view() {
        let mut newcomer = Roster::new("b", Clock::system());
        newcomer.look(&[("a", "a")]);
        assert_eq!(newcomer.shares.slots(&HookId::from("h"), 10), 0);
        // `a` has seen `b` and keeps to the view of both.
        newcomer.look(&[("a", "a,b")]);
        assert_eq!(newcomer.shares.slots(&HookId::from("h"), 10), 5);
    }

    #[test]
    fn a_share_shrinks_at_once_and_grows_only_once_all_agree() {
        let mut first = Roster::new("a", Clock::system());
        first.look(&[]);
        assert_eq!(first.shares.slots(&HookId::from("h"), 10), 10);
        // `b` arrives, not yet keeping to the view of both: `a` shrinks now.
        first.look(&[("b", "")]);
        assert_eq!(first.shares.slots(&HookId::from("h"), 10), 5);
        first.look(&[("b", "a,b")]);
        assert_eq!(first.shares.slots(&HookId::from("h"), 10), 5);
        // `c` arrives and `b` leaves; until `c` agrees, a keeps the smaller.
        first.look(&[("c", "")]);
        assert_eq!(first.shares, Shares::of(Place { index: 0, of: 2 }));
        first.look(&[("c", "a,c")]);
        assert_eq!(first.shares.slots(&HookId::from("h"), 10), 5);
        first.look(&[]);
        assert_eq!(first.shares.slots(&HookId::from("h"), 10), 10);
    }
}
