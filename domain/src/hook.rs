//! Hooks in Logto's Management API shape, and the rules every hook obeys.

use serde::{Deserialize, Serialize};

use super::catalog::find_event;
use super::{AppError, Valid};
use crate::filter::Filter;
use crate::ids::HookId;
use crate::key_ring::SignatureScheme;
use crate::policy::{present_or_null, DeliveryPolicy, PolicyPatch};

pub const NAME_MAX_CHARS: usize = 256;
pub const URL_MAX_CHARS: usize = 2048;
/// At most this many custom headers per hook.
pub const HEADERS_MAX_COUNT: usize = 50;
/// At most this many bytes across a hook's custom headers: every name and
/// value, as stored (trimmed), added up.
pub const HEADERS_MAX_BYTES: usize = 8 * 1024;

/// Header names a hook may not set: the body's framing and type, hop-by-hop
/// headers, and the signature headers receivers rely on. Of Hookline's own
/// headers only `user-agent` may be overridden (README, "Verifying signatures").
pub const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "logto-signature-sha-256",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// A hook as the API returns it (Logto's field names).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    pub id: HookId,
    pub name: String,
    pub events: Vec<String>,
    pub config: HookConfig,
    /// `hmac` or `ed25519` (README, "Verifying signatures").
    pub signature_scheme: SignatureScheme,
    /// An HMAC hook's shared secret (masked for viewers). An Ed25519 hook's
    /// `whsk_` secret key is here only in the answers to create and rotate,
    /// and only to admins: receivers need just `publicKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
    /// An Ed25519 hook's `whpk_` public key, which receivers verify with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    pub enabled: bool,
    /// Why the hook was switched off, when Hookline did it (e.g. `410 Gone`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub disabled_reason: Option<String>,
    /// Only events whose body matches are delivered (README, *Payload
    /// filters*); `null` for every event of the types picked.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<Object>))]
    pub filter: Option<Filter>,
    /// Ordering, rate limit, retry schedule and timeout (README, *Delivery
    /// policies*).
    #[serde(flatten)]
    pub policy: DeliveryPolicy,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_stats: Option<ExecutionStats>,
}

impl Hook {
    /// An HMAC hook's signing key in Standard Webhooks' `whsec_<base64>`
    /// form, when the answer carries it.
    pub fn whsec(&self) -> Option<String> {
        (self.signature_scheme == SignatureScheme::Hmac)
            .then_some(self.signing_key.as_deref())
            .flatten()
            .map(whsec)
    }
}

/// `whsec_` followed by the base64 of the key's bytes (Standard Webhooks).
pub fn whsec(signing_key: &str) -> String {
    use base64::Engine as _;
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(signing_key.as_bytes())
    )
}

/// How a hook's last 24 hours read in the console: its colour band by
/// success rate (README, "Console").
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Disabled: it gets no deliveries.
    NotInUse,
    NoRequests,
    /// Success percentage, with its band.
    Rate(f64, Band),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Below 90 %.
    Red,
    /// Below 99 %.
    Amber,
    Green,
}

impl Hook {
    pub fn health(&self) -> Health {
        Health::of(self.enabled, self.execution_stats.unwrap_or_default())
    }
}

impl Health {
    /// How `stats` read for a hook (or all hooks) that is `enabled`.
    pub fn of(enabled: bool, stats: ExecutionStats) -> Health {
        if !enabled {
            Health::NotInUse
        } else if stats.request_count == 0 {
            Health::NoRequests
        } else {
            let rate = 100.0 * stats.success_count as f64 / stats.request_count as f64;
            let band = if rate < 90.0 {
                Band::Red
            } else if rate < 99.0 {
                Band::Amber
            } else {
                Band::Green
            };
            Health::Rate(rate, band)
        }
    }
}

/// Requests and successes over the last 24 hours.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionStats {
    pub request_count: i64,
    pub success_count: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookConfig {
    /// An absolute `http`/`https` URL with a host.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 2048, example = "http://127.0.0.1:9/hook")
    )]
    pub url: String,
    /// Custom request headers: names to values; at most 50, with 8 KiB of
    /// names and values in all.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<std::collections::HashMap<String, String>>,
            example = json!({"X-Tenant": "acme"})
        )
    )]
    pub headers: Headers,
}

