//! Claimed deliveries waiting for a slot, and which attempts run: the
//! in-memory half of the per-hook limit. A claim may lease more of a hook's
//! deliveries than it may send at once (see `Store::claim_due`), so that the
//! next attempt starts as soon as one ends rather than after a claim's round
//! trip to the database; this decides which one starts.

use std::collections::{HashMap, VecDeque};

use crate::store::ClaimedDelivery;

pub struct Ready {
    per_hook: usize,
    max_running: usize,
    queues: HashMap<String, VecDeque<ClaimedDelivery>>,
    /// Hooks with queued deliveries, each taking its turn in order, so a
    /// hook with a long queue does not hold back the others.
    turns: VecDeque<String>,
    running: HashMap<String, usize>,
    total_running: usize,
}

impl Ready {
    pub fn new(per_hook: usize, max_running: usize) -> Ready {
        Ready {
            per_hook,
            max_running,
            queues: HashMap::new(),
            turns: VecDeque::new(),
            running: HashMap::new(),
            total_running: 0,
        }
    }

    /// Queues claimed deliveries, each after those of its hook already queued.
    pub fn push(&mut self, claimed: impl IntoIterator<Item = ClaimedDelivery>) {
        for delivery in claimed {
            let queue = self.queues.entry(delivery.hook_id.clone()).or_default();
            if queue.is_empty() {
                self.turns.push_back(delivery.hook_id.clone());
            }
            queue.push_back(delivery);
        }
    }

    /// The next delivery that may start now, counted as running until
    /// [`Ready::done`]: the first queued one of the first hook, in turn, with
    /// a free slot.
    pub fn next(&mut self) -> Option<ClaimedDelivery> {
        if self.total_running >= self.max_running {
            return None;
        }
        for _ in 0..self.turns.len() {
            let hook = self.turns.pop_front()?;
            let running = self.running.get(&hook).copied().unwrap_or(0);
            if running >= self.per_hook {
                self.turns.push_back(hook);
                continue;
            }
            let queue = self.queues.get_mut(&hook)?;
            let delivery = queue.pop_front()?;
            if queue.is_empty() {
                self.queues.remove(&hook);
            } else {
                self.turns.push_back(hook.clone());
            }
            *self.running.entry(hook).or_default() += 1;
            self.total_running += 1;
            return Some(delivery);
        }
        None
    }

    /// Every delivery that may start now (see [`Ready::next`]).
    pub fn startable(&mut self) -> Vec<ClaimedDelivery> {
        std::iter::from_fn(|| self.next()).collect()
    }

    /// An attempt of `hook_id` is over: its slot is free.
    pub fn done(&mut self, hook_id: &str) {
        if let Some(running) = self.running.get_mut(hook_id) {
            *running -= 1;
            if *running == 0 {
                self.running.remove(hook_id);
            }
            self.total_running -= 1;
        }
    }

    /// Takes every queued delivery of `hook_id` out (the hook was disabled).
    pub fn remove_hook(&mut self, hook_id: &str) -> Vec<ClaimedDelivery> {
        self.turns.retain(|hook| hook != hook_id);
        self.queues
            .remove(hook_id)
            .map(Vec::from)
            .unwrap_or_default()
    }

    pub fn running(&self) -> usize {
        self.total_running
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::hook::Headers;

    fn delivery(hook: &str, n: usize) -> ClaimedDelivery {
        ClaimedDelivery {
            id: format!("{hook}-{n}"),
            event_id: format!("e{n}"),
            hook_id: hook.to_owned(),
            attempt_count: 0,
            next_trigger: "auto".into(),
            event_name: "User.Created".into(),
            payload: "{}".into(),
            event_created_at: 0,
            hook_enabled: true,
            url: "http://example.com".into(),
            headers: Headers::default(),
            signing_key: "key".into(),
            previous_signing_key: None,
            previous_key_expires_at: None,
            lease_token: "t".into(),
            lease_expires_at: 0,
        }
    }

    fn ids(deliveries: &[ClaimedDelivery]) -> Vec<&str> {
        deliveries.iter().map(|d| d.id.as_str()).collect()
    }

    #[test]
    fn hooks_take_turns_within_their_limit() {
        let mut ready = Ready::new(2, 100);
        ready.push((0..4).map(|n| delivery("a", n)));
        ready.push((0..2).map(|n| delivery("b", n)));
        let started = ready.startable();
        assert_eq!(ids(&started), ["a-0", "b-0", "a-1", "b-1"]);
        assert_eq!(ready.running(), 4);

        // a's slot frees: its next queued delivery takes it, in order.
        ready.done("a");
        assert_eq!(ids(&ready.startable()), ["a-2"]);
        ready.done("b");
        assert!(ready.startable().is_empty(), "b has nothing queued");
        ready.done("a");
        assert_eq!(ids(&ready.startable()), ["a-3"]);
    }

    #[test]
    fn the_process_limit_holds_over_all_hooks() {
        let mut ready = Ready::new(10, 3);
        ready.push((0..5).map(|n| delivery("a", n)));
        assert_eq!(ready.startable().len(), 3);
        ready.done("a");
        assert_eq!(ids(&ready.startable()), ["a-3"]);
    }

    #[test]
    fn a_disabled_hook_leaves_the_queue() {
        let mut ready = Ready::new(1, 10);
        ready.push((0..3).map(|n| delivery("a", n)));
        ready.push([delivery("b", 0)]);
        assert_eq!(ids(&ready.startable()), ["a-0", "b-0"]);
        assert_eq!(ids(&ready.remove_hook("a")), ["a-1", "a-2"]);
        ready.done("a");
        assert!(ready.startable().is_empty());
    }
}
