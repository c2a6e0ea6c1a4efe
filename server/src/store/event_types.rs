//! Custom event types.

use super::{on_backend, JsonText, Store, StoreResult};
use domain::event_type::{EventTypeInfo, NewEventType, CUSTOM_GROUP};
use domain::Valid;

#[derive(sqlx::FromRow)]
struct EventTypeRow {
    name: String,
    description: String,
    schema: Option<JsonText<serde_json::Value>>,
}

impl Store {
    pub async fn insert_event_type(
        &self,
        input: &Valid<NewEventType>,
        now: i64,
    ) -> StoreResult<()> {
        on_backend!(&self.writer, pool => sqlx::query(
            "INSERT INTO event_types (name, description, schema, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&input.name)
        .bind(&input.description)
        .bind(input.schema.as_ref().map(JsonText))
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Every custom type, by name.
    pub async fn custom_event_types(&self) -> StoreResult<Vec<EventTypeInfo>> {
        let rows: Vec<EventTypeRow> = on_backend!(&self.pool, pool => sqlx::query_as(
            "SELECT name, description, schema FROM event_types ORDER BY name",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|row| EventTypeInfo {
                name: row.name,
                group: CUSTOM_GROUP.to_owned(),
                description: row.description,
                example: None,
                schema: row.schema.map(|s| s.0),
                custom: true,
            })
            .collect())
    }

    pub async fn custom_event_names(&self) -> StoreResult<Vec<String>> {
        Ok(
            on_backend!(&self.pool, pool => sqlx::query_scalar("SELECT name FROM event_types ORDER BY name")
            .fetch_all(pool)
            .await)?,
        )
    }

    /// `None` when no custom type has this name; `Some(None)` when it has no schema.
    pub async fn custom_event_schema(
        &self,
        name: &str,
    ) -> StoreResult<Option<Option<serde_json::Value>>> {
        let row: Option<(Option<JsonText<serde_json::Value>>,)> = on_backend!(&self.pool, pool =>
            sqlx::query_as("SELECT schema FROM event_types WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await)?;
        Ok(row.map(|(schema,)| schema.map(|s| s.0)))
    }
}
