//! A hook's signing keys: the current one and, for a while after a rotation,
//! the one before it, so receivers can switch over without dropping requests.
//! Each key has its scheme: a shared HMAC secret, or an Ed25519 secret key
//! (`whsk_…`), whose public key (`whpk_…`) receivers verify with.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The prefix of an Ed25519 secret key, then the base64 of its 32 bytes
/// (Standard Webhooks).
pub const ED25519_SECRET_PREFIX: &str = "whsk_";
/// The prefix of an Ed25519 public key, then the base64 of its 32 bytes.
pub const ED25519_PUBLIC_PREFIX: &str = "whpk_";

/// How a hook's requests are signed (README, "Verifying signatures").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureScheme {
    /// A shared secret: Logto's `logto-signature-sha-256` and Standard
    /// Webhooks `v1` (HMAC-SHA256).
    #[default]
    Hmac,
    /// Standard Webhooks `v1a`: receivers hold only the public key, which
    /// cannot sign.
    Ed25519,
}

impl SignatureScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hmac => "hmac",
            Self::Ed25519 => "ed25519",
        }
    }
}

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

    /// The scheme this key signs with: an Ed25519 key is stored with its
    /// `whsk_` prefix, an HMAC secret as it is.
    pub fn scheme(&self) -> SignatureScheme {
        if self.0.starts_with(ED25519_SECRET_PREFIX) {
            SignatureScheme::Ed25519
        } else {
            SignatureScheme::Hmac
        }
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
    fn a_key_says_its_scheme_by_its_prefix() {
        assert_eq!(key("abc").scheme(), SignatureScheme::Hmac);
        assert_eq!(key("whsk_AAAA").scheme(), SignatureScheme::Ed25519);
        assert_eq!(
            serde_json::to_string(&SignatureScheme::Ed25519).unwrap(),
            "\"ed25519\""
        );
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
