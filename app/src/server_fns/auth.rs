//! Signing in and out, the first-run setup, and who is signed in.

use leptos::prelude::*;

use domain::user::User;

use super::ConsoleError;

/// The signed-in user, or `None`.
#[server]
pub async fn current_user() -> Result<Option<User>, ConsoleError> {
    use domain::ports::ActorKind;
    let actor = super::session::current_actor().await?;
    Ok(actor.and_then(|a| match a.kind {
        ActorKind::User(user) => Some(user),
        ActorKind::ApiKey { .. } => None,
    }))
}

#[server]
pub async fn sign_in(email: String, password: String) -> Result<(), ConsoleError> {
    let client = super::session::client_addr()?;
    let session = super::session::console()?
        .sign_in(&email, &password, client)
        .await?;
    super::session::set_session_cookie(Some(&session))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn sign_out() -> Result<(), ConsoleError> {
    if let Some(token) = super::session::session_token()? {
        super::session::console()?.sign_out(&token).await?;
    }
    super::session::set_session_cookie(None)?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// True while no user exists yet.
#[server]
pub async fn setup_required() -> Result<bool, ConsoleError> {
    Ok(super::session::console()?.setup_required().await?)
}

#[server]
pub async fn complete_setup(
    token: String,
    email: String,
    password: String,
) -> Result<(), ConsoleError> {
    let session = super::session::console()?
        .complete_setup(&token, &email, &password)
        .await?;
    super::session::set_session_cookie(Some(&session))?;
    leptos_axum::redirect("/");
    Ok(())
}
