//! A hook's signing keys: the current one and, for a while after a rotation,
//! the one before it, so receivers can switch over without dropping requests.

use std::fmt;

/// A secret a hook's requests are signed with. Its `Debug` hides it, so it
/// never reaches a log by accident; `expose` says where it is used.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(String);

impl SigningKey {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret itself: for signing, storing, and showing an admin.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(••••)")
    }
}

/// The keys a hook signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRing {
    current: SigningKey,
    /// The key before the last rotation and when it stops being used (unix ms).
    previous: Option<(SigningKey, i64)>,
}

impl KeyRing {
    /// A ring of one key, as a new hook has.
    pub fn new(current: SigningKey) -> Self {
        Self {
            current,
            previous: None,
        }
    }

    /// A ring as stored: the previous key counts only with its expiry.
    pub fn from_parts(
        current: SigningKey,
        previous: Option<SigningKey>,
        previous_expires_at: Option<i64>,
    ) -> Self {
        Self {
            current,
            previous: previous.zip(previous_expires_at),
        }
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// The previous key and when it stops signing (unix ms), as stored.
    pub fn previous(&self) -> Option<(&SigningKey, i64)> {
        self.previous
            .as_ref()
            .map(|(key, expires_at)| (key, *expires_at))
    }

    /// The keys to sign with at `now` (unix ms): the current one first, then
    /// the previous one while its overlap lasts.
    pub fn active(&self, now: i64) -> impl Iterator<Item = &SigningKey> {
        let previous = self
            .previous
            .as_ref()
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(key, _)| key);
        std::iter::once(&self.current).chain(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> SigningKey {
        SigningKey::new(secret.to_owned())
    }

    #[test]
    fn the_previous_key_signs_only_until_it_expires() {
        let ring = KeyRing::from_parts(key("new"), Some(key("old")), Some(1_000));
        let at = |now| ring.active(now).map(SigningKey::expose).collect::<Vec<_>>();
        assert_eq!(at(999), ["new", "old"]);
        assert_eq!(at(1_000), ["new"]);
        // A previous key without an expiry is not used.
        let ring = KeyRing::from_parts(key("new"), Some(key("old")), None);
        assert_eq!(ring.active(0).count(), 1);
    }

    #[test]
    fn a_key_never_shows_in_debug_output() {
        let ring = KeyRing::from_parts(key("s3cret"), Some(key("0ld")), Some(1));
        let printed = format!("{ring:?}");
        assert!(
            !printed.contains("s3cret") && !printed.contains("0ld"),
            "{printed}"
        );
    }
}
