//! Events, their deliveries and every attempt, as the API and the console show
//! them (README, "Delivery" and "API reference").

use serde::{Deserialize, Serialize};

use super::hook::HookConfig;
use super::AppError;
use crate::ids::{AttemptId, DeliveryId, EventId, HookId};

/// Response bodies are kept up to this many bytes; the rest is cut and flagged.
pub const RESPONSE_BODY_LIMIT: usize = 64 * 1024;
/// Ingested events larger than this are refused with 413.
pub const EVENT_BODY_LIMIT: usize = 256 * 1024;
/// The longest `?wait=` a synchronous ingestion may ask for.
pub const MAX_WAIT_SECS: u64 = 30;

/// Why an attempt was made.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The first attempt of a new delivery.
    Auto,
    /// A scheduled retry after a failure.
    Retry,
    /// An admin's resend or recover.
    Manual,
    /// "Send test payload".
    Test,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Auto => "auto",
            Trigger::Retry => "retry",
            Trigger::Manual => "manual",
            Trigger::Test => "test",
        }
    }

    pub fn parse(text: &str) -> Option<Trigger> {
        [
            Trigger::Auto,
            Trigger::Retry,
            Trigger::Manual,
            Trigger::Test,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

crate::from_str_by_parse!(Trigger, "trigger");

/// Where a delivery stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// An attempt is due now or later.
    Pending,
    /// An attempt got a 2xx.
    Delivered,
    /// No attempt succeeded and none is scheduled.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

crate::from_str_by_parse!(DeliveryState, "delivery state");

/// One HTTP request to a receiver and what came back: its summary (the
/// row of a hook's log) and the request and response in full.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    #[serde(flatten)]
    pub summary: AttemptSummary,
    pub url: String,
    /// Header name and value pairs, in the order they were sent.
    #[cfg_attr(feature = "openapi", schema(schema_with = header_pairs))]
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    /// Header name and value pairs, as they came; none when no response came.
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = optional_header_pairs))]
    pub response_headers: Option<Vec<(String, String)>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub response_body: Option<String>,
    /// True when the response body was longer than 64 KiB and was cut.
    pub response_body_truncated: bool,
}

impl Attempt {
    /// The request as a `curl` command, to replay it against a local
    /// receiver: the URL, every header as sent (signatures included) but
    /// `host` and `content-length`, which curl sets for wherever it sends
    /// to, and the body byte for byte.
    pub fn as_curl(&self) -> String {
        let mut command = format!("curl -X POST {}", shell_quote(&self.url));
        for (name, value) in &self.request_headers {
            if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            command.push_str(" \\\n  -H ");
            command.push_str(&shell_quote(&format!("{name}: {value}")));
        }
        command.push_str(" \\\n  --data-raw ");
        command.push_str(&shell_quote(&self.request_body));
        command
    }
}

/// `text` in single quotes for a POSIX shell: nothing inside is expanded.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `[["name", "value"], …]`: pairs keep the order and any repeated names.
#[cfg(feature = "openapi")]
fn header_pairs_schema(nullable: bool) -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let pair = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .min_items(Some(2))
        .max_items(Some(2));
    let array = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(array)
        .items(pair)
        .description(Some(
            "Header name and value pairs, in order: `[[\"name\", \"value\"], …]`",
        ))
        .build()
}

#[cfg(feature = "openapi")]
fn header_pairs() -> utoipa::openapi::Array {
    header_pairs_schema(false)
}

#[cfg(feature = "openapi")]
fn optional_header_pairs() -> utoipa::openapi::Array {
    header_pairs_schema(true)
}

/// One event bound for one hook.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Also the `webhook-id` header, the same on every attempt.
    pub id: DeliveryId,
    pub event_id: EventId,
    pub hook_id: HookId,
    /// The hook's name as it is now.
    pub hook_name: String,
    pub event: String,
    /// The `Idempotency-Key` the event was ingested with, if any.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub idempotency_key: Option<String>,
    pub state: DeliveryState,
    pub attempt_count: i64,
    /// When the next attempt is due (unix ms), if one is scheduled.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The OpenTelemetry trace its attempts belong to (32 hex digits), if
    /// traces were on when its event was stored.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub trace_id: Option<String>,
    /// Every attempt, oldest first; empty in summaries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
}

