//! Hookline's domain: the types the console (browser) and the server share,
//! the one error type, and (feature `ports`) the traits through which the
//! console's server functions and the REST API reach the server's service.
//! It depends on no web framework and no database.

pub mod alert;
pub mod api_key;
pub mod catalog;
pub mod delivery;
pub mod error;
pub mod event_type;
pub mod filter;
pub mod hook;
pub mod ids;
pub mod key_ring;
pub mod lag;
pub mod overview;
pub mod policy;
#[cfg(feature = "ports")]
pub mod ports;
pub mod search;
pub mod settings;
pub mod source;
pub mod time;
pub mod user;
mod valid;

pub use valid::Valid;

pub use error::{AppError, ErrorCode};

/// A text that names none of an enum's values (for example a stored value
/// this version does not know): an error, never a guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// `FromStr` for an enum with `parse(&str) -> Option<Self>`, naming what
/// it could not read.
macro_rules! from_str_by_parse {
    ($type:ty, $kind:literal) => {
        impl std::str::FromStr for $type {
            type Err = $crate::UnknownValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or_else(|| $crate::UnknownValue {
                    kind: $kind,
                    value: text.to_owned(),
                })
            }
        }
    };
}
pub(crate) use from_str_by_parse;

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
