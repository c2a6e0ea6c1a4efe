//! Hookline's domain: the types the console (browser) and the server share,
//! the one error type, and (feature `ports`) the traits through which the
//! console's server functions and the REST API reach the server's service.
//! It depends on no web framework and no database.

pub mod api_key;
pub mod catalog;
pub mod delivery;
pub mod error;
pub mod event_type;
pub mod hook;
#[cfg(feature = "ports")]
pub mod ports;
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
