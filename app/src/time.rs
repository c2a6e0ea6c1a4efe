//! The console's one clock reading. On the server only: timestamps are unix
//! milliseconds everywhere, and the browser never reads the clock.

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
