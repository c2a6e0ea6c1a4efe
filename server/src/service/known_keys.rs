//! API keys seen valid in the last moments, so a busy producer's requests do
//! not each cost a database read. Only valid keys are kept, so the map holds
//! at most the keys in use; a wrong key is looked up every time.

use domain::ids::ApiKeyId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a key found valid is taken as valid without asking the database:
/// a key revoked by this process stops at once (the map is cleared), one
/// revoked elsewhere (another instance, the CLI) within this long.
pub const RECHECK_AFTER: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct KnownKeys(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    /// Key hash → (key id, when the database last said it was valid).
    valid: HashMap<String, (ApiKeyId, Instant)>,
    /// Bumped by every revocation, so a lookup that began before it cannot
    /// bring the revoked key back.
    generation: u64,
}

/// A key that must be looked up; remembering it needs this ticket.
pub struct Lookup(u64);

impl KnownKeys {
    /// The id of the key with this hash if it was found valid recently, or
    /// else a ticket to remember what the database says.
    pub fn get(&self, key_hash: &str, now: Instant) -> Result<ApiKeyId, Lookup> {
        let inner = self.lock();
        match inner.valid.get(key_hash) {
            Some((id, checked)) if now.saturating_duration_since(*checked) < RECHECK_AFTER => {
                Ok(id.clone())
            }
            _ => Err(Lookup(inner.generation)),
        }
    }

    /// Notes that the database found the key valid, unless a key was
    /// revoked since the lookup began.
    pub fn remember(&self, lookup: Lookup, key_hash: String, id: ApiKeyId, now: Instant) {
        let mut inner = self.lock();
        if inner.generation != lookup.0 {
            return;
        }
        inner
            .valid
            .retain(|_, (_, checked)| now.saturating_duration_since(*checked) < RECHECK_AFTER);
        inner.valid.insert(key_hash, (id, now));
    }

    /// Forgets every key, so a revoked one is looked up again.
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.valid.clear();
        inner.generation += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered(keys: &KnownKeys, hash: &str, id: &str, at: Instant) {
        let lookup = keys.get(hash, at).expect_err("not known yet");
        keys.remember(lookup, hash.into(), id.into(), at);
    }

    #[test]
    fn a_key_is_taken_as_valid_only_until_it_is_due_a_recheck_or_forgotten() {
        let keys = KnownKeys::default();
        let start = Instant::now();
        remembered(&keys, "hash", "key-1", start);
        assert_eq!(
            keys.get("hash", start + RECHECK_AFTER / 2)
                .ok()
                .as_ref()
                .map(ApiKeyId::as_str),
            Some("key-1")
        );
        assert!(keys.get("hash", start + RECHECK_AFTER).is_err());
        remembered(&keys, "other", "key-2", start);
        keys.forget_all();
        assert!(keys.get("other", start).is_err());
    }

    #[test]
    fn a_lookup_that_began_before_a_revocation_is_not_remembered() {
        let keys = KnownKeys::default();
        let start = Instant::now();
        let lookup = keys.get("hash", start).expect_err("not known yet");
        keys.forget_all();
        keys.remember(lookup, "hash".into(), "key-1".into(), start);
        assert!(keys.get("hash", start).is_err());
    }

    #[test]
    fn stale_entries_leave_when_another_key_is_remembered() {
        let keys = KnownKeys::default();
        let start = Instant::now();
        remembered(&keys, "old", "key-1", start);
        remembered(&keys, "new", "key-2", start + RECHECK_AFTER);
        assert_eq!(keys.lock().valid.len(), 1);
    }
}
