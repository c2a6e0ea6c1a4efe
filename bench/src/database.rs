//! A fresh database for each setup, and a log filled up to a size.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::{PgPool, SqlitePool};
use tempfile::TempDir;

use crate::report::DeliveryStates;

/// Runs `$run` with `$pool` connected to the database, whichever kind it is:
/// the same code compiled for each sqlx driver.
macro_rules! with_pool {
    ($database:expr, $pool:ident => $run:expr) => {
        match $database {
            Database::Sqlite { url, .. } => {
                let $pool = SqlitePool::connect(url).await?;
                $run
            }
            Database::Postgres { url, .. } => {
                let $pool = PgPool::connect(url).await?;
                $run
            }
        }
    };
}

pub enum Database {
    Sqlite {
        _dir: TempDir,
        url: String,
    },
    Postgres {
        admin: PgPool,
        schema: String,
        url: String,
    },
}

impl Database {
    /// A new SQLite file in a temporary folder.
    pub fn sqlite() -> anyhow::Result<Database> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("hookline.db").display());
        Ok(Database::Sqlite { _dir: dir, url })
    }

    /// A new, empty schema on the PostgreSQL server at `server_url`; Hookline
    /// creates its tables there.
    pub async fn postgres(server_url: &str) -> anyhow::Result<Database> {
        let admin = PgPool::connect(server_url)
            .await
            .with_context(|| format!("cannot connect to {server_url}"))?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
        let schema = format!("hookline_bench_{stamp}");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await?;
        let separator = if server_url.contains('?') { '&' } else { '?' };
        let url = format!("{server_url}{separator}options[search_path]={schema}");
        Ok(Database::Postgres { admin, schema, url })
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
        }
    }

    /// Removes a PostgreSQL schema (a SQLite folder goes when dropped).
    pub async fn remove(self) -> anyhow::Result<()> {
        if let Database::Postgres { admin, schema, .. } = self {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin)
                .await?;
        }
        Ok(())
    }

    /// Adds attempts until the log holds `total`, spread over the last week,
    /// as the product would have written them: nine in ten for `busy`, the
    /// rest for `quiet`, three event types, one in 50 a failed 500. Their
    /// request is copied from a real attempt of `busy` already logged.
    /// Returns how many were added.
    pub async fn fill_log(&self, total: u64, busy: &str, quiet: &str) -> anyhow::Result<u64> {
        let present: i64 = self.query_one("SELECT COUNT(*) FROM attempts", &[]).await?;
        let missing = total.saturating_sub(present as u64);
        if missing == 0 {
            return Ok(0);
        }
        let template: i64 = self
            .query_one("SELECT COUNT(*) FROM attempts WHERE hook_id = $1", &[busy])
            .await?;
        anyhow::ensure!(
            template > 0,
            "no real attempt to copy: nothing was delivered"
        );
        let deliveries = missing.div_ceil(10);
        let week_ms: u64 = 7 * 24 * 3600 * 1000;
        let start = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64 - week_ms;
        let step = week_ms / missing;
        // Counting rows with a recursive CTE works alike on both databases.
        self.execute(
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
                 INSERT INTO deliveries (id, event_id, hook_id, state, attempt_count, created_at, updated_at)
                 SELECT 'bench-d' || i,
                        (SELECT event_id FROM deliveries WHERE hook_id = $1 LIMIT 1),
                        CASE WHEN i % 10 = 9 THEN $2 ELSE $1 END, 'delivered', 1,
                        {start}, {start} FROM n",
                last = deliveries - 1,
            ),
            &[busy, quiet],
        )
        .await
        .context("filling deliveries")?;
        self.execute(
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
                 INSERT INTO attempts (id, delivery_id, hook_id, event, number, trigger, url,
                     request_headers, request_body, response_status, response_headers, response_body,
                     response_body_truncated, error, success, started_at, duration_ms)
                 SELECT 'bench-a' || i, 'bench-d' || (i % {deliveries}),
                        CASE WHEN (i % {deliveries}) % 10 = 9 THEN $2 ELSE $1 END,
                        CASE i % 3 WHEN 0 THEN 'User.Created' WHEN 1 THEN 'User.Data.Updated'
                                   ELSE 'PostSignIn' END,
                        1 + i / {deliveries}, 'auto', t.url, t.request_headers, t.request_body,
                        CASE WHEN i % 50 = 0 THEN 500 ELSE 204 END, '[]', '', FALSE,
                        CASE WHEN i % 50 = 0 THEN 'HTTP 500' END, i % 50 != 0,
                        {start} + CAST(i AS BIGINT) * {step}, 3
                 FROM n, (SELECT url, request_headers, request_body FROM attempts
                          WHERE hook_id = $1 LIMIT 1) t",
                last = missing - 1,
            ),
            &[busy, quiet],
        )
        .await
        .context("filling attempts")?;
        // A log that grew over a week would have been vacuumed by
        // PostgreSQL's autovacuum as it grew; a million rows written at once
        // have not been yet, and counting them would read every row's page
        // to check it is visible. SQLite has no such step.
        if let Database::Postgres { .. } = self {
            self.execute("VACUUM ANALYZE attempts", &[]).await?;
        }
        Ok(missing)
    }

    /// Adds `hooks` hooks like `template` but listening to an event no
    /// phase sends (one in 20 disabled, one in 10 failing), and a per-minute
    /// counter row for each of them for every minute of the last day: the
    /// overview's worst case, every hook busy all day long. Returns how many
    /// counter rows were added.
    pub async fn fill_overview(&self, hooks: u64, template: &str) -> anyhow::Result<u64> {
        self.execute(
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
                 INSERT INTO hooks (id, name, events, url, headers, enabled, disabled_reason,
                     signing_key, created_at, updated_at, failing_since)
                 SELECT 'bench-h' || i, 'overview ' || i, '[\"Organization.Deleted\"]', t.url,
                        t.headers, i % 20 != 0, CASE WHEN i % 20 = 0 THEN 'bench: disabled' END,
                        t.signing_key, t.created_at, t.created_at,
                        CASE WHEN i % 10 = 5 THEN t.created_at END
                 FROM n, (SELECT url, headers, signing_key, created_at FROM hooks
                          WHERE id = $1) t",
                last = hooks - 1,
            ),
            &[template],
        )
        .await
        .context("adding hooks")?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
        let first_minute = now - now % 60_000 - 1439 * 60_000;
        let rows = self
            .execute(
                &format!(
                    "WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < 1439)
                     INSERT INTO attempt_minutes (hook_id, minute, writer, requests, successes)
                     SELECT h.id, {first_minute} + k * 60000, 'bench', 1,
                            CASE WHEN h.failing_since IS NULL THEN 1 ELSE 0 END
                     FROM hooks h, m WHERE h.id LIKE 'bench-h%'"
                ),
                &[],
            )
            .await
            .context("adding per-minute counters")?;
        // Every hook's totals, as the server's recorder keeps them beside.
        self.execute(
            &format!(
                "INSERT INTO attempt_totals AS t (minute, writer, requests, successes)
                 SELECT minute, writer, SUM(requests), SUM(successes) FROM attempt_minutes
                 WHERE minute >= {first_minute} GROUP BY minute, writer
                 ON CONFLICT (minute, writer) DO UPDATE SET
                     requests = excluded.requests, successes = excluded.successes"
            ),
            &[],
        )
        .await
        .context("adding per-minute totals")?;
        if let Database::Postgres { .. } = self {
            self.execute("VACUUM ANALYZE attempt_minutes", &[]).await?;
            self.execute("VACUUM ANALYZE attempt_totals", &[]).await?;
            self.execute("VACUUM ANALYZE hooks", &[]).await?;
        }
        Ok(rows)
    }

    /// How many deliveries ingestion has made, whatever became of them.
    pub async fn deliveries(&self) -> anyhow::Result<u64> {
        let count: i64 = self
            .query_one("SELECT COUNT(*) FROM deliveries", &[])
            .await?;
        Ok(count as u64)
    }

    /// How the deliveries of the hooks whose names start with `prefix`
    /// stand.
    pub async fn delivery_states(&self, prefix: &str) -> anyhow::Result<DeliveryStates> {
        let hooks = format!("{prefix}%");
        let mut counts = [0; 3];
        for (count, state) in counts.iter_mut().zip(["delivered", "pending", "failed"]) {
            let found: i64 = self
                .query_one(
                    "SELECT COUNT(*) FROM deliveries WHERE state = $1
                     AND hook_id IN (SELECT id FROM hooks WHERE name LIKE $2)",
                    &[state, &hooks],
                )
                .await?;
            *count = found as u64;
        }
        let [delivered, pending, failed] = counts;
        Ok(DeliveryStates {
            delivered,
            pending,
            failed,
        })
    }

    async fn execute(&self, sql: &str, binds: &[&str]) -> anyhow::Result<u64> {
        Ok(with_pool!(self, pool => {
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            query.execute(&pool).await?.rows_affected()
        }))
    }

    async fn query_one(&self, sql: &str, binds: &[&str]) -> anyhow::Result<i64> {
        Ok(with_pool!(self, pool => {
            let mut query = sqlx::query_scalar(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            query.fetch_one(&pool).await?
        }))
    }
}
