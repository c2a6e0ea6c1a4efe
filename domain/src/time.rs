//! Timestamps are unix milliseconds everywhere (Logto's `createdAt` is too).

/// `2026-11-22 15:04:05 UTC` for a unix-ms timestamp.
pub fn format_utc(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(i64::MAX), format!("{} ms", i64::MAX));
    }
}
