//! The one error type every layer speaks: the store, the service, the REST API
//! (as `{"code", "message"}`) and, wrapped as the console's `ConsoleError`,
//! its server functions.

use serde::{Deserialize, Serialize};

/// What kind of failure this is; each maps to one HTTP status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was understood but a field is wrong (400).
    InvalidInput,
    /// No valid credentials (401).
    Unauthorized,
    /// Valid credentials, not allowed to do this (403).
    Forbidden,
    /// No such resource (404).
    NotFound,
    /// The route exists, the method does not (405).
    MethodNotAllowed,
    /// The request clashes with the current state (409).
    Conflict,
    /// The body is larger than allowed (413).
    PayloadTooLarge,
    /// Well-formed, but the event does not match its type's JSON Schema (422).
    SchemaMismatch,
    /// Too many attempts; try again later (429).
    TooManyRequests,
    /// Something failed on our side (500); never caused by client input.
    Internal,
    /// The database cannot be reached for now (503); the answer says when to
    /// retry (`Retry-After`).
    Unavailable,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidInput => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::SchemaMismatch => 422,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field at fault, so a form can show the message beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before trying again, for refusals that pass (also sent
    /// as the `Retry-After` header).
    #[serde(
        default,
        rename = "retryAfter",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// Says when to try again: at least a second, as `Retry-After` counts.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// A bad value in one named input field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            message: message.into(),
            field: Some(field.to_owned()),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "sign in or present a valid API key",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "your role can read but not change anything",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error; see the server log")
    }

    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "the database cannot be reached for now; try again shortly",
        )
    }

    /// The message to show beside `field`, if this error is about it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}
