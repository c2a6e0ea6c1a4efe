use app::model::hook::{Headers, Hook, HookConfig, HookPatch, NewHook};

use sqlx::types::Json;

use super::{Store, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HookRow {
    pub id: String,
    pub name: String,
    #[sqlx(json)]
    pub events: Vec<String>,
    pub url: String,
    #[sqlx(json)]
    pub headers: Headers,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub signing_key: String,
    pub previous_signing_key: Option<String>,
    pub previous_key_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl HookRow {
    /// A new hook's row: enabled as asked, no rotation under way.
    pub fn new(id: String, hook: NewHook, signing_key: String, now: i64) -> HookRow {
        HookRow {
            id,
            name: hook.name,
            events: hook.events,
            url: hook.config.url,
            headers: hook.config.headers,
            enabled: hook.enabled.unwrap_or(true),
            disabled_reason: None,
            signing_key,
            previous_signing_key: None,
            previous_key_expires_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn into_hook(self) -> Hook {
        Hook {
            id: self.id,
            name: self.name,
            events: self.events,
            config: HookConfig {
                url: self.url,
                headers: self.headers,
            },
            signing_key: self.signing_key,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
            execution_stats: None,
        }
    }
}

impl Store {
    pub async fn insert_hook(&self, row: &HookRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO hooks (id, name, events, url, headers, enabled, disabled_reason, signing_key,
                                previous_signing_key, previous_key_expires_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(Json(&row.events))
        .bind(&row.url)
        .bind(Json(&row.headers))
        .bind(row.enabled)
        .bind(&row.disabled_reason)
        .bind(&row.signing_key)
        .bind(&row.previous_signing_key)
        .bind(row.previous_key_expires_at)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Changes the fields `patch` sets, in one statement so concurrent changes
    /// never undo each other; `None` if the hook is gone. Enabling clears the
    /// disabled reason.
    pub async fn patch_hook(
        &self,
        id: &str,
        patch: &HookPatch,
        now: i64,
    ) -> StoreResult<Option<HookRow>> {
        let config = patch.config.as_ref();
        sqlx::query_as(
            "UPDATE hooks SET
                name = COALESCE(?, name),
                events = COALESCE(?, events),
                url = COALESCE(?, url),
                headers = COALESCE(?, headers),
                enabled = COALESCE(?, enabled),
                disabled_reason = CASE WHEN ? THEN NULL ELSE disabled_reason END,
                updated_at = ?
             WHERE id = ?
             RETURNING *",
        )
        .bind(&patch.name)
        .bind(patch.events.as_ref().map(Json))
        .bind(config.map(|c| &c.url))
        .bind(config.map(|c| Json(&c.headers)))
        .bind(patch.enabled)
        .bind(patch.enabled == Some(true))
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Replaces the signing key, keeping the old one until `previous_expires_at`.
    pub async fn rotate_signing_key(
        &self,
        id: &str,
        new_key: &str,
        previous_expires_at: i64,
        now: i64,
    ) -> StoreResult<Option<HookRow>> {
        sqlx::query_as(
            "UPDATE hooks SET previous_signing_key = signing_key, signing_key = ?,
                              previous_key_expires_at = ?, updated_at = ?
             WHERE id = ?
             RETURNING *",
        )
        .bind(new_key)
        .bind(previous_expires_at)
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn hook(&self, id: &str) -> StoreResult<Option<HookRow>> {
        sqlx::query_as("SELECT * FROM hooks WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Every hook, newest first.
    pub async fn list_hooks(&self) -> StoreResult<Vec<HookRow>> {
        sqlx::query_as("SELECT * FROM hooks ORDER BY created_at DESC, id")
            .fetch_all(&self.pool)
            .await
    }

    pub async fn delete_hook(&self, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM hooks WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
