//! Reusable pieces of the console, one concern per module. Pages import from
//! here, never from each other.

mod access;
mod auth_card;
mod badges;
mod chart;
mod confirm;
mod copy;
mod feedback;
mod filter_field;
mod held_notice;
mod hook_form;
mod hook_tabs;
mod incident_banner;
mod live;
mod page_data;
mod pager;
mod policy_fields;
mod text_field;
mod theme;

pub use access::{can_write, AdminOnly, CurrentUser};
pub use auth_card::AuthCard;
pub use badges::{AttemptStatus, HealthLabel, StateBadge};
pub use chart::Chart;
pub use confirm::{ConfirmButton, RemoveCell};
pub use copy::{CopyButton, MadeNotice};
pub use feedback::{action_error, ErrorNotice, FieldError, Loading, PageHeader};
pub use held_notice::HeldNotice;
pub use hook_form::HookForm;
pub use hook_tabs::{HookTabs, Tab};
pub use incident_banner::IncidentBanner;
pub use live::{live_any_attempts, live_attempts};
pub use page_data::PageData;
pub use pager::Pager;
pub use text_field::TextField;
pub use theme::{ChosenTheme, ThemeToggle};
