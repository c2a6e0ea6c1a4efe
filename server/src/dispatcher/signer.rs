//! The request a receiver gets (README, "Verifying signatures"): the body's exact bytes and the
//! headers, signed with Logto's scheme and with Standard Webhooks.

use std::collections::HashMap;

use base64::Engine as _;
use domain::hook::{Headers, RESERVED_HEADERS};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

/// The body for one hook: Hookline's three fields, then the producer's fields
/// exactly as stored. `payload` is a JSON object (`{…}`) as the `events` table
/// keeps it.
pub fn body(hook_id: &str, event: &str, created_at_ms: i64, payload: &str) -> String {
    let created_at = chrono::DateTime::from_timestamp_millis(created_at_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
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

/// The keys a request is signed with: the current one and, during a
/// rotation's overlap, the previous one.
pub struct SigningKeys<'a> {
    pub current: &'a str,
    pub previous: Option<&'a str>,
}

fn hmac(key: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `logto-signature-sha-256`: lowercase hex HMAC-SHA256 of the body.
pub fn logto_signature(key: &str, body: &str) -> String {
    hex::encode(hmac(key, &[body.as_bytes()]))
}

/// One Standard Webhooks signature, `v1,<base64>` over `id.timestamp.body`.
pub fn standard_signature(key: &str, msg_id: &str, timestamp: i64, body: &str) -> String {
    let timestamp = timestamp.to_string();
    let mac = hmac(
        key,
        &[
            msg_id.as_bytes(),
            b".",
            timestamp.as_bytes(),
            b".",
            body.as_bytes(),
        ],
    );
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

/// The request headers, where a later one wins: Hookline's own
/// (`user-agent`, `content-type`), the hook's custom headers (which may
/// replace `user-agent` only), then the signatures (README, "Verifying
/// signatures").
pub fn request_headers(
    custom: &Headers,
    delivery_id: &str,
    timestamp: i64,
    body: &str,
    keys: &SigningKeys,
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
    let mut signatures = vec![standard_signature(
        keys.current,
        delivery_id,
        timestamp,
        body,
    )];
    if let Some(previous) = keys.previous {
        signatures.push(standard_signature(previous, delivery_id, timestamp, body));
    }
    headers.extend([
        (
            "logto-signature-sha-256".to_owned(),
            logto_signature(keys.current, body),
        ),
        ("webhook-id".to_owned(), delivery_id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), signatures.join(" ")),
    ]);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

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
            logto_signature("key", "The quick brown fox jumps over the lazy dog"),
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
        let headers = request_headers(
            &custom,
            "msg_1",
            1_700_000_000,
            "{}",
            &SigningKeys {
                current: "new",
                previous: Some("old"),
            },
        );
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
                standard_signature("new", "msg_1", 1_700_000_000, "{}"),
                standard_signature("old", "msg_1", 1_700_000_000, "{}")
            ]
        );
        assert_eq!(headers[3].1, logto_signature("new", "{}"));
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
        let keys = SigningKeys {
            current: "k",
            previous: None,
        };
        let headers = request_headers(&Headers(pairs), "msg_1", 1, "{}", &keys);
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
                standard_signature("k", "msg_1", 1, "{}")
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
        let headers = request_headers(&huge, "msg_1", 1, "{}", &keys);
        assert_eq!(headers.len(), 100_000 + 6);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
