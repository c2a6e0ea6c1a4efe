//! Settings changed in the console, shared by every instance.

use super::{on_backend, Store, StoreResult};

impl Store {
    pub async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await)?)
    }

    /// Sets `key`, or removes it when `value` is `None`.
    pub async fn set_setting(&self, key: &str, value: Option<&str>, now: i64) -> StoreResult<()> {
        on_backend!(&self.writer, pool => match value {
            Some(value) => sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()),
            None => sqlx::query("DELETE FROM settings WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
        })?;
        Ok(())
    }
}
