//! Types shared by the console (browser) and the server.

pub mod api_key;
pub mod catalog;
pub mod error;
pub mod hook;
pub mod time;
pub mod user;

pub use error::{AppError, ErrorCode};
