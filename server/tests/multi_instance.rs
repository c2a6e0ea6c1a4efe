//! Several instances on one PostgreSQL database: the real binary twice, a
//! burst of events through both, one instance killed mid-way.

mod common;

use std::time::{Duration, Instant};

use common::database::{run_on, Backend, TestDatabase};
use common::process::{assert_log_matches_receiver, Api, Hookline};
use common::receiver::{Receiver, Reply};
use serde_json::json;

const PER_HOOK_LIMIT: usize = 3;

/// A lease of three request timeouts: an instance holding a hook alone may
/// queue one more round of its deliveries past the limit.
fn args() -> Vec<String> {
    [
        "--retry-schedule=1s,1s,1s,1s,1s",
        "--request-timeout=1s",
        "--delivery-lease=3s",
    ]
    .into_iter()
    .map(String::from)
    .chain([format!("--hook-max-in-flight={PER_HOOK_LIMIT}")])
    .collect()
}

/// The value of a counter in Prometheus text, summed over its label sets.
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .filter(|line| line[name.len()..].starts_with(['{', ' ']))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn two_instances_share_the_work_and_survive_one_being_killed() {
    run_on(Backend::Postgres, async {
        let database = TestDatabase::fresh().await;
        let api = Api::new(database.api_key().await);
        let args = args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut first = Hookline::start(&database, &args).await;
        let second = Hookline::start(&database, &args).await;
        first.wait_healthy().await;
        second.wait_healthy().await;
        let receivers = [
            Receiver::start(Reply::status(200).delay(Duration::from_millis(150))).await,
            Receiver::start(Reply::status(200).delay(Duration::from_millis(150))).await,
        ];
        for receiver in &receivers {
            api.post(
                &first,
                "/api/hooks",
                json!({ "name": "r", "events": ["User.Created"], "config": { "url": receiver.url } }),
            )
            .await;
        }
        // A burst, spread over both instances as a load balancer would.
        let events = api.ingest_numbered(&[&first, &second], 60).await;
        // Both instances are making attempts before one dies.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let made = (
                counter(&api.metrics(&first).await, "hookline_attempts_total"),
                counter(&api.metrics(&second).await, "hookline_attempts_total"),
            );
            if made.0 > 0.0 && made.1 > 0.0 {
                break;
            }
            assert!(Instant::now() < deadline, "one instance did no work: {made:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        first.child.kill().await.unwrap();
        let seen_at_kill: usize = receivers.iter().map(|r| r.requests().len()).sum();
        assert!(seen_at_kill < 120, "the kill came mid-delivery");

        // The survivor takes over the dead instance's leases when they run out.
        let deliveries = api.all_delivered(&second, &events, 2).await;
        for receiver in &receivers {
            let mine = deliveries
                .iter()
                .filter(|(_, d)| d["attempts"][0]["url"] == receiver.url.as_str())
                .map(|(id, d)| (id.clone(), d.clone()))
                .collect();
            assert_log_matches_receiver(receiver, &mine);
            // The per-hook limit holds across both instances.
            assert!(
                receiver.max_in_flight() <= PER_HOOK_LIMIT,
                "{} requests in flight to one hook",
                receiver.max_in_flight()
            );
        }
    })
    .await
}

#[tokio::test]
async fn a_rate_limit_holds_over_two_instances() {
    run_on(Backend::Postgres, async {
        let database = TestDatabase::fresh().await;
        let api = Api::new(database.api_key().await);
        let args = [
            "--retry-schedule=1s",
            "--request-timeout=1s",
            "--delivery-lease=3s",
        ];
        let first = Hookline::start(&database, &args).await;
        let second = Hookline::start(&database, &args).await;
        first.wait_healthy().await;
        second.wait_healthy().await;
        let receiver = Receiver::start(Reply::status(200)).await;
        api.post(
            &first,
            "/api/hooks",
            json!({
                "name": "limited",
                "events": ["User.Created"],
                "config": { "url": receiver.url },
                "rateLimit": { "perSecond": 20, "burst": 5 }
            }),
        )
        .await;
        // A burst of 200, through both instances.
        let started = Instant::now();
        let events = api.ingest_numbered(&[&first, &second], 200).await;
        receiver.wait_for(200, Duration::from_secs(40)).await;
        let elapsed = started.elapsed();
        let deliveries = api.all_delivered(&first, &events, 1).await;
        // The times the dispatchers started each attempt, as they logged
        // them: the receiver's arrival times would bunch up whenever this
        // test's own runtime is starved on a busy machine.
        let mut times: Vec<i64> = deliveries
            .values()
            .flat_map(|d| d["attempts"].as_array().unwrap().iter())
            .map(|a| a["startedAt"].as_i64().unwrap())
            .collect();
        times.sort_unstable();
        // No second holds more than the rate and the burst, over both.
        let busiest = (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|&&t| t - times[i] < 1000)
                    .count()
            })
            .max()
            .unwrap();
        assert!(
            busiest <= 25,
            "{busiest} attempts started within one second"
        );
        // 195 after the burst at 20/s: 9.75 s at the least.
        assert!(elapsed >= Duration::from_millis(9_500), "{elapsed:?}");
        assert_log_matches_receiver(&receiver, &deliveries);
    })
    .await;
}

#[tokio::test]
async fn an_ordered_hook_keeps_its_order_over_two_instances() {
    run_on(Backend::Postgres, async {
        let database = TestDatabase::fresh().await;
        let api = Api::new(database.api_key().await);
        let args = args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let first = Hookline::start(&database, &args).await;
        let second = Hookline::start(&database, &args).await;
        first.wait_healthy().await;
        second.wait_healthy().await;
        let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(30))).await;
        // The first attempt fails: its retry (1 s later) still comes first.
        receiver.script([Reply::status(503)]);
        api.post(
            &first,
            "/api/hooks",
            json!({
                "name": "ordered",
                "events": ["User.Created"],
                "config": { "url": receiver.url },
                "ordered": true
            }),
        )
        .await;
        // Ingested one after another, through both instances.
        let events = api.ingest_numbered(&[&first, &second], 40).await;
        let deliveries = api.all_delivered(&second, &events, 1).await;
        assert_log_matches_receiver(&receiver, &deliveries);
        let order = receiver.numbers();
        let mut expected = vec![0];
        expected.extend(0..40);
        assert_eq!(order, expected, "one at a time, in ingestion order");
        assert_eq!(receiver.max_in_flight(), 1);
    })
    .await;
}
