//! Nothing is lost: the real binary killed with deliveries in flight, then
//! started again, and stopped with SIGTERM while attempts are in flight.

mod common;

use domain::ids::EventId;
use std::time::{Duration, Instant};

use common::database::TestDatabase;
use common::process::{assert_log_matches_receiver, Api, Hookline};
use common::receiver::{Receiver, Reply};
use hookline::clock::now_ms;
use hookline::store::{Claim, Store};
use serde_json::json;

const DELIVERY_ARGS: &[&str] = &[
    "--retry-schedule",
    "1s,1s,1s,1s,1s",
    "--request-timeout",
    "2s",
    "--delivery-lease",
    "3s",
];

async fn a_killed_process_loses_nothing_and_the_log_matches_the_receiver() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    // Slow enough that the kill, made once 8 have arrived, finds most of the
    // 60 deliveries still to go even on a loaded machine.
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(600))).await;
    let mut first = Hookline::start(&database, DELIVERY_ARGS).await;
    for _ in 0..2 {
        api.post(
            &first,
            "/api/hooks",
            json!({ "name": "r", "events": ["User.Created"], "config": { "url": receiver.url } }),
        )
        .await;
    }
    let events = api.ingest_numbered(&[&first], 30).await;
    // Mid-delivery: some requests have arrived, many are in flight or queued.
    receiver.wait_for(8, Duration::from_secs(10)).await;
    first.child.kill().await.unwrap();
    let seen_before_restart = receiver.requests().len();
    assert!(seen_before_restart < 60, "the kill came mid-delivery");

    // The dead process's leases hold until they run out (it last renewed
    // them, for 3 s, before it was killed), and then every pending delivery
    // can be claimed again. The probe's own leases run out at that moment, so
    // the next start still takes over leases that ran out.
    let store = Store::connect(&database.url).await.unwrap();
    let now = now_ms();
    let pending = store.count_pending().await.unwrap();
    let probe = |now, lease_until| Claim {
        owner: "probe",
        token: "probe",
        now,
        lease_until,
        rooms: &[],
        per_hook: 100,
        batch: 100,
    };
    let unleased = store.claim_due(&probe(now, now + 1)).await.unwrap();
    assert!(
        (unleased.len() as i64) < pending,
        "{} of {pending} pending deliveries were not leased",
        unleased.len()
    );
    let ran_out = now + 3_000;
    let taken_over = store.claim_due(&probe(ran_out, ran_out)).await.unwrap();
    assert_eq!(taken_over.len() as i64, pending, "every lease ran out");

    let second = Hookline::start(&database, DELIVERY_ARGS).await;
    let deliveries = api.all_delivered(&second, &events, 2).await;
    assert_log_matches_receiver(&receiver, &deliveries);
}

async fn sigterm_lets_attempts_in_flight_finish_and_exits_zero() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(800))).await;
    let mut process = Hookline::start(&database, DELIVERY_ARGS).await;
    api.post(
        &process,
        "/api/hooks",
        json!({ "name": "r", "events": ["Role.Created"], "config": { "url": receiver.url } }),
    )
    .await;
    let mut events = Vec::new();
    for _ in 0..3 {
        let answer = api
            .post(&process, "/api/events", json!({ "event": "Role.Created" }))
            .await;
        events.push(answer["id"].as_str().unwrap().to_owned());
    }
    receiver.wait_for(3, Duration::from_secs(10)).await;
    process.terminate();
    let status = tokio::time::timeout(Duration::from_secs(10), process.child.wait())
        .await
        .expect("exits within the grace period")
        .unwrap();
    assert!(status.success(), "{status}");

    let store = Store::connect(&database.url).await.unwrap();
    for event_id in events {
        let event = store
            .event(&EventId::from(event_id))
            .await
            .unwrap()
            .unwrap();
        let delivery = store
            .delivery(&event.deliveries[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            delivery.state,
            domain::delivery::DeliveryState::Delivered,
            "the attempt in flight finished and was logged before exit"
        );
        assert_eq!(delivery.attempts.len(), 1);
    }
}

async fn sigterm_cancels_attempts_that_outlast_the_grace_and_releases_them() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_secs(20))).await;
    let args = [
        "--request-timeout",
        "30s",
        "--delivery-lease",
        "60s",
        "--shutdown-grace",
        "500ms",
    ];
    let mut process = Hookline::start(&database, &args).await;
    api.post(
        &process,
        "/api/hooks",
        json!({ "name": "r", "events": ["Role.Created"], "config": { "url": receiver.url } }),
    )
    .await;
    let answer = api
        .post(&process, "/api/events", json!({ "event": "Role.Created" }))
        .await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let stopping = Instant::now();
    process.terminate();
    let status = tokio::time::timeout(Duration::from_secs(10), process.child.wait())
        .await
        .expect("exits soon after the grace period")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(stopping.elapsed() < Duration::from_secs(5));

    let store = Store::connect(&database.url).await.unwrap();
    let event = store
        .event(&EventId::from(answer["id"].as_str().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let delivery = &event.deliveries[0];
    assert_eq!(delivery.state, domain::delivery::DeliveryState::Pending);
    assert_eq!(
        delivery.attempt_count, 0,
        "the cut-off attempt is not logged"
    );
    // Released, not left to run out: the next start can claim it at once.
    let now = now_ms();
    let claim = Claim {
        owner: "next",
        token: "next",
        now,
        lease_until: now + 1000,
        rooms: &[],
        per_hook: 10,
        batch: 10,
    };
    let claimed = store.claim_due(&claim).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, delivery.id);
}

async fn an_ordered_hook_keeps_its_order_through_a_kill() {
    let database = TestDatabase::fresh().await;
    let api = Api::new(database.api_key().await);
    let receiver = Receiver::start(Reply::status(200).delay(Duration::from_millis(100))).await;
    let mut first = Hookline::start(&database, DELIVERY_ARGS).await;
    api.post(
        &first,
        "/api/hooks",
        json!({ "name": "r", "events": ["User.Created"], "config": { "url": receiver.url }, "ordered": true }),
    )
    .await;
    let events = api.ingest_numbered(&[&first], 30).await;
    receiver.wait_for(8, Duration::from_secs(10)).await;
    first.child.kill().await.unwrap();
    assert!(receiver.requests().len() < 30, "the kill came mid-delivery");

    let second = Hookline::start(&database, DELIVERY_ARGS).await;
    let deliveries = api.all_delivered(&second, &events, 1).await;
    assert_log_matches_receiver(&receiver, &deliveries);
    let order = receiver.numbers();
    // The one in flight at the kill may arrive again; nothing overtakes.
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    let mut once = order.clone();
    once.dedup();
    assert_eq!(once, (0..30).collect::<Vec<_>>());
}

crate::on_both_databases!(
    an_ordered_hook_keeps_its_order_through_a_kill,
    a_killed_process_loses_nothing_and_the_log_matches_the_receiver,
    sigterm_lets_attempts_in_flight_finish_and_exits_zero,
    sigterm_cancels_attempts_that_outlast_the_grace_and_releases_them,
);
