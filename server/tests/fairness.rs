//! Fair delivery over real HTTP, on both databases: slow endpoints flooded
//! with work do not hold back a healthy hook, and an endpoint's concurrency
//! falls while it times out and rises again once it answers.
//!
//! The bounds here are loose enough for a loaded CI machine; the benchmark
//! (`hookline-bench --noisy`) holds the real targets.

mod common;

use std::time::{Duration, Instant};

use common::flow::{add_hook, ingest_ok};
use common::receiver::{Receiver, Reply};
use common::{spawn_app_with, test_settings, TestApp};
use serde_json::json;

/// Ingests `count` events named `event`, numbered from `from`, one every
/// `every`; returns when each was sent.
async fn ingest_paced(
    app: &TestApp,
    event: &str,
    from: i64,
    count: i64,
    every: Duration,
) -> Vec<Instant> {
    let mut sent = Vec::new();
    let mut tick = tokio::time::interval(every);
    for n in from..from + count {
        tick.tick().await;
        sent.push(Instant::now());
        ingest_ok(app, json!({ "event": event, "data": { "n": n } })).await;
    }
    sent
}

async fn slow_hooks_do_not_hold_back_a_healthy_one() {
    // Few shared slots and a small queue, so that the slow hooks fill both.
    let app = spawn_app_with(hookline::dispatcher::DeliverySettings {
        max_in_flight: 8,
        max_queued: 64,
        ..test_settings()
    })
    .await;
    let slow = Receiver::start(Reply::status(200).delay(Duration::from_millis(1500))).await;
    let healthy = Receiver::start(Reply::status(200)).await;
    const SLOW_HOOKS: usize = 8;
    const FLOOD: i64 = 10;
    for _ in 0..SLOW_HOOKS {
        add_hook(&app, &slow.url, &["User.Created"]).await;
    }
    add_hook(&app, &healthy.url, &["Role.Created"]).await;

    // Each slow hook gets more than it can take in seconds ...
    ingest_paced(&app, "User.Created", 0, FLOOD, Duration::from_millis(1)).await;
    // ... and the healthy hook gets 20 events a second meanwhile.
    let sent = ingest_paced(&app, "Role.Created", 0, 40, Duration::from_millis(50)).await;
    let arrived = healthy.wait_for(sent.len(), Duration::from_secs(30)).await;
    let mut latencies: Vec<Duration> = arrived
        .iter()
        .map(|request| {
            let n = request.json()["data"]["n"].as_i64().unwrap() as usize;
            request.at.duration_since(sent[n])
        })
        .collect();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    assert!(
        p99 <= Duration::from_secs(1),
        "the healthy hook's p99 from ingestion to arrival was {p99:?} (all: {latencies:?})"
    );
    // The slow hooks' deliveries all arrive, only later.
    let all = SLOW_HOOKS * FLOOD as usize;
    let slow_arrivals = slow.wait_for(all, Duration::from_secs(90)).await;
    assert_eq!(slow_arrivals.len(), all);
    assert!(slow.overlapping().is_empty());
}

/// Every attempt of `hook_id` as the dispatcher logged it: when it started
/// (unix ms) and how long it took.
async fn logged_attempts(app: &TestApp, hook_id: &str) -> Vec<(i64, i64)> {
    let mut attempts = Vec::new();
    for page in 1.. {
        let rows = app
            .get_json(&format!(
                "/api/hooks/{hook_id}/recent-logs?page={page}&page_size=100"
            ))
            .await;
        let rows = rows.as_array().unwrap();
        attempts.extend(rows.iter().map(|row| {
            (
                row["startedAt"].as_i64().unwrap(),
                row["durationMs"].as_i64().unwrap(),
            )
        }));
        if rows.len() < 100 {
            return attempts;
        }
    }
    unreachable!()
}

/// For each attempt started in `from..to` (unix ms), how many were in
/// flight as it started, itself included.
fn concurrency(attempts: &[(i64, i64)], from: i64, to: i64) -> Vec<usize> {
    // A few ms of slack: an attempt that ends hands its slot to the next at
    // once, and start times and durations are rounded to the ms.
    const SLACK: i64 = 5;
    attempts
        .iter()
        .filter(|(start, _)| (from..to).contains(start))
        .map(|(start, _)| {
            attempts
                .iter()
                .filter(|(other, took)| other <= start && other + took > start + SLACK)
                .count()
        })
        .collect()
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn an_endpoint_concurrency_falls_while_it_times_out_and_rises_when_it_recovers() {
    // test_settings: a 2 s request timeout; the ceiling is 4 at once.
    let app = spawn_app_with(hookline::dispatcher::DeliverySettings {
        hook_max_in_flight: 4,
        retry_schedule: "1s,1s,1s,1s".parse().unwrap(),
        ..test_settings()
    })
    .await;
    let endpoint = Receiver::start(Reply::status(200).delay(Duration::from_secs(3))).await;
    let hook = add_hook(&app, &endpoint.url, &["User.Created"]).await;
    let hook_id = hook["id"].as_str().unwrap();
    let started = unix_ms();
    ingest_paced(&app, "User.Created", 0, 40, Duration::from_millis(1)).await;

    // 4 at once time out at 2 s; then 2 at once, then 1.
    tokio::time::sleep(Duration::from_millis(7_000)).await;
    endpoint.answer_with(Reply::status(200).delay(Duration::from_millis(200)));
    let recovered = unix_ms();
    // Answers in 200 ms again: one more at a time per round of good answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempts = logged_attempts(&app, hook_id).await;
        let after = concurrency(&attempts, recovered, i64::MAX);
        if after.iter().max() == Some(&4) {
            let first = concurrency(&attempts, started, started + 1_000);
            assert_eq!(first.iter().max(), Some(&4), "it starts at its ceiling");
            let timing_out = concurrency(&attempts, started + 4_500, recovered);
            assert!(
                !timing_out.is_empty() && timing_out.iter().all(|n| *n == 1),
                "after two rounds of timeouts, one at a time: {timing_out:?}"
            );
            let all = concurrency(&attempts, 0, i64::MAX);
            assert!(all.iter().all(|n| *n <= 4), "never above the ceiling");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "its concurrency never rose back to 4: {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

crate::on_both_databases!(
    slow_hooks_do_not_hold_back_a_healthy_one,
    an_endpoint_concurrency_falls_while_it_times_out_and_rises_when_it_recovers,
);
