//! The request a receiver gets (README, "Verifying signatures"): the body's exact bytes and the
//! headers, signed with Logto's scheme and with Standard Webhooks.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use domain::hook::{Headers, RESERVED_HEADERS};
use domain::key_ring::{
    KeyRing, SignatureScheme, SigningKey, ED25519_PUBLIC_PREFIX, ED25519_SECRET_PREFIX,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

/// The body for one hook: Hookline's three fields, then the producer's fields
/// exactly as stored. `payload` is a JSON object (`{…}`) as the `events` table
/// keeps it.
pub fn body(hook_id: &str, event: &str, created_at_ms: i64, payload: &str) -> String {
    let created_at = crate::clock::rfc3339_ms(created_at_ms);
    let head = serde_json::json!({ "hookId": hook_id, "event": event, "createdAt": created_at });
    let head = head.to_string();
    let fields = payload.trim().trim_start_matches('{').trim_start();
    if fields.starts_with('}') {
        head
    } else {
        // `{"hookId":…,"createdAt":"…"` + `,` + the producer's `"a":1,…}`.
        format!("{},{fields}", &head[..head.len() - 1])
    }
}

/// The body for Slack's incoming webhooks, `{"text": …}`: the alert's
/// `text` field (README, "Alerts"), or the event's name for an event
/// without one (a test send).
pub fn slack_body(event: &str, payload: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|fields| fields.get("text")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("Hookline: {event}"));
    serde_json::json!({ "text": text }).to_string()
}

/// What a request's signatures cover: one attempt of one delivery.
pub struct Message<'a> {
    /// The delivery's id, the same on every retry.
    pub id: &'a str,
    /// When this attempt is sent (unix ms): the keys active then sign it,
    /// and its whole seconds are the signed timestamp.
    pub sent_at: i64,
    /// The body's exact bytes.
    pub body: &'a str,
}

impl Message<'_> {
    /// The signed timestamp, unix seconds.
    fn timestamp(&self) -> i64 {
        self.sent_at.div_euclid(1000)
    }
}

/// A signature scheme every request is signed with. A new scheme is a
/// variant, its place in [`SCHEMES`], an arm in [`Scheme::sign`], and its
/// header names in `domain::hook::RESERVED_HEADERS` (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Logto's: `logto-signature-sha-256`, lowercase hex HMAC-SHA256 of the
    /// body with the newest active HMAC key. An Ed25519 hook has none, so
    /// it sends no such header (Logto's scheme needs a secret the receiver
    /// holds, which is what Ed25519 avoids); while it switches from HMAC the
    /// old key signs it through the overlap.
    Logto,
    /// [Standard Webhooks](https://www.standardwebhooks.com): `webhook-id`,
    /// `webhook-timestamp` and `webhook-signature`, one signature for every
    /// active key (current first), space separated: `v1,<base64>` for an
    /// HMAC key, `v1a,<base64>` for an Ed25519 one.
    StandardWebhooks,
}

/// The schemes, in the order their headers follow the custom ones.
pub const SCHEMES: [Scheme; 2] = [Scheme::Logto, Scheme::StandardWebhooks];

impl Scheme {
    /// Appends this scheme's headers for `message` signed with `keys`.
    fn sign(self, keys: &KeyRing, message: &Message, headers: &mut Vec<(String, String)>) {
        match self {
            Scheme::Logto => {
                let newest_hmac = keys
                    .active(message.sent_at)
                    .find(|key| key.scheme() == SignatureScheme::Hmac);
                if let Some(key) = newest_hmac {
                    headers.push((
                        "logto-signature-sha-256".to_owned(),
                        logto_signature(key, message.body),
                    ));
                }
            }
            Scheme::StandardWebhooks => {
                let signatures: Vec<String> = keys
                    .active(message.sent_at)
                    .filter_map(|key| standard_signature(key, message))
                    .collect();
                headers.extend([
                    ("webhook-id".to_owned(), message.id.to_owned()),
                    (
                        "webhook-timestamp".to_owned(),
                        message.timestamp().to_string(),
                    ),
                    ("webhook-signature".to_owned(), signatures.join(" ")),
                ]);
            }
        }
    }
}

