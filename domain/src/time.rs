//! Timestamps are unix milliseconds everywhere (Logto's `createdAt` is too).

/// `2026-11-22 15:04:05 UTC` for a unix-ms timestamp.
pub fn format_utc(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{ms} ms"),
    }
}

/// A browser's `datetime-local` value (`2026-11-22T15:04`), read as UTC like
/// every time the console shows, as unix ms.
pub fn parse_datetime_local(text: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// A span of milliseconds in its two largest units: `45 s`, `12 min`,
/// `3 h 5 min`, `2 d 4 h`.
pub fn format_age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A wait or latency in ms: `250 ms` under a second, else as
/// [`format_age`].
pub fn format_lag(ms: i64) -> String {
    if ms < 1000 {
        format!("{} ms", ms.max(0))
    } else {
        format_age(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_under_a_second_read_in_ms() {
        assert_eq!(format_lag(3), "3 ms");
        assert_eq!(format_lag(999), "999 ms");
        assert_eq!(format_lag(90_000), "1 min");
    }

    #[test]
    fn ages_read_in_their_two_largest_units() {
        assert_eq!(format_age(-5), "0 s");
        assert_eq!(format_age(45_999), "45 s");
        assert_eq!(format_age(12 * 60_000 + 30_000), "12 min");
        assert_eq!(format_age(3 * 3_600_000), "3 h");
        assert_eq!(format_age(3 * 3_600_000 + 5 * 60_000), "3 h 5 min");
        assert_eq!(format_age(2 * 86_400_000 + 60_000), "2 d");
        assert_eq!(format_age(2 * 86_400_000 + 4 * 3_600_000), "2 d 4 h");
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(i64::MAX), format!("{} ms", i64::MAX));
    }
}
