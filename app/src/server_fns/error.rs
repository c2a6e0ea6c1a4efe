//! The error server functions send: the domain's `AppError`, carried with
//! its HTTP status. A type of the console's own, because `AppError` lives in
//! the `domain` crate, which knows no web framework.

use serde::{Deserialize, Serialize};

use domain::{AppError, ErrorCode};

/// An [`AppError`] as a server function returns it. Everything that returns
/// `AppError` converts with `?`, and it reads like one (`Deref`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(transparent)]
#[error(transparent)]
pub struct ConsoleError(pub AppError);

impl From<AppError> for ConsoleError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl std::ops::Deref for ConsoleError {
    type Target = AppError;

    fn deref(&self) -> &AppError {
        &self.0
    }
}

impl leptos::server_fn::error::FromServerFnError for ConsoleError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // The console could not reach the server or send its arguments.
            E::Request(message) | E::Registration(message) => {
                AppError::new(ErrorCode::Internal, format!("request failed: {message}")).into()
            }
            // Arguments that could not be read are the caller's mistake.
            E::Args(message) | E::MissingArg(message) | E::Deserialization(message) => {
                AppError::new(ErrorCode::InvalidInput, message).into()
            }
            other => AppError::new(ErrorCode::Internal, other.to_string()).into(),
        }
    }

    /// Runs on the server as a server function's error is sent back: the one
    /// place that gives console errors their HTTP status (a 403 for a viewer,
    /// a 400 for bad input) instead of server_fn's blanket 500.
    ///
    /// A plain HTML form's post (the sign-in page loads no wasm) keeps
    /// server_fn's redirect back to the form, the error in its URL: with a
    /// 4xx instead the browser would show this JSON.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let (Some(response), false) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            super::session::is_plain_form_post(),
        ) {
            if let Ok(status) = http::StatusCode::from_u16(self.code.http_status()) {
                response.set_status(status);
            }
            if let Some(seconds) = self.retry_after {
                response.insert_header(http::header::RETRY_AFTER, seconds.into());
            }
        }
        use leptos::server_fn::Encodes;
        leptos::server_fn::codec::JsonEncoding::encode(self).unwrap_or_default()
    }
}
