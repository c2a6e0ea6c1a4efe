//! How fast a filtered page of a hook's log answers on a large log:
//! 1,000,000 attempts in SQLite, read through the store as `recent-logs` and
//! the Requests tab do. `cargo bench --bench recent_logs [-- ROWS]`.

use domain::ids::HookId;
use std::time::{Duration, Instant};

use domain::delivery::{LogFilter, StatusFilter, LOG_COUNT_LIMIT};
use domain::hook::{HookConfig, NewHook};
use domain::key_ring::SigningKey;
use hookline::store::{HookRow, Store};

const RUNS: usize = 200;

#[tokio::main]
async fn main() {
    let rows: i64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    for id in ["busy", "quiet"] {
        store.insert_hook(&hook(id)).await.unwrap();
    }
    let filled = Instant::now();
    fill(&url, rows).await;
    println!("{rows} attempts written in {:.1?}", filled.elapsed());

    let newest = START + (rows - 1) * 1000;
    let cases: Vec<(&str, LogFilter)> = vec![
        ("no filter, page 1", filter(|_| {})),
        (
            "status=failed",
            filter(|f| f.status = Some(StatusFilter::Failed)),
        ),
        (
            "status=success",
            filter(|f| f.status = Some(StatusFilter::Success)),
        ),
        (
            "status=500",
            filter(|f| f.status = Some(StatusFilter::Code(500))),
        ),
        (
            "event=Role.Created",
            filter(|f| f.event = Some("Role.Created".into())),
        ),
        (
            "event=Role.Created & failed",
            filter(|f| {
                f.event = Some("Role.Created".into());
                f.status = Some(StatusFilter::Failed);
            }),
        ),
        (
            "last 24 h (start_time)",
            filter(|f| f.start_time = Some(newest - 24 * 3600 * 1000)),
        ),
        ("page 50", filter(|f| f.page = 50)),
    ];
    println!(
        "\n{:<30} {:>10} {:>10} {:>10}",
        "query", "matches", "p50", "p99"
    );
    for (name, filter) in cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let (_, matches) = store
                .recent_attempts(&HookId::from("busy"), &filter, LOG_COUNT_LIMIT)
                .await
                .unwrap();
            times.push(started.elapsed());
            total = matches;
        }
        times.sort();
        println!(
            "{name:<30} {total:>10} {:>10} {:>10}",
            ms(times[RUNS / 2]),
            ms(times[RUNS * 99 / 100])
        );
    }
}

const START: i64 = 1_700_000_000_000;

fn hook(id: &str) -> HookRow {
    let hook = NewHook {
        name: id.into(),
        events: vec!["User.Created".into()],
        config: HookConfig {
            url: "https://example.com/hook".into(),
            headers: Default::default(),
        },
        enabled: None,
        filter: None,
        policy: Default::default(),
        signature_scheme: None,
    };
    HookRow::new(
        id.into(),
        hook.validated(&[]).unwrap(),
        SigningKey::new("k".into()),
        0,
    )
}

fn filter(change: impl FnOnce(&mut LogFilter)) -> LogFilter {
    let mut filter = LogFilter {
        event: None,
        status: None,
        start_time: None,
        end_time: None,
        page: 1,
        page_size: 20,
    };
    change(&mut filter);
    filter
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// `rows` attempts, one a second, on 100,000 deliveries: 9 in 10 for the busy
/// hook, three event types, 1 in 50 failed (a 500), with realistic bodies.
async fn fill(url: &str, rows: i64) {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let deliveries = (rows / 10).max(1);
    let statements = [
        "INSERT INTO events (id, name, payload, created_at) VALUES ('e', 'User.Created', '{}', 0)"
            .to_owned(),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
             INSERT INTO deliveries (id, event_id, hook_id, state, attempt_count, created_at, updated_at)
             SELECT 'd' || i, 'e', CASE WHEN i % 10 = 9 THEN 'quiet' ELSE 'busy' END,
                    'delivered', 1, i, i FROM n",
            last = deliveries - 1
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
             INSERT INTO attempts (id, delivery_id, hook_id, event, number, trigger, url,
                 request_headers, request_body, response_status, response_headers, response_body,
                 response_body_truncated, error, success, started_at, duration_ms)
             SELECT 'a' || i, 'd' || (i % {deliveries}),
                    CASE WHEN (i % {deliveries}) % 10 = 9 THEN 'quiet' ELSE 'busy' END,
                    CASE i % 3 WHEN 0 THEN 'User.Created' WHEN 1 THEN 'Role.Created' ELSE 'PostSignIn' END,
                    1 + i / {deliveries}, 'auto', 'https://example.com/hook',
                    '[[\"content-type\",\"application/json\"]]',
                    '{{\"hookId\":\"busy\",\"event\":\"User.Created\",\"data\":{{\"id\":\"' || i || '\"}}}}',
                    CASE WHEN i % 50 = 0 THEN 500 ELSE 200 END, '[]',
                    CASE WHEN i % 50 = 0 THEN 'boom' ELSE 'ok' END, 0, NULL, i % 50 != 0,
                    {START} + i * 1000, 5 FROM n",
            last = rows - 1
        ),
        "ANALYZE".to_owned(),
    ];
    for statement in statements {
        sqlx::query(&statement).execute(&pool).await.unwrap();
    }
}
