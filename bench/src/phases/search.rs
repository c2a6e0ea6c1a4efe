//! `--search`: how fast `GET /api/search` answers over a large log, and what
//! keeping the search index costs ingestion, on SQLite.
//!
//! The log is written straight into a fresh database through the server's
//! own migrations (a million events through the API would take most of an
//! hour; written in SQL they take a minute), with the index's triggers in
//! place, so the index is built as ingestion would have built it. The
//! searches then go through the real API, one at a time.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool};
use sqlx::ConnectOptions;

use super::SetupRun;
use crate::database::Database;
use crate::instance;
use crate::report::FilterIngestion;
use crate::stats::Percentiles;

/// Rows written per transaction while filling.
const FILL_CHUNK: u64 = 100_000;

/// The disabled hook the filled deliveries belong to; it listens to an
/// event nobody sends, so the dispatcher never looks at them.
const SEARCH_HOOK: &str = "bench-search";

#[derive(Debug, Serialize)]
pub struct SearchCost {
    /// Events (each with one delivery) in the log searched.
    pub events: u64,
    pub fill_secs: f64,
    /// The database file's size once filled, index included.
    pub database_mb: f64,
    /// Each kind of search: what it looks for and how long it took.
    pub kinds: Vec<SearchKind>,
    /// Every search of the kinds above but the common word.
    pub specific: Percentiles,
    /// Ingestion (one hook, events back to back) without the index, best
    /// of two phases …
    pub without_index: FilterIngestion,
    /// … and with it, alternating with the runs without.
    pub with_index: FilterIngestion,
    /// Events accepted per second, with the index over without.
    pub ratio: f64,
}

#[derive(Debug, Serialize)]
pub struct SearchKind {
    pub kind: &'static str,
    pub example: String,
    pub times: Percentiles,
    /// Matches per search (`Total-Number`), on average.
    pub matches: f64,
}

/// What a search looks for, given a random event number `i`.
type Text = fn(u64) -> String;

const KINDS: [(&str, Text); 7] = [
    ("email", |i| format!("user{i}@{}", domain(i))),
    ("user id", |i| format!("usr_{i:08}")),
    ("order number", |i| format!("ORD-{}", 1_000_000 + i)),
    ("event id", |i| format!("bench-e{i}")),
    ("delivery id (webhook-id)", |i| format!("bench-d{i}")),
    ("idempotency key", |i| format!("idem-{}", i - i % 10)),
    // A word in a quarter of all payloads: the newest 10,000 are read.
    ("common word (capped)", |_| "gmail.com".to_owned()),
];

fn domain(i: u64) -> &'static str {
    ["gmail.com", "example.com", "proton.me", "acme.io"][(i % 4) as usize]
}

impl SetupRun<'_> {
    /// `--search`: `events` events searched `queries` times per kind, then
    /// ingestion with and without the index.
    pub async fn search_cost(&self, events: u64, queries: usize) -> anyhow::Result<SearchCost> {
        let database = Database::sqlite()?;
        let result = self.search_times(&database, events, queries).await;
        database.remove().await?;
        let (fill_secs, database_mb, kinds) = result.context("search times")?;
        let specific = Percentiles::of(
            kinds
                .iter()
                .filter(|(kind, ..)| !kind.kind.starts_with("common"))
                .flat_map(|(_, samples)| samples.iter().copied())
                .collect(),
        );
        let mut without_index: Option<FilterIngestion> = None;
        let mut with_index: Option<FilterIngestion> = None;
        // Alternating, best of two each: a burst from another process on
        // the machine then costs neither side its figure.
        for round in 0..2 {
            for (indexed, best) in [(false, &mut without_index), (true, &mut with_index)] {
                let run = SetupRun {
                    name: format!("{} search-index-{indexed}-{round}", self.name),
                    ..*self
                };
                let database = Database::sqlite()?;
                let result = run.ingestion_with_index(&database, indexed).await;
                database.remove().await?;
                let measured = result.with_context(|| format!("ingestion, index {indexed}"))?;
                if best
                    .as_ref()
                    .is_none_or(|b| measured.events_per_sec > b.events_per_sec)
                {
                    *best = Some(measured);
                }
            }
        }
        let without_index = without_index.context("no run without the index")?;
        let with_index = with_index.context("no run with the index")?;
        Ok(SearchCost {
            events,
            fill_secs,
            database_mb,
            kinds: kinds.into_iter().map(|(kind, _)| kind).collect(),
            specific,
            ratio: with_index.events_per_sec / without_index.events_per_sec,
            without_index,
            with_index,
        })
    }

    /// Fills `database` with `events`, starts the server on it and times
    /// `queries` searches of each kind.
    #[allow(clippy::type_complexity)]
    async fn search_times(
        &self,
        database: &Database,
        events: u64,
        queries: usize,
    ) -> anyhow::Result<(f64, f64, Vec<(SearchKind, Vec<Duration>)>)> {
        let started = Instant::now();
        let database_mb = fill(database.url(), events).await.context("filling")?;
        let fill_secs = started.elapsed().as_secs_f64();
        let fixture = self.start(database).await?;
        let key = instance::create_api_key(self.binary, database.url()).await?;
        let base = fixture.instances[0].base.clone();
        let client = reqwest::Client::new();
        let mut random = 0x9e37_79b9_7f4a_7c15_u64;
        let mut kinds = Vec::new();
        for (kind, text) in KINDS {
            let mut samples = Vec::with_capacity(queries);
            let mut matches = 0;
            for _ in 0..queries {
                // xorshift: the same searches every run.
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                let q = text(random % events);
                let started = Instant::now();
                let response = client
                    .get(format!("{base}/api/search"))
                    .bearer_auth(&key)
                    .query(&[("q", q.as_str())])
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "search {q:?}: {}",
                    response.status()
                );
                let total: u64 = response
                    .headers()
                    .get("total-number")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .context("no Total-Number")?;
                response.bytes().await?;
                samples.push(started.elapsed());
                matches += total;
            }
            kinds.push((
                SearchKind {
                    kind,
                    example: text(12_345),
                    times: Percentiles::of(samples.clone()),
                    matches: matches as f64 / queries.max(1) as f64,
                },
                samples,
            ));
        }
        for instance in fixture.instances {
            instance.stop().await?;
        }
        Ok((fill_secs, database_mb, kinds))
    }

    /// One ingestion phase on a fresh database, with the index or with its
    /// table and triggers dropped first.
    async fn ingestion_with_index(
        &self,
        database: &Database,
        indexed: bool,
    ) -> anyhow::Result<FilterIngestion> {
        let fixture = self.start(database).await?;
        let result = async {
            if !indexed {
                let pool = SqlitePool::connect(database.url()).await?;
                for statement in [
                    "DROP TRIGGER events_fts_insert",
                    "DROP TRIGGER events_fts_delete",
                    "DROP TRIGGER events_fts_update",
                    "DROP TABLE events_fts",
                ] {
                    sqlx::query(statement).execute(&pool).await?;
                }
                pool.close().await;
            }
            self.filter_phase(&fixture, database, 1, false).await
        }
        .await;
        for instance in fixture.instances {
            instance.stop().await?;
        }
        result
    }
}

