//! The console's server functions (the console's own calls, not the REST API
//! under `/api`), one module per resource. Each one is thin: find the caller,
//! call one method of the `Console` port, return its result.

pub mod alerts;
pub mod api_keys;
pub mod auth;
pub mod deliveries;
mod error;
pub mod event_types;
pub mod hooks;
pub mod overview;
pub mod requests;
pub mod search;
#[cfg(feature = "ssr")]
pub mod session;
pub mod settings;
pub mod sources;
pub mod users;

pub use error::ConsoleError;
