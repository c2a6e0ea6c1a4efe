//! Random secrets and how they are kept: passwords with argon2, high-entropy
//! tokens (sessions, API keys) as SHA-256, signing keys as they are.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use domain::key_ring::{SignatureScheme, SigningKey};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};

/// `len` characters of `[0-9A-Za-z]` from `rand`'s thread-local CSPRNG
/// (ChaCha, seeded and reseeded from the operating system): as unpredictable
/// as asking the OS, without a system call per character.
pub fn random_alphanumeric(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

/// A hook's signing key (README, "Verifying signatures"): for HMAC, 32
/// characters of `[0-9A-Za-z]`, used as their UTF-8 bytes; for Ed25519, a
/// `whsk_` secret key.
pub fn new_signing_key(scheme: SignatureScheme) -> SigningKey {
    match scheme {
        SignatureScheme::Hmac => SigningKey::new(random_alphanumeric(32)),
        SignatureScheme::Ed25519 => crate::dispatcher::signer::new_ed25519_key(),
    }
}

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_signing_keys_are_32_alphanumerics_and_differ() {
        let a = new_signing_key(SignatureScheme::Hmac);
        assert_eq!(a.expose().len(), 32);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, new_signing_key(SignatureScheme::Hmac));
        let ed25519 = new_signing_key(SignatureScheme::Ed25519);
        assert_eq!(ed25519.scheme(), SignatureScheme::Ed25519);
    }

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
