//! Sessions, sign-in and the first-run setup.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Instant;

use async_trait::async_trait;
use domain::ports::{Actor, ActorKind, NewSession, SessionPort};
use domain::user::{validate_email, validate_password, Role, User};
use domain::{AppError, ErrorCode};

use super::secrets::{hash_password, random_alphanumeric, sha256_hex, verify_password};
use super::{Service, SESSION_TTL};
use crate::clock::now_ms;
use crate::store::UserRow;

/// Longer addresses are refused at once (RFC 5321's limit).
const MAX_EMAIL_LEN: usize = 254;

/// Checked against when the email is unknown, so a miss costs as much as a wrong password.
static UNKNOWN_USER_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&random_alphanumeric(32)).unwrap_or_default());

#[async_trait]
impl SessionPort for Service {
    async fn session_actor(&self, token: &str) -> Result<Option<Actor>, AppError> {
        let row = self
            .store
            .session_user(&sha256_hex(token), now_ms())
            .await?;
        let Some(user) = row.map(UserRow::into_user).transpose()? else {
            return Ok(None);
        };
        Ok(Some(Actor {
            role: user.role,
            kind: ActorKind::User(user),
        }))
    }

    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<NewSession, AppError> {
        let wrong = || AppError::new(ErrorCode::Unauthorized, "wrong email or password");
        let email = email.trim().to_lowercase();
        // No account has such an address; don't let it into the throttle's memory.
        if email.len() > MAX_EMAIL_LEN {
            return Err(wrong());
        }
        if let Err(wait) = self
            .login_throttle
            .begin_attempt(client, &email, Instant::now())
        {
            return Err(AppError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "too many sign-ins; try again in {} s",
                    wait.as_secs_f64().ceil().max(1.0)
                ),
            )
            .retry_after(wait));
        }
        let row = self.store.user_by_email(&email).await?;
        let hash = row.as_ref().map(|r| r.password_hash.clone());
        let password = password.to_owned();
        let checked = self
            .password_checks
            .run(move || verify_password(&password, hash.as_deref().unwrap_or(&UNKNOWN_USER_HASH)))
            .await;
        let matches = match checked {
            Ok(matches) => matches,
            Err(busy) => {
                // Not a guess: it does not count, but the failures before it do.
                self.login_throttle.undo_attempt(client, &email);
                return Err(busy);
            }
        };
        match row {
            Some(row) if matches => {
                self.login_throttle
                    .record_success(client, &email, Instant::now());
                self.start_session(row.into_user()?).await
            }
            _ => {
                self.login_throttle
                    .record_failure(client, &email, Instant::now());
                Err(wrong())
            }
        }
    }

    async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        Ok(self.store.delete_session(&sha256_hex(token)).await?)
    }

    async fn setup_required(&self) -> Result<bool, AppError> {
        Ok(self.store.count_users().await? == 0)
    }

    async fn complete_setup(
        &self,
        token: &str,
        email: &str,
        password: &str,
    ) -> Result<NewSession, AppError> {
        let expected = self
            .setup_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // Compare digests so the comparison time says nothing about the token.
        if expected.is_none_or(|expected| sha256_hex(&expected) != sha256_hex(token)) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "this setup link is not valid; use the one the server printed at start",
            ));
        }
        let email = validate_email(email)?;
        validate_password(password)?;
        let row = self.new_user_row(&email, password, Role::Admin).await?;
        if !self.store.insert_first_user(&row).await? {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "setup is already done; sign in instead",
            ));
        }
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.start_session(row.into_user()?).await
    }
}

impl Service {
    /// The actor behind an API key (`Authorization: Bearer …`). Keys act as
    /// admins. A key found valid is not looked up again for a moment (see
    /// `known_keys`).
    pub async fn api_key_actor(&self, key: &str) -> Result<Option<Actor>, AppError> {
        let key_hash = sha256_hex(key);
        let id = match self.known_keys.get(&key_hash, Instant::now()) {
            Ok(id) => Some(id),
            Err(lookup) => {
                let id = self.store.use_api_key(&key_hash, now_ms()).await?;
                if let Some(id) = &id {
                    self.known_keys
                        .remember(lookup, key_hash, id.clone(), Instant::now());
                }
                id
            }
        };
        Ok(id.map(|id| Actor {
            role: Role::Admin,
            kind: ActorKind::ApiKey { id },
        }))
    }

    pub(super) async fn start_session(&self, user: User) -> Result<NewSession, AppError> {
        let token = random_alphanumeric(43);
        let now = now_ms();
        let expires_at = now + SESSION_TTL.as_millis() as i64;
        self.store.delete_expired_sessions(now).await?;
        self.store
            .insert_session(&sha256_hex(&token), &user.id, now, expires_at)
            .await?;
        Ok(NewSession {
            user,
            token,
            expires_at,
        })
    }

    /// When no user exists yet, makes (once) and returns the one-time setup token.
    pub async fn open_setup(&self) -> Result<Option<String>, AppError> {
        if !self.setup_required().await? {
            return Ok(None);
        }
        let mut slot = self.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Some(
            slot.get_or_insert_with(|| random_alphanumeric(32)).clone(),
        ))
    }
}
