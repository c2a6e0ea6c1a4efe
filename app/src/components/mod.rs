//! Reusable pieces of the console.

mod auth_card;
mod confirm;
mod copy;
mod feedback;
mod status;

pub use auth_card::AuthCard;
pub use confirm::ConfirmButton;
pub use copy::CopyButton;
pub use feedback::{ErrorNotice, FieldError, Loading, PageHeader};
pub use status::AttemptStatus;
