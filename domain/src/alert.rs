//! Alerts: Hookline telling an operations endpoint that a hook is in
//! trouble, through its own pipeline (signed, retried, logged), and the
//! incidents behind them. README, "Alerts", documents the payloads.

use serde::{Deserialize, Serialize};

use crate::hook::validate_url_field;
use crate::ids::{DeliveryId, HookId, IncidentId};
use crate::{AppError, Valid};

/// The operational events, in the order the README lists them. No hook but
/// the alerts hook gets them, and no producer may send them.
pub const OPERATIONAL_EVENTS: [&str; 5] = [
    "hook.failing",
    "hook.disabled",
    "hook.lagging",
    "hook.recovered",
    "delivery.exhausted",
];

/// Whether `name` is one of the [`OPERATIONAL_EVENTS`].
pub fn is_operational_event(name: &str) -> bool {
    OPERATIONAL_EVENTS.contains(&name)
}

/// The body an alert is sent with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertFormat {
    /// Hookline's body (`hookId`, `event`, `createdAt`, then the alert's
    /// fields), signed like every delivery.
    #[default]
    Json,
    /// `{"text": …}`, which Slack's incoming webhooks (and Mattermost's,
    /// Discord's `/slack` ones, …) accept.
    Slack,
}

impl AlertFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
        }
    }

    pub fn parse(text: &str) -> Option<AlertFormat> {
        match text {
            "json" => Some(Self::Json),
            "slack" => Some(Self::Slack),
            _ => None,
        }
    }
}

/// As the `hooks.body_format` column holds it.
impl TryFrom<String> for AlertFormat {
    type Error = AppError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        AlertFormat::parse(&text).ok_or_else(AppError::internal)
    }
}

/// Limits of the failing rule, inclusive.
pub const CONSECUTIVE_FAILURES_MAX: u32 = 1000;
pub const WINDOW_MINUTES_MAX: u32 = 1440;
pub const MIN_ATTEMPTS_MAX: u32 = 100_000;
/// Limit of the lagging rule, inclusive: a day.
pub const LAG_MINUTES_MAX: u32 = 1440;
/// A hook lags once a delivery has waited this long: the rule's default,
/// and the overview's threshold while alerts are off.
pub const DEFAULT_LAG_MINUTES: u32 = 5;

fn default_consecutive_failures() -> u32 {
    5
}
fn default_success_rate_below() -> Option<u32> {
    Some(50)
}
fn default_window_minutes() -> u32 {
    15
}
fn default_min_attempts() -> u32 {
    20
}
fn default_lag_minutes() -> u32 {
    DEFAULT_LAG_MINUTES
}

/// `PUT /api/settings/alerts`: where alerts go and when a hook counts as
/// failing. Only `url` is required.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettingsInput {
    /// The operations endpoint: an absolute http(s) URL, checked like a
    /// hook's when it is called.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://hooks.slack.com/services/T000/B000/XXXX")
    )]
    pub url: String,
    #[serde(default)]
    pub format: AlertFormat,
    /// `hook.failing` once this many attempts in a row failed (1 to 1000; 5).
    #[serde(default = "default_consecutive_failures")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000, default = 5))]
    pub consecutive_failures: u32,
    /// … or once fewer than this percentage of attempts succeeded over the
    /// window (1 to 100; 50; null: no rate rule).
    #[serde(default = "default_success_rate_below")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100, default = 50))]
    pub success_rate_below: Option<u32>,
    /// The window of the rate rule, in minutes (1 to 1440; 15).
    #[serde(default = "default_window_minutes")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440, default = 15))]
    pub window_minutes: u32,
    /// The rate rule needs at least this many attempts in the window
    /// (1 to 100000; 20).
    #[serde(default = "default_min_attempts")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 100000, default = 20)
    )]
    pub min_attempts: u32,
    /// `hook.lagging` once a hook's oldest waiting delivery has waited this
    /// many minutes (1 to 1440; 5).
    #[serde(default = "default_lag_minutes")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440, default = 5))]
    pub lag_minutes: u32,
}

impl AlertSettingsInput {
    /// The defaults, without a URL yet: what the console's form starts from.
    pub fn defaults() -> AlertSettingsInput {
        AlertSettingsInput {
            url: String::new(),
            format: AlertFormat::default(),
            consecutive_failures: default_consecutive_failures(),
            success_rate_below: default_success_rate_below(),
            window_minutes: default_window_minutes(),
            min_attempts: default_min_attempts(),
            lag_minutes: default_lag_minutes(),
        }
    }

