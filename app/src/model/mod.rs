//! Types shared by the console (browser) and the server.

pub mod api_key;
pub mod catalog;
pub mod delivery;
pub mod error;
pub mod event_type;
pub mod hook;
pub mod settings;
pub mod time;
pub mod user;

pub use error::{AppError, ErrorCode};

/// A short required text field: trimmed, 1 to `max` characters.
pub fn required_text(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if text.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(text.to_owned())
}
