//! Search: events and their deliveries found by an event id, a delivery id,
//! an idempotency key or payload words (README, "Search").
//!
//! Payload words are looked up in each database's own full-text index, kept
//! in step with `events` inside the same transactions (see the migration
//! `20261202000003_search.sql`): SQLite's FTS5 table `events_fts`, asked for
//! the text as one phrase, and PostgreSQL's `payload_search` tsvector with
//! `phraseto_tsquery`. The rest of the statement is the same on both.

use domain::delivery::DeliveryState;
use domain::ids::{DeliveryId, EventId, HookId};
use domain::search::{SearchFilter, SearchMatch, SearchStatus, SEARCH_MATCH_LIMIT};
use sqlx::{Database, QueryBuilder};

use super::{on_backend, Backend, Store, StoreResult};

#[derive(sqlx::FromRow)]
struct MatchRow {
    event_id: EventId,
    delivery_id: Option<DeliveryId>,
    hook_id: Option<HookId>,
    hook_name: Option<String>,
    event: String,
    state: Option<String>,
    created_at: i64,
    /// How many rows match in all, the page aside.
    total: i64,
}

impl MatchRow {
    fn into_match(self) -> StoreResult<SearchMatch> {
        Ok(SearchMatch {
            event_id: self.event_id,
            delivery_id: self.delivery_id,
            hook_id: self.hook_id,
            hook_name: self.hook_name,
            event: self.event,
            state: self
                .state
                .as_deref()
                .map(str::parse::<DeliveryState>)
                .transpose()?,
            created_at: self.created_at,
        })
    }
}

/// How one database finds events by payload words: the statement up to its
/// bound text, and the text it binds.
struct PayloadMatch {
    /// Selects `e.id` from `events e` where the words match the next bound
    /// value …
    select: &'static str,
    /// … and what closes that condition; more conditions on `e` may follow.
    after_text: &'static str,
    /// Newest first, in the order the index reads cheaply.
    order: &'static str,
    text: String,
}

/// `(event_id, delivery_id)` of every hit: an event, the delivery named by
/// the text (its event's other deliveries are not what was asked for), the
/// events ingested with the text as their idempotency key, and the newest
/// [`SEARCH_MATCH_LIMIT`] events whose payload holds it.
fn push_hits<'q, DB: Database>(
    query: &mut QueryBuilder<'q, DB>,
    filter: &'q SearchFilter,
    payload: &'q PayloadMatch,
) where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let text = filter.text.as_str();
    query
        .push("WITH hits (event_id, delivery_id) AS (SELECT id, CAST(NULL AS TEXT) FROM events WHERE id = ")
        .push_bind(text)
        .push(" UNION SELECT event_id, id FROM deliveries WHERE id = ")
        .push_bind(text)
        .push(" UNION SELECT id, CAST(NULL AS TEXT) FROM events WHERE idempotency_key = ")
        .push_bind(text)
        .push(" UNION SELECT * FROM (")
        .push(payload.select)
        .push_bind(payload.text.as_str())
        .push(payload.after_text);
    // The event filters go inside too, so the cap counts only events that
    // can match: an old event of a rare type is not crowded out.
    push_event_filters(query, filter);
    query
        .push(payload.order)
        .push(" LIMIT ")
        .push_bind(SEARCH_MATCH_LIMIT + 1)
        .push(") AS by_payload)");
}

/// The event type and time range, on `e`.
fn push_event_filters<'q, DB: Database>(query: &mut QueryBuilder<'q, DB>, filter: &'q SearchFilter)
where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(event) = &filter.event {
        query.push(" AND e.name = ").push_bind(event.as_str());
    }
    if let Some(start) = filter.start_time {
        query.push(" AND e.created_at >= ").push_bind(start);
    }
    if let Some(end) = filter.end_time {
        query.push(" AND e.created_at < ").push_bind(end);
    }
}