    /// How long a delivery may wait before its hook counts as lagging, in ms.
    pub fn lag_threshold_ms(&self) -> i64 {
        i64::from(self.lag_minutes) * 60_000
    }

    /// The settings as the console's form sends them: numbers as text,
    /// empty for the default, and `successRateBelow` empty for no rate rule.
    pub fn from_form(
        url: &str,
        format: &str,
        consecutive_failures: &str,
        success_rate_below: &str,
        window_minutes: &str,
        min_attempts: &str,
        lag_minutes: &str,
    ) -> Result<AlertSettingsInput, AppError> {
        let number = |field: &str, raw: &str, default: u32| -> Result<u32, AppError> {
            match raw.trim() {
                "" => Ok(default),
                raw => raw.parse().map_err(|_| {
                    AppError::invalid(field, format!("{field} must be a whole number"))
                }),
            }
        };
        Ok(AlertSettingsInput {
            url: url.to_owned(),
            format: AlertFormat::parse(format)
                .ok_or_else(|| AppError::invalid("format", "format must be json or slack"))?,
            consecutive_failures: number(
                "consecutiveFailures",
                consecutive_failures,
                default_consecutive_failures(),
            )?,
            success_rate_below: match success_rate_below.trim() {
                "" => None,
                raw => Some(number("successRateBelow", raw, 0)?),
            },
            window_minutes: number("windowMinutes", window_minutes, default_window_minutes())?,
            min_attempts: number("minAttempts", min_attempts, default_min_attempts())?,
            lag_minutes: number("lagMinutes", lag_minutes, default_lag_minutes())?,
        })
    }

    pub fn validated(self) -> Result<Valid<AlertSettingsInput>, AppError> {
        let in_range = |field: &str, value: u32, max: u32| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(AppError::invalid(
                    field,
                    format!("{field} must be from 1 to {max}"),
                ))
            }
        };
        in_range(
            "consecutiveFailures",
            self.consecutive_failures,
            CONSECUTIVE_FAILURES_MAX,
        )?;
        if let Some(rate) = self.success_rate_below {
            in_range("successRateBelow", rate, 100)?;
        }
        in_range("windowMinutes", self.window_minutes, WINDOW_MINUTES_MAX)?;
        in_range("minAttempts", self.min_attempts, MIN_ATTEMPTS_MAX)?;
        in_range("lagMinutes", self.lag_minutes, LAG_MINUTES_MAX)?;
        Ok(Valid::new(AlertSettingsInput {
            url: validate_url_field("url", &self.url)?,
            ..self
        }))
    }
}

/// The alert settings in force (`GET`/`PUT /api/settings/alerts`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettings {
    #[serde(flatten)]
    pub rules: AlertSettingsInput,
    /// The hook that carries the alerts: its log, its signing key (to
    /// verify them) and resends are on its page and under `/api/hooks`.
    pub hook_id: HookId,
}

/// What an incident is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentKind {
    /// Attempts keep failing (the failing rule); raises `hook.failing`,
    /// ends with `hook.recovered`.
    Failing,
    /// The dispatcher disabled the hook; raises `hook.disabled`, ends when
    /// it is enabled again.
    Disabled,
    /// A delivery ran out of retries; raises `delivery.exhausted`, ends
    /// with `hook.recovered`. Deliveries that run out while it is open are
    /// part of it.
    Exhausted,
    /// A delivery has waited longer than the lagging rule allows; raises
    /// `hook.lagging`, ends with `hook.recovered` once none has.
    Lagging,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failing => "failing",
            Self::Disabled => "disabled",
            Self::Exhausted => "exhausted",
            Self::Lagging => "lagging",
        }
    }

    pub fn parse(text: &str) -> Option<IncidentKind> {
        match text {
            "failing" => Some(Self::Failing),
            "disabled" => Some(Self::Disabled),
            "exhausted" => Some(Self::Exhausted),
            "lagging" => Some(Self::Lagging),
            _ => None,
        }
    }

    /// The operational event that opens it.
    pub fn event(self) -> &'static str {
        match self {
            Self::Failing => "hook.failing",
            Self::Disabled => "hook.disabled",
            Self::Exhausted => "delivery.exhausted",
            Self::Lagging => "hook.lagging",
        }
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Failing => "Failing",
            Self::Disabled => "Disabled",
            Self::Exhausted => "Retries exhausted",
            Self::Lagging => "Lagging",
        }
    }
}

