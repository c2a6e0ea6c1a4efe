//! The `sources` table: systems whose webhooks are taken in as events.

use domain::ids::SourceId;

use super::{on_backend, Store, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceRow {
    pub id: SourceId,
    pub name: String,
    /// `SourceKind::as_str`.
    pub kind: String,
    pub signing_key: String,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_source(&self, row: &SourceRow) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query(
            "INSERT INTO sources (id, name, kind, signing_key, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.signing_key)
        .bind(row.created_at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Every source, newest first.
    pub async fn list_sources(&self) -> StoreResult<Vec<SourceRow>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT * FROM sources ORDER BY created_at DESC, id",
        )
        .fetch_all(pool)
        .await)?)
    }

    pub async fn source(&self, id: &SourceId) -> StoreResult<Option<SourceRow>> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT * FROM sources WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn delete_source(&self, id: &SourceId) -> StoreResult<bool> {
        let deleted = on_backend!(&self.writer, pool => sqlx::query("DELETE FROM sources WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }
}
