//! Settings changed in the console, shared by every instance.

use super::{on_backend, Store, StoreResult, Tx};

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
        let mut tx = self.begin().await?;
        set_setting_in(&mut tx, key, value, now).await?;
        tx.commit().await
    }
}

/// [`Store::set_setting`] within `tx`.
pub(super) async fn set_setting_in(
    tx: &mut Tx<'_>,
    key: &str,
    value: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    on_backend!(tx, tx => match value {
        Some(value) => sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map(|done| done.rows_affected()),
        None => sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(key)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()),
    })?;
    Ok(())
}
