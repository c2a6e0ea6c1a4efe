//! A hook's delivery policy (README, *Delivery policies*): whether its
//! deliveries go one at a time in order, how fast they may go, when failed
//! ones are tried again and how long a request may take. Each value here
//! passed its bounds: parsing (from the API's JSON or the console's text) is
//! the only way to make one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::AppError;

/// A rate limit's bounds: deliveries per second …
pub const RATE_MAX_PER_SECOND: f64 = 1000.0;
/// … and the burst, in deliveries.
pub const RATE_MAX_BURST: u32 = 1000;
/// A hook's own retry schedule has at most this many steps …
pub const SCHEDULE_MAX_STEPS: usize = 20;
/// … each at least this long …
pub const SCHEDULE_MIN_STEP: Duration = Duration::from_secs(1);
/// … and all of them together at most this long.
pub const SCHEDULE_MAX_SPAN: Duration = Duration::from_secs(7 * 24 * 3600);
/// A hook's own request timeout is within these bounds.
pub const TIMEOUT_MIN: Duration = Duration::from_secs(1);
pub const TIMEOUT_MAX: Duration = Duration::from_secs(30);

/// The settings a hook may override; each `None` means the server's own.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPolicy {
    /// Deliver one at a time, in the order the events were ingested.
    #[serde(default, deserialize_with = "ordered_flag")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ordered: bool,
    /// At most this many deliveries per second over all instances; `null`
    /// for no limit.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub rate_limit: Option<RateLimit>,
    /// The waits between attempts; `null` for the server's schedule.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<Vec<String>>, example = json!(["10s", "1m", "10m"])))]
    pub retry_schedule: Option<RetrySchedule>,
    /// How long one request may take; `null` for the server's timeout.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<String>, example = "5s"))]
    pub request_timeout: Option<RequestTimeout>,
}

/// The policy fields of `PATCH /api/hooks/:id`: a field left out keeps its
/// value, `null` goes back to the server's. A field that is `None` is left
/// out when serialised (the console's patches), so it keeps its value.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPatch {
    #[serde(
        default,
        deserialize_with = "optional_ordered_flag",
        skip_serializing_if = "Option::is_none"
    )]
    pub ordered: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_limit: Option<Option<RateLimit>>,
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub retry_schedule: Option<Option<RetrySchedule>>,
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub request_timeout: Option<Option<RequestTimeout>>,
}

impl PolicyPatch {
    /// Every field set: the whole of `policy` (the console's settings form).
    pub fn replacing_with(policy: DeliveryPolicy) -> PolicyPatch {
        PolicyPatch {
            ordered: Some(policy.ordered),
            rate_limit: Some(policy.rate_limit),
            retry_schedule: Some(policy.retry_schedule),
            request_timeout: Some(policy.request_timeout),
        }
    }
}

/// For a field where leaving it out (`None`) and sending `null`
/// (`Some(None)`) mean different things.
pub(crate) fn present_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// What a hook gets where its policy says nothing: the server's settings,
/// for the console to show beside a hook's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerDefaults {
    /// The server's retry schedule (`5s, 30s, 2m`, or `no retries`).
    pub retry_schedule: String,
    /// The server's request timeout.
    pub request_timeout: String,
    /// The longest a hook's own timeout may take effect (the delivery lease
    /// leaves room for no more).
    pub timeout_cap: String,
}

/// The delivery an ordered hook waits on: its oldest pending one, which has
/// failed at least once and holds the rest back until it is delivered, its
/// retries run out, or an admin skips it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldDelivery {
    pub delivery_id: crate::ids::DeliveryId,
    pub event: String,
    pub attempt_count: i64,
    /// When its next attempt is due (unix ms).
    pub next_attempt_at: Option<i64>,
    /// How many of the hook's deliveries wait behind it.
    pub waiting: i64,
}

/// At most `per_second` deliveries a second on average, and at most `burst`
/// at once after a quiet spell.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawRateLimit")]
pub struct RateLimit {
    /// More than 0, at most 1000; fractions allowed (`0.5`: one every 2 s).
    #[cfg_attr(
        feature = "openapi",
        schema(example = 20.0, maximum = 1000.0, exclusive_minimum = 0.0)
    )]
    per_second: f64,
    /// 1 to 1000.
    #[cfg_attr(feature = "openapi", schema(example = 10, minimum = 1, maximum = 1000))]
    burst: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRateLimit {
    per_second: f64,
    burst: u32,
}

impl TryFrom<RawRateLimit> for RateLimit {
    type Error = AppError;

