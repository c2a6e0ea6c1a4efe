//! Search over events and deliveries (`GET /api/search`, the console's
//! Search page): what a caller asks for, checked once into `SearchFilter`,
//! and what comes back.

use serde::{Deserialize, Serialize};

use crate::delivery::{DeliveryState, LogQuery};
use crate::ids::{DeliveryId, EventId, HookId};
use crate::AppError;

/// The longest search text, in characters (after trimming): ids and
/// idempotency keys are far shorter, and a longer phrase finds nothing more.
pub const MAX_QUERY_CHARS: usize = 200;

/// A search as asked: the text and the filters of recent-logs.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// An event id, a delivery id (the `webhook-id` header), an
    /// `Idempotency-Key`, or words of a payload (an email, a user id, an
    /// order number), found as one phrase of whole words. Trimmed, 1 to
    /// 200 characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        param(
            required = true,
            min_length = 1,
            max_length = 200,
            example = "alice@example.com"
        )
    )]
    pub q: Option<String>,
    /// Only events of this type.
    #[serde(default)]
    pub event: Option<String>,
    /// `success` (or `delivered`), `failed`, `pending`: the delivery's
    /// state; or an HTTP status code: a delivery with an attempt answered so.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        param(
            pattern = "^(success|delivered|failed|pending|[1-5][0-9][0-9])?$",
            example = "failed"
        )
    )]
    pub status: Option<String>,
    /// Unix ms, inclusive: events created from then.
    #[serde(default)]
    pub start_time: Option<i64>,
    /// Unix ms, exclusive: events created before then.
    #[serde(default)]
    pub end_time: Option<i64>,
    /// 1-based; 1 by default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    pub page: Option<i64>,
    /// Matches per page, 20 by default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub page_size: Option<i64>,
}

/// The search text: trimmed, 1 to [`MAX_QUERY_CHARS`] characters, without
/// NUL (which no id, key or payload word holds, and PostgreSQL's text cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(raw: &str) -> Result<SearchText, AppError> {
        let text = crate::required_text("q", raw, MAX_QUERY_CHARS)?;
        if text.contains('\0') {
            return Err(AppError::invalid("q", "q must not contain NUL"));
        }
        Ok(SearchText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as one FTS5 phrase: a string in double quotes (inner quotes
    /// doubled), which FTS5 splits with the table's tokenizer and matches as
    /// consecutive words. Inside it no character is query syntax, so no
    /// input can make the query fail.
    pub fn fts5_phrase(&self) -> String {
        format!("\"{}\"", self.0.replace('"', "\"\""))
    }
}

/// Which matches to keep, by their delivery: `status` of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStatus {
    /// Deliveries in this state (`success` means delivered).
    State(DeliveryState),
    /// Deliveries with an attempt that got this HTTP status.
    Code(u16),
}

impl SearchStatus {
    pub fn parse(text: &str) -> Result<SearchStatus, AppError> {
        match text {
            "success" | "delivered" => Ok(SearchStatus::State(DeliveryState::Delivered)),
            "failed" => Ok(SearchStatus::State(DeliveryState::Failed)),
            "pending" => Ok(SearchStatus::State(DeliveryState::Pending)),
            code => code
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .map(SearchStatus::Code)
                .ok_or_else(|| {
                    AppError::invalid(
                        "status",
                        format!(
                            "status must be success, delivered, failed, pending or an HTTP \
                             status code, not `{code}`"
                        ),
                    )
                }),
        }
    }
}

/// A `SearchQuery` checked: what the store reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchFilter {
    pub text: SearchText,
    pub event: Option<String>,
    pub status: Option<SearchStatus>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub page: i64,
    pub page_size: i64,
}

impl SearchQuery {
    pub fn validated(&self) -> Result<SearchFilter, AppError> {
        let text = SearchText::parse(self.q.as_deref().unwrap_or_default())?;
        // Paging and the time range follow recent-logs' rules, written once.
        let log = LogQuery {
            event: self.event.clone(),
            status: None,
            start_time: self.start_time,
            end_time: self.end_time,
            page: self.page,
            page_size: self.page_size,
        }
        .validated()?;
        if log.event.as_deref().is_some_and(|e| e.contains('\0')) {
            return Err(AppError::invalid("event", "event must not contain NUL"));
        }
        Ok(SearchFilter {
            text,
            event: log.event,
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(SearchStatus::parse)
                .transpose()?,
            start_time: log.start_time,
            end_time: log.end_time,
            page: log.page,
            page_size: log.page_size,
        })
    }
}

/// Payload words are looked for among the newest this many events that
/// hold them (and pass the event filters), and `Total-Number` stops here: a
/// word in half a million payloads is answered in tens of milliseconds, not
/// read whole, and nobody pages past a thousand matches rather than adding
/// a word.
pub const SEARCH_MATCH_LIMIT: i64 = 1_000;

/// One event and one of its deliveries (or the event alone, when no hook
/// took it), found by a search.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchMatch {
    pub event_id: EventId,
    /// Null for an event no hook took.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub delivery_id: Option<DeliveryId>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub hook_id: Option<HookId>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub hook_name: Option<String>,
    /// The event type.
    pub event: String,
    /// The delivery's state; null for an event no hook took.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub state: Option<DeliveryState>,
    /// When the event was taken in, unix ms.
    pub created_at: i64,
}

/// One page of matches, newest first, and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub matches: Vec<SearchMatch>,
    /// How many match, at most [`SEARCH_MATCH_LIMIT`].
    pub total: i64,
    /// True when more than `total` match.
    pub total_capped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> SearchQuery {
        SearchQuery {
            q: Some(q.to_owned()),
            ..SearchQuery::default()
        }
    }

    #[test]
    fn the_text_is_trimmed_and_bounded() {
        assert_eq!(
            query("  a@b.c ").validated().unwrap().text.as_str(),
            "a@b.c"
        );
        for bad in ["", "   ", "a\0b"] {
            assert_eq!(
                query(bad).validated().unwrap_err().field.as_deref(),
                Some("q")
            );
        }
        assert!(query(&"x".repeat(MAX_QUERY_CHARS)).validated().is_ok());
        let long = query(&"é".repeat(MAX_QUERY_CHARS + 1)).validated();
        assert_eq!(long.unwrap_err().field.as_deref(), Some("q"));
        assert_eq!(
            SearchQuery::default()
                .validated()
                .unwrap_err()
                .field
                .as_deref(),
            Some("q")
        );
    }

    #[test]
    fn any_text_is_one_fts5_phrase() {
        let text = SearchText::parse(r#"a" OR NEAR(b*) -"c"#).unwrap();
        assert_eq!(text.fts5_phrase(), r#""a"" OR NEAR(b*) -""c""#);
    }

    #[test]
    fn status_names_a_state_or_a_code() {
        let status = |s: &str| SearchStatus::parse(s);
        assert_eq!(
            status("success").unwrap(),
            SearchStatus::State(DeliveryState::Delivered)
        );
        assert_eq!(
            status("pending").unwrap(),
            SearchStatus::State(DeliveryState::Pending)
        );
        assert_eq!(status("503").unwrap(), SearchStatus::Code(503));
        for bad in ["600", "ok", "99"] {
            assert_eq!(status(bad).unwrap_err().field.as_deref(), Some("status"));
        }
    }
}
