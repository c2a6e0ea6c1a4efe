use super::users::UserRow;
use super::{on_backend, Store, StoreResult};
use domain::ids::UserId;

impl Store {
    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: &UserId,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// The user of an unexpired session.
    pub async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<UserRow>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
             WHERE sessions.token_hash = $1 AND sessions.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Forgets sessions that have ended.
    pub async fn delete_expired_sessions(&self, now: i64) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