/// One incident (`GET /api/incidents`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    pub id: IncidentId,
    pub hook_id: HookId,
    pub hook_name: String,
    pub kind: IncidentKind,
    /// What happened, in a sentence.
    pub reason: String,
    /// The first delivery that ran out of retries (kind `exhausted`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub delivery_id: Option<DeliveryId>,
    /// Unix ms.
    pub opened_at: i64,
    /// Unix ms; null while it lasts.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resolved_at: Option<i64>,
}

/// Which incidents to list.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentQuery {
    /// Only open ones (`open`) or only resolved ones (`resolved`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(pattern = "^(open|resolved)?$"))]
    pub state: Option<String>,
    /// Only this hook's.
    #[serde(default)]
    pub hook_id: Option<HookId>,
    /// At most this many, newest first (1 to 200; 50).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

/// [`IncidentQuery`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFilter {
    /// `Some(true)`: open only; `Some(false)`: resolved only.
    pub open: Option<bool>,
    pub hook_id: Option<HookId>,
    pub limit: u32,
}

pub const INCIDENTS_LIMIT_MAX: u32 = 200;

impl IncidentQuery {
    pub fn parse(self) -> Result<IncidentFilter, AppError> {
        let open = match self.state.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("open") => Some(true),
            Some("resolved") => Some(false),
            Some(_) => return Err(AppError::invalid("state", "state must be open or resolved")),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=INCIDENTS_LIMIT_MAX).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                format!("limit must be from 1 to {INCIDENTS_LIMIT_MAX}"),
            ));
        }
        Ok(IncidentFilter {
            open,
            hook_id: self.hook_id,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> AlertSettingsInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn only_the_url_is_required_and_null_turns_the_rate_rule_off() {
        let settings = input(serde_json::json!({ "url": "https://ops.example.com" }));
        assert_eq!(settings.format, AlertFormat::Json);
        assert_eq!(settings.consecutive_failures, 5);
        assert_eq!(settings.success_rate_below, Some(50));
        let no_rate =
            input(serde_json::json!({ "url": "https://o.example", "successRateBelow": null }));
        assert_eq!(no_rate.success_rate_below, None);
        assert!(no_rate.validated().is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        for (json, field) in [
            (serde_json::json!({ "url": "ftp://x" }), "url"),
            (
                serde_json::json!({ "url": "https://x", "consecutiveFailures": 0 }),
                "consecutiveFailures",
            ),
            (
                serde_json::json!({ "url": "https://x", "successRateBelow": 101 }),
                "successRateBelow",
            ),
            (
                serde_json::json!({ "url": "https://x", "windowMinutes": 1441 }),
                "windowMinutes",
            ),
            (
                serde_json::json!({ "url": "https://x", "minAttempts": 0 }),
                "minAttempts",
            ),
            (
                serde_json::json!({ "url": "https://x", "lagMinutes": 1441 }),
                "lagMinutes",
            ),
        ] {
            let err = input(json).validated().unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field));
        }
        let err =
            AlertSettingsInput::from_form("https://x", "json", "five", "", "", "", "").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("consecutiveFailures"));
        let form = AlertSettingsInput::from_form("https://x", "slack", "", "", "", "", "").unwrap();
        assert_eq!(form.success_rate_below, None);
        assert_eq!(form.lag_minutes, DEFAULT_LAG_MINUTES);
        let err =
            AlertSettingsInput::from_form("https://x", "json", "", "", "", "", "1.5").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("lagMinutes"));
        assert_eq!(form.format, AlertFormat::Slack);
    }

    #[test]
    fn incident_queries_are_checked() {
        let query = |state: &str, limit: Option<u32>| IncidentQuery {
            state: Some(state.into()),
            hook_id: None,
            limit,
        };
        assert_eq!(query("open", None).parse().unwrap().open, Some(true));
        assert_eq!(query("", Some(200)).parse().unwrap().limit, 200);
        assert!(query("closed", None).parse().is_err());
        assert!(query("open", Some(0)).parse().is_err());
    }
}
