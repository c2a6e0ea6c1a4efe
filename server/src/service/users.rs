//! Console users: admins add admins and viewers.

use async_trait::async_trait;
use domain::ids::UserId;
use domain::ports::{Actor, ActorKind, UserPort};
use domain::user::{validate_email, validate_password, Role, User};
use domain::{AppError, ErrorCode};

use super::password_checks::PasswordChecks;
use super::secrets::hash_password;
use super::Service;
use crate::clock::now_ms;
use crate::ids::new_id;
use crate::store::{Store, StoreError, StoreResult, UserRow};

#[async_trait]
impl UserPort for Service {
    async fn list_users(&self, _actor: &Actor) -> Result<Vec<User>, AppError> {
        let rows = self.store.list_users().await?;
        Ok(rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<StoreResult<_>>()?)
    }

    async fn create_user(
        &self,
        actor: &Actor,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AppError> {
        actor.require_write()?;
        self.add_user(email, password, role).await
    }

    async fn delete_user(&self, actor: &Actor, id: &UserId) -> Result<(), AppError> {
        actor.require_write()?;
        if matches!(&actor.kind, ActorKind::User(me) if me.id == *id) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "you cannot delete yourself",
            ));
        }
        if self.store.delete_user_keeping_an_admin(id).await? {
            return Ok(());
        }
        if self.store.user_exists(id).await? {
            Err(AppError::new(
                ErrorCode::Conflict,
                "the last admin cannot be deleted",
            ))
        } else {
            Err(AppError::not_found("user"))
        }
    }
}

impl Service {
    /// Adds a user without an actor (see [`add_user`]).
    pub async fn add_user(
        &self,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AppError> {
        add_user(&self.store, &self.password_checks, email, password, role).await
    }

    /// A user row with a freshly hashed password (see [`new_user_row`]).
    pub(super) async fn new_user_row(
        &self,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<UserRow, AppError> {
        new_user_row(&self.password_checks, email, password, role).await
    }
}

/// Adds a user without an actor: for the `admin create` command, run by the
/// operator, which needs only the store for it.
pub async fn add_user(
    store: &Store,
    checks: &PasswordChecks,
    email: &str,
    password: &str,
    role: Role,
) -> Result<User, AppError> {
    let email = validate_email(email)?;
    validate_password(password)?;
    if role != Role::Admin && store.count_users().await? == 0 {
        return Err(AppError::invalid("role", "the first user must be an admin"));
    }
    let row = new_user_row(checks, &email, password, role).await?;
    match store.insert_user(&row).await {
        Ok(()) => Ok(row.into_user()?),
        Err(StoreError::Duplicate(_)) => Err(AppError::invalid(
            "email",
            format!("a user with email {email} already exists"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// A user row with a freshly hashed password (argon2 runs off the async
/// threads, under the bound on password checks).
async fn new_user_row(
    checks: &PasswordChecks,
    email: &str,
    password: &str,
    role: Role,
) -> Result<UserRow, AppError> {
    let password = password.to_owned();
    let password_hash = checks
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::internal()
        })?;
    Ok(UserRow {
        id: new_id(),
        email: email.to_owned(),
        password_hash,
        role: role.as_str().to_owned(),
        created_at: now_ms(),
    })
}
