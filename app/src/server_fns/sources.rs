//! Sources, for the console.

use leptos::prelude::*;

use domain::ids::SourceId;
use domain::source::Source;

use super::ConsoleError;

#[server]
pub async fn list_sources() -> Result<Vec<Source>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console
        .list_sources(&actor, &super::session::public_origin()?)
        .await?)
}

#[server]
pub async fn create_source(name: String, signing_key: String) -> Result<Source, ConsoleError> {
    use domain::source::{NewSource, SourceKind};
    let (console, actor) = super::session::actor().await?;
    let input = NewSource {
        name,
        kind: SourceKind::Logto,
        signing_key,
    };
    Ok(console
        .create_source(&actor, input, &super::session::public_origin()?)
        .await?)
}

#[server]
pub async fn delete_source(id: SourceId) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.delete_source(&actor, &id).await?)
}
