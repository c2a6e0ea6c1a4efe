//! Console users, for the console.

use leptos::prelude::*;

use domain::ids::UserId;
use domain::user::User;

use super::ConsoleError;

#[server]
pub async fn list_users() -> Result<Vec<User>, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.list_users(&actor).await?)
}

#[server]
pub async fn create_user(
    email: String,
    password: String,
    role: String,
) -> Result<User, ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    let role = domain::user::Role::parse(&role)
        .ok_or_else(|| domain::AppError::invalid("role", "role must be admin or viewer"))?;
    Ok(console.create_user(&actor, &email, &password, role).await?)
}

#[server]
pub async fn delete_user(id: UserId) -> Result<(), ConsoleError> {
    let (console, actor) = super::session::actor().await?;
    Ok(console.delete_user(&actor, &id).await?)
}
