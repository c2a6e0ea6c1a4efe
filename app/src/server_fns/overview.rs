//! The overview, for the console's home page.

use leptos::prelude::*;

use domain::overview::Overview;

use super::ConsoleError;

#[server]
pub async fn get_overview() -> Result<Overview, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.overview(&actor).await?)
}