/// Custom request headers in the order they were given. A JSON object on the
/// wire; kept as a list so duplicate keys are seen and refused, not silently merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Headers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of header names to string values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Headers, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(Headers(pairs))
            }
            fn visit_unit<E>(self) -> Result<Headers, E> {
                Ok(Headers::default())
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `POST /api/hooks` and the console's create form.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewHook {
    /// 1 to 256 characters (trimmed).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 256, example = "CRM sync")
    )]
    pub name: String,
    /// Event types from the catalog, built-in or custom; at least one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, example = json!(["User.Created", "PostRegister"])))]
    pub events: Vec<String>,
    pub config: HookConfig,
    /// Enabled unless `false`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = true))]
    pub enabled: Option<bool>,
    /// A payload filter (README, *Payload filters*); none (`null`) delivers
    /// every event of the types picked.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filter: Option<Filter>,
    /// Ordering, rate limit, retry schedule and timeout; each left out is
    /// the default (unordered, unlimited, the server's schedule and timeout).
    #[serde(flatten)]
    pub policy: DeliveryPolicy,
    /// `hmac` unless `ed25519` is asked for.
    #[serde(default, rename = "signatureScheme")]
    pub signature_scheme: Option<SignatureScheme>,
}

/// `PATCH /api/hooks/:id`: every field optional; `config` replaces the whole
/// config, as Logto does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookPatch {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 256, example = "CRM sync (EU)")
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, example = json!(["User.Created"])))]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub config: Option<HookConfig>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = false))]
    pub enabled: Option<bool>,
    /// A new payload filter; `null` removes the hook's filter, and leaving the
    /// field out keeps it (`None` is left out when serialised).
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filter: Option<Option<Filter>>,
    #[serde(flatten)]
    pub policy: PolicyPatch,
    /// Another scheme: a new key of that scheme, as a rotation makes (the
    /// old key keeps signing through the overlap window, so receivers can
    /// switch); the answer carries the new key. The same scheme changes
    /// nothing.
    #[serde(
        default,
        rename = "signatureScheme",
        skip_serializing_if = "Option::is_none"
    )]
    pub signature_scheme: Option<SignatureScheme>,
}

/// A hook's name: trimmed, 1–256 characters.
pub fn validate_name(name: &str) -> Result<String, AppError> {
    super::required_text("name", name, NAME_MAX_CHARS)
}

/// Event names: at least one, each built in or one of the `custom` types,
/// duplicates dropped (first kept).
pub fn validate_events(events: &[String], custom: &[String]) -> Result<Vec<String>, AppError> {
    let mut kept: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        if find_event(event).is_none() && !custom.contains(event) {
            return Err(AppError::invalid(
                "events",
                format!("unknown event `{event}`"),
            ));
        }
        if !kept.contains(event) {
            kept.push(event.clone());
        }
    }
    if kept.is_empty() {
        return Err(AppError::invalid("events", "choose at least one event"));
    }
    Ok(kept)
}

/// An absolute `http`/`https` URL with a host. Where it may point is checked at
/// connect time, after DNS resolution, not here.
pub fn validate_url(raw: &str) -> Result<String, AppError> {
    validate_url_field("config.url", raw)
}

/// [`validate_url`], naming `field` when it is refused.
pub fn validate_url_field(field: &str, raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid(field, "endpoint URL must not be empty"));
    }
    // The URL parser would silently drop these; refuse them rather than store them.
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid(
            field,
            "endpoint URL must not contain spaces or control characters",
        ));
    }
    if raw.chars().count() > URL_MAX_CHARS {
        return Err(AppError::invalid(
            field,
            format!("endpoint URL must be at most {URL_MAX_CHARS} characters"),
        ));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| AppError::invalid(field, format!("endpoint URL is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::invalid(
            field,
            "endpoint URL must start with http:// or https://",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid(field, "endpoint URL must have a host"));
    }
    Ok(raw.to_owned())
}

