//! Settings an admin changes in the console.

use serde::{Deserialize, Serialize};

use super::AppError;

/// The longest retention the console accepts: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// How long the delivery log is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionSettings {
    /// The window in force, in milliseconds.
    pub effective_ms: i64,
    /// The server's default (`--retention`), in force when nothing is saved.
    pub default_ms: i64,
    /// True when a value saved in the console replaces the default.
    pub saved: bool,
}

impl RetentionSettings {
    /// The window in force in whole days, rounded down (at least 0).
    pub fn effective_days(&self) -> i64 {
        self.effective_ms / DAY_MS
    }
}

/// Days as the console's form sends them: empty means "back to the default".
pub fn parse_retention_days(raw: &str) -> Result<Option<u32>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<u32>() {
        Ok(days) if (1..=MAX_RETENTION_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(AppError::invalid(
            "days",
            format!("days must be a whole number from 1 to {MAX_RETENTION_DAYS}"),
        )),
    }
}

/// Days as milliseconds.
pub fn days_ms(days: u32) -> i64 {
    i64::from(days) * DAY_MS
}

/// A window as people say it: "14 days", "1 day", "36 hours".
pub fn describe_window(ms: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if ms % DAY_MS == 0 {
        plural(ms / DAY_MS, "day")
    } else {
        plural(ms / 3_600_000, "hour")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_checked() {
        assert_eq!(parse_retention_days(" 30 ").unwrap(), Some(30));
        assert_eq!(parse_retention_days("").unwrap(), None);
        for bad in ["0", "-1", "3651", "1.5", "two"] {
            let err = parse_retention_days(bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("days"), "{bad}");
        }
    }

    #[test]
    fn windows_read_naturally() {
        assert_eq!(describe_window(days_ms(14)), "14 days");
        assert_eq!(describe_window(days_ms(1)), "1 day");
        assert_eq!(describe_window(36 * 3_600_000), "36 hours");
    }
}