    fn try_from(raw: RawRateLimit) -> Result<Self, AppError> {
        RateLimit::new(raw.per_second, raw.burst)
    }
}

impl RateLimit {
    pub fn new(per_second: f64, burst: u32) -> Result<RateLimit, AppError> {
        if !(per_second > 0.0 && per_second <= RATE_MAX_PER_SECOND) {
            return Err(AppError::invalid(
                "rateLimit.perSecond",
                format!(
                    "rateLimit.perSecond must be more than 0 and at most {RATE_MAX_PER_SECOND}"
                ),
            ));
        }
        if !(1..=RATE_MAX_BURST).contains(&burst) {
            return Err(AppError::invalid(
                "rateLimit.burst",
                format!("rateLimit.burst must be from 1 to {RATE_MAX_BURST}"),
            ));
        }
        Ok(RateLimit { per_second, burst })
    }

    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }
}

/// The waits after the first, second … failed attempt; when they run out the
/// delivery has failed. A hook's own schedule (from JSON, a list like
/// `["10s", "1m"]`) keeps to the bounds above; the server's (from the
/// `--retry-schedule` flag, `FromStr`) may be anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    pub fn steps(&self) -> &[Duration] {
        &self.0
    }

    /// A hook's schedule from its steps as text, within the bounds.
    pub fn for_hook<S: AsRef<str>>(steps: &[S]) -> Result<RetrySchedule, AppError> {
        let field = "retrySchedule";
        if steps.len() > SCHEDULE_MAX_STEPS {
            return Err(AppError::invalid(
                field,
                format!(
                    "a retry schedule has at most {SCHEDULE_MAX_STEPS} steps ({} given)",
                    steps.len()
                ),
            ));
        }
        let steps = steps
            .iter()
            .map(|step| parse_duration(field, step.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(short) = steps.iter().find(|step| **step < SCHEDULE_MIN_STEP) {
            return Err(AppError::invalid(
                field,
                format!(
                    "each wait is at least 1s ({} given)",
                    humantime::format_duration(*short)
                ),
            ));
        }
        let span: Duration = steps.iter().sum();
        if span > SCHEDULE_MAX_SPAN {
            return Err(AppError::invalid(
                field,
                format!(
                    "the waits add up to at most 7 days ({} given)",
                    humantime::format_duration(span)
                ),
            ));
        }
        Ok(RetrySchedule(steps))
    }

    /// The steps as the API writes them (`"1m 30s"`).
    pub fn step_texts(&self) -> Vec<String> {
        self.0.iter().map(|d| format_duration(*d)).collect()
    }
}

/// The flag's form: steps separated by commas (`5s,30s,2m`); empty for none.
impl FromStr for RetrySchedule {
    type Err = AppError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let steps = text
            .split(',')
            .map(str::trim)
            .filter(|step| !step.is_empty())
            .map(|step| parse_duration("retrySchedule", step))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RetrySchedule(steps))
    }
}

/// The flag's form back: `5s,30s,2m`.
impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.step_texts().join(","))
    }
}

impl Serialize for RetrySchedule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.step_texts().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RetrySchedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as E;
        // Read loosely first, so that a wrong type is named too.
        let steps = match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Array(steps) => steps
                .into_iter()
                .map(|step| match step {
                    serde_json::Value::String(step) => Ok(step),
                    _ => Err(()),
                })
                .collect::<Result<Vec<_>, _>>()
                .ok(),
            _ => None,
        };
        let steps = steps.ok_or_else(|| {
            E::custom("retrySchedule: give a list of durations like [\"10s\", \"1m\"], or null")
        })?;
        RetrySchedule::for_hook(&steps).map_err(named_error)
    }
}

/// How long one request to the hook may take, 1 s to 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(Duration);

impl RequestTimeout {
    pub fn parse(text: &str) -> Result<RequestTimeout, AppError> {
        RequestTimeout::new(parse_duration("requestTimeout", text)?)
    }

    pub fn new(timeout: Duration) -> Result<RequestTimeout, AppError> {
        if !(TIMEOUT_MIN..=TIMEOUT_MAX).contains(&timeout) {
            return Err(AppError::invalid(
                "requestTimeout",
                format!(
                    "a request timeout is from 1s to 30s ({} given)",
                    format_duration(timeout)
                ),
            ));
        }
        Ok(RequestTimeout(timeout))
    }

    pub fn duration(&self) -> Duration {
        self.0
    }
}

impl fmt::Display for RequestTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl Serialize for RequestTimeout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RequestTimeout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as E;
        // Read loosely first, so that a wrong type is named too.
        let serde_json::Value::String(text) = serde_json::Value::deserialize(deserializer)? else {
            return Err(E::custom(
                "requestTimeout: give a duration like \"5s\", or null",
            ));
        };
        RequestTimeout::parse(&text).map_err(named_error)
    }
}

