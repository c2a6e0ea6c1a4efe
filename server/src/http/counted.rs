//! Things held open per key (connections per client address, live streams
//! per session), each counted until the guard it was given is dropped.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// What was refused: the key holds its limit, or all keys together do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Key,
    Total,
}

pub struct Counted<K: Hash + Eq + Clone>(Mutex<HashMap<K, usize>>);

impl<K: Hash + Eq + Clone> Default for Counted<K> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K: Hash + Eq + Clone> Counted<K> {
    /// Counts one more for `key` unless it holds `per_key` already, or all
    /// keys together hold `total`; counted until the guard is dropped.
    pub fn take(self: &Arc<Self>, key: K, per_key: usize, total: usize) -> Result<Held<K>, Full> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if open.values().sum::<usize>() >= total {
            return Err(Full::Total);
        }
        let count = open.entry(key.clone()).or_default();
        if *count >= per_key {
            return Err(Full::Key);
        }
        *count += 1;
        Ok(Held {
            counted: self.clone(),
            key,
        })
    }
}

/// One counted thing; dropping it frees its place.
pub struct Held<K: Hash + Eq + Clone> {
    counted: Arc<Counted<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Drop for Held<K> {
    fn drop(&mut self) {
        let mut open = self.counted.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_its_share_all_keys_the_total_and_a_drop_frees_a_place() {
        let counted = Arc::new(Counted::default());
        let first = counted.take("a", 2, 3).unwrap();
        let _second = counted.take("a", 2, 3).unwrap();
        assert_eq!(counted.take("a", 2, 3).err(), Some(Full::Key));
        let _b = counted.take("b", 2, 3).unwrap();
        assert_eq!(counted.take("c", 2, 3).err(), Some(Full::Total));
        drop(first);
        assert!(counted.take("a", 2, 3).is_ok());
    }
}
