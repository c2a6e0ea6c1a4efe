//! The console's server functions, one module per resource. Each one is thin:
//! find the caller, call one method of the `Console` port, return its result.

pub mod api_keys;
pub mod auth;
mod error;
pub mod hooks;
pub mod logs;
#[cfg(feature = "ssr")]
pub mod session;
pub mod settings;
pub mod users;

pub use error::ConsoleError;