/// `ordered`, named in the error if it is not a boolean (the flattened
/// policy loses serde's own path).
fn ordered_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(ordered) => Ok(ordered),
        _ => Err(serde::de::Error::custom("ordered: give true or false")),
    }
}

/// `ordered` in a patch: `null` keeps the hook's.
fn optional_ordered_flag<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(ordered) => Ok(Some(ordered)),
        _ => Err(serde::de::Error::custom("ordered: give true or false")),
    }
}

/// A deserialising error that names the field, as the API's JSON has it.
fn named_error<E: serde::de::Error>(error: AppError) -> E {
    match error.field {
        Some(field) => E::custom(format!("{field}: {}", error.message)),
        None => E::custom(error.message),
    }
}

fn parse_duration(field: &str, text: &str) -> Result<Duration, AppError> {
    let text = text.trim();
    humantime::parse_duration(text).map_err(|_| {
        AppError::invalid(
            field,
            format!("`{text}` is not a duration like 500ms, 10s, 2m or 1h"),
        )
    })
}

/// `1m 30s`, `500ms`: humantime's form, which parses back.
pub fn format_duration(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reads_and_writes_the_api_names() {
        let json = serde_json::json!({
            "ordered": true,
            "rateLimit": {"perSecond": 20.0, "burst": 5},
            "retrySchedule": ["10s", "1m"],
            "requestTimeout": "5s"
        });
        let policy: DeliveryPolicy = serde_json::from_value(json.clone()).unwrap();
        assert!(policy.ordered);
        assert_eq!(policy.rate_limit.unwrap().per_second(), 20.0);
        assert_eq!(
            policy.retry_schedule.as_ref().unwrap().steps(),
            [Duration::from_secs(10), Duration::from_secs(60)]
        );
        assert_eq!(serde_json::to_value(&policy).unwrap(), json);
        let none: DeliveryPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(none, DeliveryPolicy::default());
    }

    #[test]
    fn a_patch_keeps_what_it_leaves_out_through_a_round_trip() {
        let patch = PolicyPatch {
            rate_limit: Some(None),
            ..PolicyPatch::default()
        };
        let json = serde_json::to_value(&patch).unwrap();
        assert_eq!(json, serde_json::json!({ "rateLimit": null }));
        assert_eq!(serde_json::from_value::<PolicyPatch>(json).unwrap(), patch);
        let keep: PolicyPatch = serde_json::from_str(r#"{"ordered": null}"#).unwrap();
        assert_eq!(keep.ordered, None);
    }

    #[test]
    fn rate_limits_keep_to_their_bounds() {
        assert!(RateLimit::new(0.5, 1).is_ok());
        for (per_second, burst, field) in [
            (0.0, 1, "rateLimit.perSecond"),
            (f64::NAN, 1, "rateLimit.perSecond"),
            (1001.0, 1, "rateLimit.perSecond"),
            (10.0, 0, "rateLimit.burst"),
            (10.0, 1001, "rateLimit.burst"),
        ] {
            let err = RateLimit::new(per_second, burst).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{per_second} {burst}");
        }
        let err = serde_json::from_str::<RateLimit>(r#"{"perSecond": 5, "burst": 1, "extra": 1}"#);
        assert!(err.is_err());
    }

    #[test]
    fn a_hooks_schedule_keeps_to_its_bounds() {
        assert_eq!(RetrySchedule::for_hook::<&str>(&[]).unwrap().steps(), []);
        let bad = |steps: &[&str]| RetrySchedule::for_hook(steps).unwrap_err().message;
        assert!(bad(&["10s", "often"]).contains("`often`"));
        assert!(bad(&["500ms"]).contains("at least 1s"));
        assert!(bad(&["5d", "3d"]).contains("7 days"));
        assert!(bad(&["1s"; 21]).contains("at most 20 steps"));
        // The flag may go below a second (tests do).
        assert!("300ms,1s".parse::<RetrySchedule>().is_ok());
        assert_eq!(
            "5s,2m".parse::<RetrySchedule>().unwrap().to_string(),
            "5s,2m"
        );
    }

    #[test]
    fn a_request_timeout_is_one_to_thirty_seconds() {
        assert_eq!(
            RequestTimeout::parse("5s").unwrap().duration(),
            Duration::from_secs(5)
        );
        for bad in ["500ms", "31s", "soon", ""] {
            let err = RequestTimeout::parse(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("requestTimeout"), "{bad}");
        }
    }
}