/// Header names are printable ASCII without spaces or `:`, unique (ignoring
/// case), not reserved; values are printable and on one line; at most
/// [`HEADERS_MAX_COUNT`] headers of [`HEADERS_MAX_BYTES`] in all. Linear in the
/// size of the input.
pub fn validate_headers(headers: &Headers) -> Result<Headers, AppError> {
    let field = "config.headers";
    if headers.0.len() > HEADERS_MAX_COUNT {
        return Err(AppError::invalid(
            field,
            format!(
                "a hook may have at most {HEADERS_MAX_COUNT} custom headers ({} given)",
                headers.0.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(headers.0.len());
    let mut kept = Vec::with_capacity(headers.0.len());
    let mut bytes = 0usize;
    for (key, value) in &headers.0 {
        let key = key.trim();
        if key.is_empty() {
            return Err(AppError::invalid(field, "header name must not be empty"));
        }
        if let Some(bad) = key.chars().find(|c| !is_token_char(*c)) {
            return Err(AppError::invalid(
                field,
                format!("header name `{key}` contains {bad:?}; use letters, digits and !#$%&'*+-.^_`|~ (no spaces or `:`)"),
            ));
        }
        let lower = key.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(AppError::invalid(
                field,
                format!("header `{key}` is set by Hookline and cannot be overridden"),
            ));
        }
        if !seen.insert(lower) {
            return Err(AppError::invalid(
                field,
                format!("header `{key}` is given more than once"),
            ));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(AppError::invalid(
                field,
                format!("value of header `{key}` must be on one line, without control characters"),
            ));
        }
        let value = value.trim();
        bytes += key.len() + value.len();
        kept.push((key.to_owned(), value.to_owned()));
    }
    if bytes > HEADERS_MAX_BYTES {
        return Err(AppError::invalid(
            field,
            format!(
                "custom headers may total at most {HEADERS_MAX_BYTES} bytes of names and values ({bytes} given)"
            ),
        ));
    }
    Ok(Headers(kept))
}

/// A character HTTP allows in a header name (RFC 9110 `tchar`): printable ASCII
/// without spaces, `:` or the other separators.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

impl HookConfig {
    /// The whole config, checked.
    pub fn validated(&self) -> Result<Valid<HookConfig>, AppError> {
        Ok(Valid::new(HookConfig {
            url: validate_url(&self.url)?,
            headers: validate_headers(&self.headers)?,
        }))
    }
}

impl NewHook {
    /// The input with every rule applied, or the first field at fault;
    /// `custom` names the custom event types that exist.
    pub fn validated(&self, custom: &[String]) -> Result<Valid<NewHook>, AppError> {
        Ok(Valid::new(NewHook {
            name: validate_name(&self.name)?,
            events: validate_events(&self.events, custom)?,
            config: self.config.validated()?.into_inner(),
            enabled: self.enabled,
            // Parsed, and so checked, as they were read.
            filter: self.filter.clone(),
            policy: self.policy.clone(),
            signature_scheme: self.signature_scheme,
        }))
    }
}

impl HookPatch {
    /// The fields given, each with its rules applied.
    pub fn validated(&self, custom: &[String]) -> Result<Valid<HookPatch>, AppError> {
        Ok(Valid::new(HookPatch {
            name: self.name.as_deref().map(validate_name).transpose()?,
            events: self
                .events
                .as_deref()
                .map(|events| validate_events(events, custom))
                .transpose()?,
            config: self
                .config
                .as_ref()
                .map(|config| config.validated().map(Valid::into_inner))
                .transpose()?,
            enabled: self.enabled,
            filter: self.filter.clone(),
            policy: self.policy.clone(),
            signature_scheme: self.signature_scheme,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn field_of(result: Result<impl std::fmt::Debug, AppError>) -> String {
        result.unwrap_err().field.unwrap()
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  Billing ").unwrap(), "Billing");
        assert_eq!(field_of(validate_name("   ")), "name");
        assert!(validate_name(&"é".repeat(256)).is_ok());
        assert!(validate_name(&"é".repeat(257)).is_err());
    }

    #[test]
    fn events_must_be_known_and_are_deduplicated() {
        let events = vec![
            "User.Created".to_string(),
            "PostSignIn".into(),
            "User.Created".into(),
        ];
        assert_eq!(
            validate_events(&events, &[]).unwrap(),
            vec!["User.Created", "PostSignIn"]
        );
        assert_eq!(field_of(validate_events(&[], &[])), "events");
        let err = validate_events(&["User.Exploded".to_string()], &[]).unwrap_err();
        assert!(err.message.contains("User.Exploded"), "{err:?}");
    }

    #[test]
    fn urls_must_be_absolute_http_with_a_host() {
        assert!(validate_url("https://example.com/hook").is_ok());
        assert!(validate_url("http://127.0.0.1:8080/x").is_ok());
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com",
            "/relative",
            "http://",
            "javascript:alert(1)",
        ] {
            assert_eq!(field_of(validate_url(bad)), "config.url", "{bad}");
        }
    }

    #[test]
    fn header_rules() {
        assert!(
            validate_headers(&headers(&[("X-Tenant", "acme"), ("user-agent", "mine")])).is_ok()
        );
        for bad in [
            headers(&[("Bad Name", "x")]),
            headers(&[("x:y", "x")]),
            headers(&[("X(Y)", "x")]),
            headers(&[("Content-Type", "text/plain")]),
            headers(&[("", "x")]),
            headers(&[("X-A", "1"), ("x-a", "2")]),
            headers(&[("Webhook-Signature", "forged")]),
            headers(&[("X-A", "line\nbreak")]),
        ] {
            assert_eq!(
                field_of(validate_headers(&bad)),
                "config.headers",
                "{bad:?}"
            );
        }
    }

    /// `count` distinct headers whose names and values add up to `bytes`.
    fn sized_headers(count: usize, bytes: usize) -> Headers {
        let mut pairs: Vec<(String, String)> = (0..count)
            .map(|i| (format!("X-{i:03}"), String::new()))
            .collect();
        let names: usize = pairs.iter().map(|(k, _)| k.len()).sum();
        pairs[0].1 = "v".repeat(bytes - names);
        Headers(pairs)
    }

    #[test]
    fn at_most_fifty_headers() {
        let at_limit = sized_headers(HEADERS_MAX_COUNT, 1000);
        assert_eq!(validate_headers(&at_limit).unwrap().0.len(), 50);
        let over = sized_headers(HEADERS_MAX_COUNT + 1, 1000);
        let err = validate_headers(&over).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("config.headers"));
        assert!(err.message.contains("at most 50 custom headers"), "{err:?}");
    }

    #[test]
    fn at_most_eight_kib_of_headers() {
        let at_limit = sized_headers(3, HEADERS_MAX_BYTES);
        assert!(validate_headers(&at_limit).is_ok());
        let over = sized_headers(3, HEADERS_MAX_BYTES + 1);
        let err = validate_headers(&over).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("config.headers"));
        assert!(err.message.contains("at most 8192 bytes"), "{err:?}");
        // Names count too, and what is measured is what is stored (trimmed).
        let mut padded = sized_headers(1, HEADERS_MAX_BYTES);
        padded.0[0].1 = format!("  {}  ", padded.0[0].1);
        assert!(validate_headers(&padded).is_ok());
        let long_name = headers(&[(&"N".repeat(HEADERS_MAX_BYTES), "x")]);
        assert_eq!(field_of(validate_headers(&long_name)), "config.headers");
    }

    #[test]
    fn a_huge_header_list_is_refused_at_once() {
        // 100,000 headers took 25 s with a list lookup; the count check now
        // refuses them at once, and 50 distinct ones with the set are instant.
        let many = sized_headers(100_000, 2_000_000);
        let started = std::time::Instant::now();
        assert_eq!(field_of(validate_headers(&many)), "config.headers");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn headers_keep_duplicates_and_order_from_json() {
        let parsed: Headers = serde_json::from_str(r#"{"b":"1","a":"2","b":"3"}"#).unwrap();
        assert_eq!(parsed, headers(&[("b", "1"), ("a", "2"), ("b", "3")]));
        assert_eq!(
            serde_json::to_string(&headers(&[("b", "1"), ("a", "2")])).unwrap(),
            r#"{"b":"1","a":"2"}"#
        );
        assert!(serde_json::from_str::<Headers>(r#"{"a":1}"#).is_err());
    }

    #[test]
    fn health_bands_follow_the_readme() {
        let mut hook = Hook {
            id: "h".into(),
            name: "n".into(),
            events: vec![],
            config: HookConfig::default(),
            signature_scheme: SignatureScheme::Hmac,
            signing_key: Some("k".into()),
            public_key: None,
            enabled: true,
            disabled_reason: None,
            filter: None,
            policy: DeliveryPolicy::default(),
            created_at: 0,
            updated_at: 0,
            execution_stats: None,
        };
        assert_eq!(hook.health(), Health::NoRequests);
        let rate = |hook: &mut Hook, ok, all| {
            hook.execution_stats = Some(ExecutionStats {
                request_count: all,
                success_count: ok,
            });
            hook.health()
        };
        assert_eq!(rate(&mut hook, 89, 100), Health::Rate(89.0, Band::Red));
        assert_eq!(rate(&mut hook, 90, 100), Health::Rate(90.0, Band::Amber));
        assert_eq!(rate(&mut hook, 99, 100), Health::Rate(99.0, Band::Green));
        hook.enabled = false;
        assert_eq!(hook.health(), Health::NotInUse);
    }

    #[test]
    fn a_patch_of_one_field_round_trips_as_that_field_only() {
        // The console sends patches as JSON: what it leaves out is kept.
        let patch = HookPatch {
            enabled: Some(false),
            ..HookPatch::default()
        };
        let json = serde_json::to_value(&patch).unwrap();
        assert_eq!(serde_json::from_value::<HookPatch>(json).unwrap(), patch);
    }

    #[test]
    fn whsec_is_base64_of_the_key_bytes() {
        assert_eq!(whsec("abc"), "whsec_YWJj");
    }
}