/// An ingested event: what the producer sent, and where it is going.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub id: EventId,
    pub event: String,
    /// The producer's fields (everything but `event`), as sent.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    pub created_at: i64,
    pub deliveries: Vec<Delivery>,
}

/// The first answer to `POST /api/events`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingested {
    pub id: EventId,
    pub deliveries: i64,
    /// Synchronous mode only: the first attempt of each delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<Vec<Outcome>>,
}

/// What one attempt came to, in the short form synchronous ingestion and
/// "Send test payload" answer with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub delivery_id: DeliveryId,
    pub hook_id: HookId,
    pub event: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: Option<u16>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub body: Option<String>,
    pub body_truncated: bool,
    pub duration_ms: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub error: Option<String>,
    pub success: bool,
}

impl From<&Attempt> for Outcome {
    fn from(attempt: &Attempt) -> Self {
        Outcome {
            delivery_id: attempt.summary.delivery_id.clone(),
            hook_id: attempt.summary.hook_id.clone(),
            event: attempt.summary.event.clone(),
            status: attempt.summary.response_status,
            body: attempt.response_body.clone(),
            body_truncated: attempt.response_body_truncated,
            duration_ms: attempt.summary.duration_ms,
            error: attempt.summary.error.clone(),
            success: attempt.summary.success,
        }
    }
}

/// `POST /api/hooks/:id/test`: the events to send a sample of, and optionally
/// a config to send it to instead of the saved one (the form's unsaved values).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookTest {
    /// The events to send an example of, one request each.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, example = json!(["User.Created"])))]
    pub events: Vec<String>,
    #[serde(default)]
    pub config: Option<HookConfig>,
}

/// The answer to a hook test: one outcome per event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookTestResult {
    pub outcomes: Vec<Outcome>,
}

/// An attempt as a row of a hook's log: no headers or bodies.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptSummary {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub hook_id: HookId,
    pub event: String,
    /// 1 for the first attempt of a delivery, then 2, 3 …
    pub number: i64,
    pub trigger: Trigger,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub response_status: Option<u16>,
    /// Why no response came: refused address, connection error, timeout.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub error: Option<String>,
    pub success: bool,
    /// Unix ms.
    pub started_at: i64,
    pub duration_ms: i64,
}

/// The outcome filter of a hook's log: `success`, `failed` or one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Success,
    Failed,
    Code(u16),
}

impl StatusFilter {
    pub fn parse(text: &str) -> Result<StatusFilter, AppError> {
        match text {
            "success" => Ok(StatusFilter::Success),
            "failed" => Ok(StatusFilter::Failed),
            code => code
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .map(StatusFilter::Code)
                .ok_or_else(|| {
                    AppError::invalid(
                        "status",
                        format!(
                            "status must be success, failed or an HTTP status code, not `{code}`"
                        ),
                    )
                }),
        }
    }

    pub fn as_param(self) -> String {
        match self {
            StatusFilter::Success => "success".into(),
            StatusFilter::Failed => "failed".into(),
            StatusFilter::Code(code) => code.to_string(),
        }
    }
}

/// The most rows one page of a log may hold.
pub const MAX_PAGE_SIZE: i64 = 100;

/// Which part of a hook's log to read (`recent-logs` and the Requests tab).
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    /// Only attempts of this event type.
    #[serde(default)]
    pub event: Option<String>,
    /// `success`, `failed` or an HTTP status code.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^(success|failed|[1-5][0-9][0-9])?$", example = "failed")
    )]
    pub status: Option<String>,
    /// Unix ms, inclusive.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// Unix ms, exclusive.
    #[serde(default)]
    pub end_time: Option<i64>,
    /// 1-based; 1 by default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub page: Option<i64>,
    /// Rows per page, 20 by default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub page_size: Option<i64>,
}

/// A `LogQuery` checked: what the store reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    pub event: Option<String>,
    pub status: Option<StatusFilter>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub page: i64,
    pub page_size: i64,
}

