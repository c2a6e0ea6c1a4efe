//! Reusable pieces of the console.

mod confirm;
mod copy;
mod feedback;

pub use confirm::ConfirmButton;
pub use copy::CopyButton;
pub use feedback::{ErrorNotice, FieldError, Loading, PageHeader};
