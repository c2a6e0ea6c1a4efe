use domain::api_key::ApiKey;
use domain::ids::ApiKeyId;

use super::{on_backend, Store, StoreResult};

/// Key usage is recorded at most this often per key, to keep reads cheap.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiKeyRow {
    pub fn into_api_key(self) -> ApiKey {
        ApiKey {
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        }
    }
}

impl Store {
    pub async fn insert_api_key(&self, row: &ApiKeyRow) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query(
            "INSERT INTO api_keys (id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.prefix)
        .bind(&row.key_hash)
        .bind(row.created_at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    pub async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT * FROM api_keys ORDER BY revoked_at IS NOT NULL, created_at DESC",
        )
        .fetch_all(pool)
        .await)?)
    }

    /// The id of the unrevoked key with this hash, noting that it was used.
    pub async fn use_api_key(&self, key_hash: &str, now: i64) -> StoreResult<Option<ApiKeyId>> {
        let row: Option<(ApiKeyId, Option<i64>)> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT id, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(pool)
        .await)?;
        let Some((id, last_used_at)) = row else {
            return Ok(None);
        };
        if last_used_at.is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS) {
            on_backend!(&self.writer, pool => sqlx::query(
                "UPDATE api_keys SET last_used_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(&id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        }
        Ok(Some(id))
    }

    /// Revokes the key; false when there is no such unrevoked key.
    pub async fn revoke_api_key(&self, id: &ApiKeyId, now: i64) -> StoreResult<bool> {
        let revoked = on_backend!(&self.writer, pool => sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(revoked == 1)
    }
}