/// Writes `events` events, a delivery each, over the last week, into the
/// fresh SQLite database at `url` (migrated first); returns the file's size
/// in MB.
async fn fill(url: &str, events: u64) -> anyhow::Result<f64> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .disable_statement_logging();
    let pool = SqlitePool::connect_with(options).await?;
    sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
    sqlx::query(
        "INSERT INTO hooks (id, name, events, url, headers, enabled, signing_key, created_at,
                            updated_at)
         VALUES ($1, 'search', '[\"Bench.Search\"]', 'http://127.0.0.1:9/', '[]', FALSE,
                 'whsec_YmVuY2hiZW5jaGJlbmNoYmVuY2hiZW5jaGJlbmNo', 0, 0)",
    )
    .bind(SEARCH_HOOK)
    .execute(&pool)
    .await?;
    let week_ms: i64 = 7 * 24 * 3600 * 1000;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let start = now.as_millis() as i64 - week_ms;
    let step = (week_ms / events.max(1) as i64).max(1);
    let mut first = 0;
    while first < events {
        let last = (first + FILL_CHUNK).min(events) - 1;
        let mut tx = pool.begin().await?;
        // A payload like an app's user event: ids, an email, an order, the
        // client; every tenth event came with an Idempotency-Key.
        sqlx::query(&format!(
            "WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {last})
             INSERT INTO events (id, name, payload, created_at, idempotency_key)
             SELECT 'bench-e' || i,
                    CASE i % 3 WHEN 0 THEN 'User.Created' WHEN 1 THEN 'User.Data.Updated'
                               ELSE 'PostSignIn' END,
                    json_object(
                        'data', json_object(
                            'id', printf('usr_%08d', i),
                            'primaryEmail', 'user' || i || '@' || CASE i % 4
                                WHEN 0 THEN 'gmail.com' WHEN 1 THEN 'example.com'
                                WHEN 2 THEN 'proton.me' ELSE 'acme.io' END,
                            'name', 'Customer ' || (i % 9973),
                            'order', json_object('number', 'ORD-' || (1000000 + i),
                                                 'total', (i % 500) + 0.99,
                                                 'currency', 'EUR')),
                        'ip', '203.0.113.' || (i % 250),
                        'userAgent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0',
                        'path', '/api/users/' || printf('usr_%08d', i)),
                    {start} + i * {step},
                    CASE WHEN i % 10 = 0 THEN 'idem-' || i END
             FROM n"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {last})
             INSERT INTO deliveries (id, event_id, hook_id, state, attempt_count, created_at,
                                     updated_at)
             SELECT 'bench-d' || i, 'bench-e' || i, $1,
                    CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'delivered' END, 1,
                    {start} + i * {step}, {start} + i * {step}
             FROM n"
        ))
        .bind(SEARCH_HOOK)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        first = last + 1;
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await?;
    let (pages, page_size): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT page_count FROM pragma_page_count()),
                (SELECT page_size FROM pragma_page_size())",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok((pages * page_size) as f64 / 1e6)
}

impl fmt::Display for SearchCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "search, {} events with a delivery each, sqlite ({:.0} MB, filled in {:.0} s)",
            self.events, self.database_mb, self.fill_secs
        )?;
        writeln!(
            f,
            "  {:<28} {:<28} {:>9} {:>9} {:>9} {:>9}",
            "searching for", "e.g.", "p50 ms", "p99 ms", "max ms", "matches"
        )?;
        for kind in &self.kinds {
            writeln!(
                f,
                "  {:<28} {:<28} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                kind.kind,
                kind.example,
                kind.times.p50_ms,
                kind.times.p99_ms,
                kind.times.max_ms,
                kind.matches
            )?;
        }
        writeln!(
            f,
            "  {:<57} {:>9.1} {:>9.1} {:>9.1}",
            "every search but the common word",
            self.specific.p50_ms,
            self.specific.p99_ms,
            self.specific.max_ms
        )?;
        writeln!(
            f,
            "  ingestion, one hook: {:.0} events/s without the index, {:.0} with: {:.3} \
             (answer p99 {:.1} ms without, {:.1} ms with)",
            self.without_index.events_per_sec,
            self.with_index.events_per_sec,
            self.ratio,
            self.without_index.answer_times.p99_ms,
            self.with_index.answer_times.p99_ms,
        )
    }
}