/// The matches: each hit with its delivery (all of its event's, unless the
/// hit named one; none when no hook took the event) and its hook, filtered.
/// Selects `event_id, delivery_id, hook_id, hook_name, event, state,
/// created_at` from `matches`.
fn push_matches<'q, DB: Database>(
    query: &mut QueryBuilder<'q, DB>,
    filter: &'q SearchFilter,
    payload: &'q PayloadMatch,
) where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    push_hits(query, filter, payload);
    query.push(
        ", matches AS (
             SELECT e.id AS event_id, d.id AS delivery_id, d.hook_id, d.state,
                    e.name AS event, e.created_at
             FROM hits JOIN events e ON e.id = hits.event_id
             LEFT JOIN deliveries d ON d.event_id = e.id
             WHERE hits.delivery_id IS NULL
             UNION
             SELECT e.id, d.id, d.hook_id, d.state, e.name, e.created_at
             FROM hits JOIN deliveries d ON d.id = hits.delivery_id
             JOIN events e ON e.id = d.event_id)
         SELECT m.event_id, m.delivery_id, m.hook_id, h.name AS hook_name, m.event, m.state,
                m.created_at, COUNT(*) OVER () AS total
         FROM matches m LEFT JOIN hooks h ON h.id = m.hook_id
         JOIN events e ON e.id = m.event_id WHERE TRUE",
    );
    push_event_filters(query, filter);
    match filter.status {
        None => {}
        Some(SearchStatus::State(state)) => {
            query.push(" AND m.state = ").push_bind(state.as_str());
        }
        Some(SearchStatus::Code(code)) => {
            query
                .push(
                    " AND EXISTS (SELECT 1 FROM attempts a
                                  WHERE a.delivery_id = m.delivery_id AND a.response_status = ",
                )
                .push_bind(i64::from(code))
                .push(")");
        }
    }
}

impl Store {
    /// One page of matches, newest first, and how many match (at most
    /// about `SEARCH_MATCH_LIMIT` events' deliveries: the payload words'
    /// share is capped there).
    pub async fn search(&self, filter: &SearchFilter) -> StoreResult<(Vec<SearchMatch>, i64)> {
        let payload = match &self.pool {
            Backend::Sqlite(_) => PayloadMatch {
                select: "SELECT e.id, CAST(NULL AS TEXT) FROM events_fts
                         JOIN events e ON e.rowid = events_fts.rowid WHERE events_fts MATCH ",
                after_text: "",
                // FTS5 reads its rowids backwards without sorting; rowids
                // grow with ingestion.
                order: " ORDER BY events_fts.rowid DESC",
                text: filter.text.fts5_phrase(),
            },
            Backend::Postgres(_) => PayloadMatch {
                select: "SELECT e.id, CAST(NULL AS TEXT) FROM events e
                         WHERE e.payload_search @@ phraseto_tsquery('simple', ",
                after_text: ")",
                order: " ORDER BY e.created_at DESC",
                text: filter.text.as_str().to_owned(),
            },
        };
        // The page carries the count (a window over every match), so one
        // statement finds the matches once; only a page past the end, which
        // has no row to carry it, needs a second.
        let (rows, counted): (Vec<MatchRow>, Option<i64>) = on_backend!(&self.pool, pool => {
            let mut page = QueryBuilder::new("");
            push_matches(&mut page, filter, &payload);
            page.push(" ORDER BY m.created_at DESC, m.event_id DESC, m.delivery_id LIMIT ")
                .push_bind(filter.page_size)
                .push(" OFFSET ")
                .push_bind((filter.page - 1) * filter.page_size);
            let rows: Vec<MatchRow> = page.build_query_as().fetch_all(pool).await?;
            let counted = if rows.is_empty() && filter.page > 1 {
                let mut count = QueryBuilder::new("SELECT COUNT(*) FROM (");
                push_matches(&mut count, filter, &payload);
                count.push(") AS counted");
                Some(count.build_query_scalar().fetch_one(pool).await?)
            } else {
                None
            };
            (rows, counted)
        });
        let total = counted
            .or_else(|| rows.first().map(|row| row.total))
            .unwrap_or(0);
        Ok((
            rows.into_iter()
                .map(MatchRow::into_match)
                .collect::<StoreResult<_>>()?,
            total,
        ))
    }
}