/// The signature headers of every scheme in [`SCHEMES`], in that order.
pub fn signature_headers(keys: &KeyRing, message: &Message) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(4);
    for scheme in SCHEMES {
        scheme.sign(keys, message, &mut headers);
    }
    headers
}

fn hmac(key: &SigningKey, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Logto's signature: lowercase hex HMAC-SHA256 of the body.
fn logto_signature(key: &SigningKey, body: &str) -> String {
    hex::encode(hmac(key, &[body.as_bytes()]))
}

/// One Standard Webhooks signature over `id.timestamp.body`: `v1,<base64>`
/// of its HMAC-SHA256, or `v1a,<base64>` of its Ed25519 signature. `None`
/// for an Ed25519 key that does not decode (never stored by Hookline).
fn standard_signature(key: &SigningKey, message: &Message) -> Option<String> {
    let timestamp = message.timestamp().to_string();
    let signed: [&[u8]; 5] = [
        message.id.as_bytes(),
        b".",
        timestamp.as_bytes(),
        b".",
        message.body.as_bytes(),
    ];
    let (version, signature) = match key.scheme() {
        SignatureScheme::Hmac => ("v1", hmac(key, &signed)),
        SignatureScheme::Ed25519 => {
            use ed25519_dalek::Signer as _;
            let signature = ed25519_key(key)?.sign(&signed.concat());
            ("v1a", signature.to_bytes().to_vec())
        }
    };
    Some(format!("{version},{}", BASE64.encode(signature)))
}

/// An Ed25519 key's signing half: the 32 bytes after `whsk_`.
fn ed25519_key(key: &SigningKey) -> Option<ed25519_dalek::SigningKey> {
    let encoded = key.expose().strip_prefix(ED25519_SECRET_PREFIX)?;
    let seed: [u8; 32] = BASE64.decode(encoded).ok()?.try_into().ok()?;
    Some(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// An Ed25519 key's public key as receivers configure it, `whpk_<base64>`;
/// `None` for an HMAC key.
pub fn ed25519_public_key(key: &SigningKey) -> Option<String> {
    let public = ed25519_key(key)?.verifying_key();
    Some(format!(
        "{ED25519_PUBLIC_PREFIX}{}",
        BASE64.encode(public.as_bytes())
    ))
}

/// A new Ed25519 secret key, `whsk_<base64 of 32 random bytes>`.
pub fn new_ed25519_key() -> SigningKey {
    let seed: [u8; 32] = rand::random();
    SigningKey::new(format!("{ED25519_SECRET_PREFIX}{}", BASE64.encode(seed)))
}

/// The request headers, where a later one wins: Hookline's own
/// (`user-agent`, `content-type`), the hook's custom headers (which may
/// replace `user-agent` only), then the signatures (README, "Verifying
/// signatures").
pub fn request_headers(
    custom: &Headers,
    keys: &KeyRing,
    message: &Message,
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(custom.0.len() + 6);
    headers.push(("user-agent".to_owned(), USER_AGENT.to_owned()));
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    // Where each name sits, so a repeated name (in any case) replaces the value
    // in place: linear in the number of headers, however many a stored hook has.
    let mut position: HashMap<String, usize> = HashMap::with_capacity(custom.0.len() + 2);
    position.insert("user-agent".to_owned(), 0);
    for (name, value) in &custom.0 {
        let name = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        match position.get(&name) {
            Some(&at) => headers[at].1 = value.clone(),
            None => {
                position.insert(name.clone(), headers.len());
                headers.push((name, value.clone()));
            }
        }
    }
    headers.extend(signature_headers(keys, message));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> SigningKey {
        SigningKey::new(secret.to_owned())
    }

    /// A message sent at `timestamp` (unix seconds).
    fn message(id: &'static str, timestamp: i64, body: &'static str) -> Message<'static> {
        Message {
            id,
            sent_at: timestamp * 1000,
            body,
        }
    }

    #[test]
    fn the_body_puts_hooklines_fields_first_and_keeps_the_producers_bytes() {
        let body = body(
            "h1",
            "User.Created",
            0,
            r#"{"data":{"id":"u1", "n":1.50},"z":[]}"#,
        );
        assert_eq!(
            body,
            r#"{"hookId":"h1","event":"User.Created","createdAt":"1970-01-01T00:00:00.000Z","data":{"id":"u1", "n":1.50},"z":[]}"#
        );
        assert_eq!(
            super::body("h1", "PostSignIn", 1_767_225_600_123, "{}"),
            r#"{"hookId":"h1","event":"PostSignIn","createdAt":"2026-01-01T00:00:00.123Z"}"#
        );
    }

    #[test]
    fn logto_signature_matches_a_known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            logto_signature(&key("key"), "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn custom_headers_may_replace_the_user_agent_but_not_the_signatures() {
        let custom = Headers(vec![
            ("User-Agent".into(), "Acme".into()),
            ("X-Tenant".into(), "t1".into()),
            ("webhook-id".into(), "forged".into()),
        ]);
        let keys = KeyRing::from_parts(key("new"), Some(key("old")), Some(i64::MAX));
        let sent = message("msg_1", 1_700_000_000, "{}");
        let headers = request_headers(&custom, &keys, &sent);
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "user-agent",
                "content-type",
                "x-tenant",
                "logto-signature-sha-256",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
        assert_eq!(headers[0].1, "Acme");
        assert_eq!(headers[4].1, "msg_1");
        let signatures: Vec<&str> = headers[6].1.split(' ').collect();
        assert_eq!(
            signatures,
            [
                standard_signature(&key("new"), &sent).unwrap(),
                standard_signature(&key("old"), &sent).unwrap()
            ]
        );
        assert_eq!(headers[3].1, logto_signature(&key("new"), "{}"));
    }

    #[test]
    fn many_custom_headers_keep_the_precedence_linearly() {
        // 50 headers, each name given twice in different cases: the later value
        // wins, in the place of the first; reserved names are dropped wherever
        // they come; `user-agent` is replaced in its own place.
        let mut pairs = Vec::new();
        for i in 0..25 {
            pairs.push((format!("X-Header-{i}"), format!("first {i}")));
        }
        pairs.push(("Content-Type".into(), "text/plain".into()));
        pairs.push(("USER-AGENT".into(), "Acme/1".into()));
        for i in 0..25 {
            pairs.push((format!("x-HEADER-{i}"), format!("second {i}")));
        }
        pairs.push(("Webhook-Signature".into(), "forged".into()));
        pairs.push(("user-agent".into(), "Acme/2".into()));
        let keys = KeyRing::new(key("k"));
        let sent = message("msg_1", 1, "{}");
        let headers = request_headers(&Headers(pairs), &keys, &sent);
        assert_eq!(headers.len(), 2 + 25 + 4);
        assert_eq!(headers[0], ("user-agent".into(), "Acme/2".into()));
        assert_eq!(
            headers[1],
            ("content-type".into(), "application/json".into())
        );
        for i in 0..25 {
            assert_eq!(
                headers[2 + i],
                (format!("x-header-{i}"), format!("second {i}"))
            );
        }
        assert_eq!(headers[27].0, "logto-signature-sha-256");
        assert_eq!(
            headers[30],
            (
                "webhook-signature".into(),
                standard_signature(&key("k"), &sent).unwrap()
            )
        );

        // A stored hook from before the limit, with 100,000 headers, is built
        // in linear time (the list scan took tens of seconds).
        let huge = Headers(
            (0..100_000)
                .map(|i| (format!("X-{i}"), "v".to_owned()))
                .collect(),
        );
        let started = std::time::Instant::now();
        let headers = request_headers(&huge, &keys, &sent);
        assert_eq!(headers.len(), 100_000 + 6);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn the_previous_key_stops_signing_when_its_overlap_ends() {
        // Rotated with the old key good until t = 1,000,000 ms.
        let keys = KeyRing::from_parts(key("new"), Some(key("old")), Some(1_000_000));
        let signatures = |sent_at| {
            let sent = Message {
                id: "msg_1",
                sent_at,
                body: "{}",
            };
            let headers = signature_headers(&keys, &sent);
            let (name, value) = &headers[3];
            assert_eq!(name, "webhook-signature");
            assert_eq!(headers[0].1, logto_signature(&key("new"), "{}"));
            let expected = |secret| standard_signature(&key(secret), &sent).unwrap();
            (value.clone(), [expected("new"), expected("old")])
        };
        let (during, [new, old]) = signatures(999_999);
        assert_eq!(during, format!("{new} {old}"));
        let (after, [new, _]) = signatures(1_000_000);
        assert_eq!(after, new);
    }

    #[test]
    fn a_standard_webhooks_signature_matches_a_known_vector() {
        // HMAC-SHA256("key", "msg_1.1700000000.{}"), base64.
        let sent = message("msg_1", 1_700_000_000, "{}");
        assert_eq!(
            standard_signature(&key("key"), &sent).unwrap(),
            "v1,XaXLFEFQ69Q4+demDWPEv5ydXczDW2mM5crCUEFcFBA="
        );
    }

    /// RFC 8032's first test key, as `whsk_`.
    fn rfc8032_key() -> SigningKey {
        let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
        SigningKey::new(format!("whsk_{}", BASE64.encode(seed)))
    }

    #[test]
    fn an_ed25519_key_signs_v1a_that_its_public_key_verifies() {
        use ed25519_dalek::Verifier as _;
        let secret = rfc8032_key();
        // RFC 8032's public key for that secret.
        let public = ed25519_public_key(&secret).unwrap();
        let expected =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap();
        assert_eq!(public, format!("whpk_{}", BASE64.encode(&expected)));
        assert_eq!(ed25519_public_key(&key("an hmac secret")), None);

        let sent = message("msg_1", 1_700_000_000, r#"{"a":1}"#);
        let signature = standard_signature(&secret, &sent).unwrap();
        let bytes: [u8; 64] = BASE64
            .decode(signature.strip_prefix("v1a,").unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let verifier =
            ed25519_dalek::VerifyingKey::from_bytes(&expected.try_into().unwrap()).unwrap();
        let signed = br#"msg_1.1700000000.{"a":1}"#;
        assert!(verifier
            .verify(signed, &ed25519_dalek::Signature::from_bytes(&bytes))
            .is_ok());
        assert!(verifier
            .verify(
                b"msg_1.1700000001.{}",
                &ed25519_dalek::Signature::from_bytes(&bytes)
            )
            .is_err());
        // Fresh keys differ and have a public key.
        let (a, b) = (new_ed25519_key(), new_ed25519_key());
        assert_ne!(a, b);
        assert_eq!(a.scheme(), SignatureScheme::Ed25519);
        assert!(ed25519_public_key(&a).is_some());
    }

    #[test]
    fn switching_from_hmac_to_ed25519_signs_with_both_through_the_overlap() {
        let keys = KeyRing::from_parts(rfc8032_key(), Some(key("old")), Some(1_000_000));
        let at = |sent_at| {
            let sent = Message {
                id: "msg_1",
                sent_at,
                body: "{}",
            };
            signature_headers(&keys, &sent)
        };
        let during = at(999_999);
        // Logto's header from the HMAC key while it lasts.
        assert_eq!(
            during[0],
            (
                "logto-signature-sha-256".into(),
                logto_signature(&key("old"), "{}")
            )
        );
        let signatures: Vec<&str> = during[3].1.split(' ').collect();
        assert!(
            signatures[0].starts_with("v1a,") && signatures[1].starts_with("v1,"),
            "{signatures:?}"
        );
        // After it, no shared secret is left: no Logto header, one v1a.
        let after = at(1_000_000);
        let names: Vec<&str> = after.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        assert!(after[2].1.starts_with("v1a,") && !after[2].1.contains(' '));
    }

    #[test]
    fn every_signature_header_is_reserved() {
        // So a hook can neither set nor forge one, whatever the scheme.
        let keys = KeyRing::new(key("k"));
        let headers = signature_headers(&keys, &message("msg_1", 1, "{}"));
        assert!(!headers.is_empty());
        for (name, _) in &headers {
            assert!(RESERVED_HEADERS.contains(&name.as_str()), "{name}");
        }
    }
}
