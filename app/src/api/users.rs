//! Console users, for the console.

use leptos::prelude::*;

use crate::model::user::User;
use crate::model::AppError;

#[server]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    let (console, actor) = super::session::actor().await?;
    console.list_users(&actor).await
}

#[server]
pub async fn create_user(email: String, password: String, role: String) -> Result<User, AppError> {
    let (console, actor) = super::session::actor().await?;
    let role = crate::model::user::Role::parse(&role)
        .ok_or_else(|| AppError::invalid("role", "role must be admin or viewer"))?;
    console.create_user(&actor, &email, &password, role).await
}

#[server]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    let (console, actor) = super::session::actor().await?;
    console.delete_user(&actor, &id).await
}
