use domain::ids::UserId;
use domain::user::User;

use super::{on_backend, Store, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

impl UserRow {
    pub fn into_user(self) -> StoreResult<User> {
        Ok(User {
            id: self.id,
            email: self.email,
            role: self.role.parse()?,
            created_at: self.created_at,
        })
    }
}

impl Store {
    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(
            on_backend!(&self.pool, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await)?,
        )
    }

    pub async fn insert_user(&self, row: &UserRow) -> StoreResult<()> {
        self.insert_user_where(row, "TRUE").await.map(drop)
    }

    /// Inserts the user only if there is no user yet; false if one already exists.
    pub async fn insert_first_user(&self, row: &UserRow) -> StoreResult<bool> {
        self.insert_user_where(row, "NOT EXISTS (SELECT 1 FROM users)")
            .await
    }

    /// Inserts `row` if `condition` (SQL) holds, in one statement; true if it did.
    async fn insert_user_where(&self, row: &UserRow, condition: &'static str) -> StoreResult<bool> {
        let sql = format!(
            "INSERT INTO users (id, email, password_hash, role, created_at)
             SELECT $1, $2, $3, $4, $5 WHERE {condition}"
        );
        let inserted = on_backend!(&self.writer, pool => sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.email)
            .bind(&row.password_hash)
            .bind(&row.role)
            .bind(row.created_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(inserted == 1)
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        Ok(
            on_backend!(&self.pool, pool => sqlx::query_as("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await)?,
        )
    }

    pub async fn list_users(&self) -> StoreResult<Vec<UserRow>> {
        Ok(
            on_backend!(&self.pool, pool => sqlx::query_as("SELECT * FROM users ORDER BY created_at, email")
            .fetch_all(pool)
            .await)?,
        )
    }

    /// Deletes the user unless it is the last admin; false when nothing was deleted.
    pub async fn delete_user_keeping_an_admin(&self, id: &UserId) -> StoreResult<bool> {
        let deleted = on_backend!(&self.writer, pool => sqlx::query(
            "DELETE FROM users WHERE id = $1
             AND (role <> 'admin' OR (SELECT COUNT(*) FROM users WHERE role = 'admin') > 1)",
        )
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(deleted == 1)
    }

    pub async fn user_exists(&self, id: &UserId) -> StoreResult<bool> {
        Ok(on_backend!(&self.pool, pool => sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)",
        )
        .bind(id)
        .fetch_one(pool)
        .await)?)
    }
}