impl LogQuery {
    pub fn validated(&self) -> Result<LogFilter, AppError> {
        let page = self.page.unwrap_or(1);
        if page < 1 {
            return Err(AppError::invalid("page", "page starts at 1"));
        }
        let page_size = self.page_size.unwrap_or(20);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(AppError::invalid(
                "page_size",
                format!("page_size must be 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        // The rows skipped, (page - 1) × page_size, must be a number SQL can take.
        if (page - 1).checked_mul(page_size).is_none() {
            return Err(AppError::invalid(
                "page",
                format!("page {page} is past any log at {page_size} rows a page"),
            ));
        }
        if let (Some(start), Some(end)) = (self.start_time, self.end_time) {
            if start > end {
                return Err(AppError::invalid(
                    "start_time",
                    "start_time must not be after end_time",
                ));
            }
        }
        Ok(LogFilter {
            event: self.event.clone().filter(|e| !e.is_empty()),
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(StatusFilter::parse)
                .transpose()?,
            start_time: self.start_time,
            end_time: self.end_time,
            page,
            page_size,
        })
    }
}

/// Counting a hook's matching attempts stops here: past it, an exact count
/// would read every match (a million rows take ~50 ms) for a figure nobody
/// pages through.
pub const LOG_COUNT_LIMIT: i64 = 10_000;

/// One page of a hook's log and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub attempts: Vec<AttemptSummary>,
    /// How many match, counted up to [`LOG_COUNT_LIMIT`].
    pub total: i64,
    /// True when more than `total` match.
    pub total_capped: bool,
}

/// Requests in one time bucket of a hook's chart.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// Unix ms of the bucket's start.
    pub start: i64,
    pub requests: i64,
    pub successes: i64,
}

/// `POST /api/hooks/:id/recover`: failed deliveries created in `[since, until)`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recover {
    /// Unix ms, inclusive.
    #[cfg_attr(feature = "openapi", schema(example = 0))]
    pub since: i64,
    /// Unix ms, exclusive; now by default.
    #[serde(default)]
    pub until: Option<i64>,
}

/// How many deliveries a recover (or its preview) covers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    pub deliveries: i64,
}

/// The time ranges the console's Requests tab offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeRange {
    Hour,
    #[default]
    Day,
    Week,
}

impl TimeRange {
    pub const ALL: [TimeRange; 3] = [TimeRange::Hour, TimeRange::Day, TimeRange::Week];

    pub fn parse(text: &str) -> Option<TimeRange> {
        Self::ALL.into_iter().find(|r| r.as_param() == text)
    }

    pub fn as_param(self) -> &'static str {
        match self {
            TimeRange::Hour => "1h",
            TimeRange::Day => "24h",
            TimeRange::Week => "7d",
        }
    }

    pub fn millis(self) -> i64 {
        match self {
            TimeRange::Hour => 3_600_000,
            TimeRange::Day => 24 * 3_600_000,
            TimeRange::Week => 7 * 24 * 3_600_000,
        }
    }

    /// How many bars the chart draws for this range.
    pub fn buckets(self) -> i64 {
        match self {
            TimeRange::Hour => 60,
            TimeRange::Day => 48,
            TimeRange::Week => 84,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_and_states_round_trip_their_names() {
        for trigger in [
            Trigger::Auto,
            Trigger::Retry,
            Trigger::Manual,
            Trigger::Test,
        ] {
            assert_eq!(Trigger::parse(trigger.as_str()), Some(trigger));
            assert_eq!(
                serde_json::to_value(trigger).unwrap(),
                serde_json::json!(trigger.as_str())
            );
        }
        for state in [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ] {
            assert_eq!(DeliveryState::parse(state.as_str()), Some(state));
        }
        assert_eq!(Trigger::parse("later"), None);
    }

    #[test]
    fn log_pages_are_bounded_so_the_offset_cannot_overflow() {
        let query = |page: i64, page_size: i64| LogQuery {
            page: Some(page),
            page_size: Some(page_size),
            ..LogQuery::default()
        };
        // Found by the API fuzzer: this page made the offset overflow (a
        // panic in debug builds, a wrapped negative offset in release).
        let err = query(461_168_601_842_738_792, 20).validated().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("page"));
        assert!(query(i64::MAX, 1).validated().is_ok());
        assert!(query(i64::MAX, 2).validated().is_err());
        assert_eq!(query(3, 100).validated().unwrap().page, 3);
        assert_eq!(
            query(0, 20).validated().unwrap_err().field.as_deref(),
            Some("page")
        );
    }
}
