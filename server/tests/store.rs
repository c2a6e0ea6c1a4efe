//! The store on a real database (SQLite and PostgreSQL): its settings and the
//! rules it enforces.

mod common;

use domain::ids::ApiKeyId;
use domain::ids::DeliveryId;
use domain::ids::HookId;
use domain::ids::UserId;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::database::{Backend, TestDatabase};
use domain::delivery::{Attempt, AttemptSummary, DeliveryState, Trigger};
use domain::hook::{HookConfig, HookPatch, NewHook};
use domain::key_ring::SigningKey;
use hookline::store::{
    Claim, HookRoom, HookRow, Ingestion, Intake, LeaseTerms, LeasedDelivery, NewEvent, Reservation,
    RosterEntry, Settlement, Store, UserRow,
};
use sqlx::Connection;

async fn fresh_store() -> (Store, TestDatabase) {
    let database = TestDatabase::fresh().await;
    (Store::connect(&database.url).await.unwrap(), database)
}

async fn add_users(store: &Store, users: &[(&str, &str, &str)]) {
    for (id, email, role) in users {
        store.insert_user(&user(id, email, role)).await.unwrap();
    }
}

fn user(id: &str, email: &str, role: &str) -> UserRow {
    UserRow {
        id: id.into(),
        email: email.into(),
        password_hash: "hash".into(),
        role: role.into(),
        created_at: 1,
    }
}

#[tokio::test]
async fn connecting_creates_the_file_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::connect(&url).await.unwrap();
    assert!(dir.path().join("store.db").exists());
    assert_eq!(store.pragma("journal_mode").await.unwrap().unwrap(), "wal");
    assert_eq!(store.pragma("foreign_keys").await.unwrap().unwrap(), "1");
    // Reconnecting to the same file finds the migrations applied.
    Store::connect(&url).await.unwrap();
}

async fn the_first_user_is_inserted_only_once() {
    let (store, _dir) = fresh_store().await;
    assert!(store
        .insert_first_user(&user("a", "a@x.io", "admin"))
        .await
        .unwrap());
    assert!(!store
        .insert_first_user(&user("b", "b@x.io", "admin"))
        .await
        .unwrap());
    assert_eq!(store.count_users().await.unwrap(), 1);
}

async fn emails_are_unique() {
    let (store, _dir) = fresh_store().await;
    store
        .insert_user(&user("a", "a@x.io", "admin"))
        .await
        .unwrap();
    let err = store
        .insert_user(&user("b", "a@x.io", "viewer"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, hookline::store::StoreError::Duplicate(_)),
        "{err}"
    );
}

async fn the_last_admin_cannot_be_deleted() {
    let (store, _dir) = fresh_store().await;
    add_users(
        &store,
        &[("a", "a@x.io", "admin"), ("v", "v@x.io", "viewer")],
    )
    .await;
    assert!(!store
        .delete_user_keeping_an_admin(&UserId::from("a"))
        .await
        .unwrap());
    add_users(&store, &[("b", "b@x.io", "admin")]).await;
    assert!(store
        .delete_user_keeping_an_admin(&UserId::from("a"))
        .await
        .unwrap());
    assert!(store
        .delete_user_keeping_an_admin(&UserId::from("v"))
        .await
        .unwrap());
    assert!(!store
        .delete_user_keeping_an_admin(&UserId::from("missing"))
        .await
        .unwrap());
}

async fn sessions_end_at_expiry_and_with_their_user() {
    let (store, _dir) = fresh_store().await;
    add_users(
        &store,
        &[("a", "a@x.io", "admin"), ("b", "b@x.io", "admin")],
    )
    .await;
    store
        .insert_session("t1", &UserId::from("a"), 0, 1_000)
        .await
        .unwrap();
    store
        .insert_session("t2", &UserId::from("b"), 0, 5_000)
        .await
        .unwrap();
    assert_eq!(
        store.session_user("t1", 999).await.unwrap().unwrap().id,
        "a".into()
    );
    assert!(store.session_user("t1", 1_000).await.unwrap().is_none());
    store.delete_expired_sessions(1_000).await.unwrap();
    assert!(
        store.session_user("t1", 0).await.unwrap().is_none(),
        "expired sessions are deleted"
    );
    assert!(store
        .delete_user_keeping_an_admin(&UserId::from("b"))
        .await
        .unwrap());
    assert!(
        store.session_user("t2", 0).await.unwrap().is_none(),
        "deleting a user ends its sessions"
    );
}

async fn api_key_use_is_recorded_at_most_once_a_minute_and_revoked_keys_fail() {
    let (store, _dir) = fresh_store().await;
    let key = hookline::store::ApiKeyRow {
        id: "k".into(),
        name: "ci".into(),
        prefix: "hkl_abc".into(),
        key_hash: "h".into(),
        created_at: 0,
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_api_key(&key).await.unwrap();
    let last_used =
        |store: Store| async move { store.list_api_keys().await.unwrap()[0].last_used_at };
    assert_eq!(
        store
            .use_api_key("h", 10_000)
            .await
            .unwrap()
            .as_ref()
            .map(ApiKeyId::as_str),
        Some("k")
    );
    assert_eq!(last_used(store.clone()).await, Some(10_000));
    store.use_api_key("h", 30_000).await.unwrap();
    assert_eq!(
        last_used(store.clone()).await,
        Some(10_000),
        "within a minute: not rewritten"
    );
    store.use_api_key("h", 70_000).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(70_000));
    assert_eq!(store.use_api_key("other", 0).await.unwrap(), None);
    assert!(store
        .revoke_api_key(&ApiKeyId::from("k"), 80_000)
        .await
        .unwrap());
    assert!(
        !store
            .revoke_api_key(&ApiKeyId::from("k"), 90_000)
            .await
            .unwrap(),
        "only once"
    );
    assert_eq!(store.use_api_key("h", 100_000).await.unwrap(), None);
}

/// How long the leases of `claim_by` last (ms).
const LEASE: i64 = 100;

/// A hook listening to `User.Created`, and `events` of it (see `add_events`).
async fn hook_with_events(store: &Store, events: usize) -> Vec<DeliveryId> {
    hooks_with_events(store, &["h1"], events).await
}

/// Hooks `ids` listening to `User.Created`, and `events` of it (see
/// `add_events`); returns every delivery's id.
async fn hooks_with_events(store: &Store, ids: &[&str], events: usize) -> Vec<DeliveryId> {
    for id in ids {
        add_hook(store, id, "User.Created").await;
    }
    add_events(store, "User.Created", 0..events).await
}

/// Hook `id` listening to `event`.
async fn add_hook(store: &Store, id: &str, event: &str) {
    store
        .insert_hook(&HookRow::new(
            id.into(),
            NewHook {
                name: id.into(),
                events: vec![event.into()],
                config: HookConfig {
                    url: format!("https://example.com/{id}"),
                    headers: Default::default(),
                },
                enabled: None,
                filter: None,
                policy: Default::default(),
                signature_scheme: None,
            }
            // `event` may be a custom type the test never declared.
            .validated(&[event.to_owned()])
            .unwrap(),
            SigningKey::new(format!("key-{id}")),
            1,
        ))
        .await
        .unwrap();
}

/// Events `e{n}` named `name`, created (and due) at `1000 + n`, each with one
/// delivery per listening hook. Returns every delivery's id (the store names
/// them), event by event: with one hook, the `n`th is event `n`'s.
async fn add_events(store: &Store, name: &str, numbers: std::ops::Range<usize>) -> Vec<DeliveryId> {
    let mut deliveries = Vec::new();
    for n in numbers {
        let event = NewEvent {
            id: format!("e{n}").into(),
            name: name.to_owned(),
            payload: r#"{"n":1}"#.to_owned(),
            created_at: 1000 + n as i64,
            trace_parent: None,
        };
        match store.ingest_event(event, None).await.unwrap() {
            Ingestion::Stored { deliveries: ids } => deliveries.extend(ids),
            repeat => panic!("{repeat:?}"),
        }
    }
    deliveries
}

/// A claim by dispatcher `owner` (its name is also the lease token) at
/// `now`, for leases of `LEASE` ms, with room for everything.
fn claim_by(owner: &str, now: i64) -> Claim<'_> {
    Claim {
        owner,
        token: owner,
        now,
        lease_until: now + LEASE,
        rooms: &[],
        per_hook: 1000,
        batch: 1000,
    }
}

async fn claim(store: &Store, claim: Claim<'_>) -> Vec<LeasedDelivery> {
    store.claim_due(&claim).await.unwrap()
}

/// The events of `claimed`, in order: with one hook, one delivery each.
fn ids(claimed: &[LeasedDelivery]) -> Vec<&str> {
    claimed.iter().map(|d| d.event.id.as_str()).collect()
}

/// Each claimed delivery as `hook/event`.
fn hooks_and_events(claimed: &[LeasedDelivery]) -> Vec<String> {
    claimed
        .iter()
        .map(|d| format!("{}/{}", d.hook.id, d.event.id))
        .collect()
}

/// The settlement of an attempt of `delivery` made at `at` under its lease,
/// after which the delivery is in `state`, due again at `next_attempt_at`.
fn settlement(
    delivery: &LeasedDelivery,
    state: DeliveryState,
    next_attempt_at: Option<i64>,
    at: i64,
) -> Settlement {
    let number = delivery.attempt_count + 1;
    let success = state == DeliveryState::Delivered;
    Settlement {
        delivery_id: delivery.id.clone(),
        hook_id: delivery.hook.id.clone(),
        lease_token: delivery.lease_token.clone(),
        attempt: Some(Attempt {
            summary: AttemptSummary {
                id: format!("{}-{}-{number}-{at}", delivery.id, delivery.lease_token).into(),
                delivery_id: delivery.id.clone(),
                hook_id: delivery.hook.id.clone(),
                event: delivery.event.name.clone(),
                number,
                trigger: delivery.trigger,
                response_status: Some(if success { 200 } else { 500 }),
                error: None,
                success,
                started_at: at,
                duration_ms: 1,
            },
            url: delivery.hook.url.clone(),
            request_headers: Vec::new(),
            request_body: delivery.event.payload.clone(),
            response_headers: Some(Vec::new()),
            response_body: Some(String::new()),
            response_body_truncated: false,
        }),
        state,
        next_attempt_at,
        health: None,
        ordered: false,
    }
}

fn delivered(delivery: &LeasedDelivery, at: i64) -> Settlement {
    settlement(delivery, DeliveryState::Delivered, None, at)
}

async fn claims_take_due_deliveries_oldest_first_within_per_hook_and_batch() {
    let (store, _dir) = fresh_store().await;
    hook_with_events(&store, 5).await;
    let now = 2000;
    let first = claim(
        &store,
        Claim {
            per_hook: 2,
            ..claim_by("a", now)
        },
    )
    .await;
    assert_eq!(ids(&first), ["e0", "e1"], "oldest first, two of one hook");
    let d0 = &first[0];
    assert_eq!(
        (d0.event.id.as_str(), d0.event.name.as_str()),
        ("e0", "User.Created")
    );
    assert_eq!(
        (d0.event.payload.as_str(), d0.event.created_at),
        (r#"{"n":1}"#, 1000)
    );
    assert_eq!(d0.hook.id, "h1".into());
    assert_eq!(d0.hook.url, "https://example.com/h1");
    assert_eq!(d0.hook.keys.current().expose(), "key-h1");
    assert!(d0.hook.enabled);
    assert_eq!((d0.attempt_count, d0.trigger), (0, Trigger::Auto));
    assert_eq!(&*d0.lease_token, "a");
    assert_eq!(d0.lease_expires_at, now + LEASE);

    let second = claim(
        &store,
        Claim {
            batch: 1,
            ..claim_by("b", now)
        },
    )
    .await;
    assert_eq!(ids(&second), ["e2"], "one in all");
    let early = Claim {
        lease_until: 10_000,
        ..claim_by("c", 1003)
    };
    assert_eq!(
        ids(&claim(&store, early).await),
        ["e3"],
        "at 1003, e4 is not yet due"
    );
    assert_eq!(ids(&claim(&store, claim_by("c", now)).await), ["e4"]);
    assert!(claim(&store, claim_by("d", now)).await.is_empty());
}

async fn one_hooks_backlog_does_not_hide_another_hooks_deliveries() {
    let (store, _dir) = fresh_store().await;
    add_hook(&store, "busy", "Busy").await;
    add_hook(&store, "quiet", "Quiet").await;
    add_events(&store, "Busy", 0..10).await;
    add_events(&store, "Quiet", 10..11).await;
    let per_hook = |batch| Claim {
        per_hook: 3,
        batch,
        ..claim_by("a", 2000)
    };
    assert_eq!(
        hooks_and_events(&claim(&store, per_hook(2)).await),
        ["busy/e0", "quiet/e10"],
        "the hooks take turns: the busy hook's older deliveries leave room for the quiet one's"
    );
    assert_eq!(
        hooks_and_events(&claim(&store, per_hook(2)).await),
        ["busy/e1", "busy/e2"],
        "then the oldest of the rest"
    );
}

async fn a_claim_takes_each_named_hook_up_to_its_room() {
    let (store, _dir) = fresh_store().await;
    add_hook(&store, "full", "Full").await;
    add_hook(&store, "roomy", "Roomy").await;
    add_hook(&store, "other", "Other").await;
    add_events(&store, "Full", 0..5).await;
    add_events(&store, "Roomy", 5..10).await;
    add_events(&store, "Other", 10..15).await;
    let room = |hook: &str, room| HookRoom {
        hook: HookId::from(hook),
        room,
        has: 0,
    };
    let rooms = [room("full", 0), room("roomy", 2)];
    let claimed = claim(
        &store,
        Claim {
            rooms: &rooms,
            per_hook: 3,
            ..claim_by("a", 2000)
        },
    )
    .await;
    assert_eq!(
        hooks_and_events(&claimed),
        [
            "roomy/e5",
            "roomy/e6",
            "other/e10",
            "other/e11",
            "other/e12"
        ],
        "none of the hook without room, two of the one with two, three of any other"
    );
}

async fn in_each_turn_the_hooks_the_claimer_has_least_of_go_first() {
    let (store, _dir) = fresh_store().await;
    add_hook(&store, "slow", "Slow").await;
    add_hook(&store, "fresh", "Fresh").await;
    add_events(&store, "Slow", 0..5).await;
    add_events(&store, "Fresh", 5..6).await;
    // The dispatcher has three of the slow hook's already; the fresh hook's
    // only delivery is newer, yet its turn comes first.
    let rooms = [HookRoom {
        hook: HookId::from("slow"),
        room: 2,
        has: 3,
    }];
    let claimed = claim(
        &store,
        Claim {
            rooms: &rooms,
            batch: 1,
            ..claim_by("a", 2000)
        },
    )
    .await;
    assert_eq!(hooks_and_events(&claimed), ["fresh/e5"]);
}

async fn a_lease_is_not_claimed_again_until_it_runs_out() {
    let (store, _dir) = fresh_store().await;
    hook_with_events(&store, 2).await;
    let now = 2000;
    let first = claim(&store, claim_by("a", now)).await;
    assert_eq!(ids(&first), ["e0", "e1"]);
    assert!(
        claim(&store, claim_by("b", now + LEASE - 1))
            .await
            .is_empty(),
        "a's leases hold"
    );
    // a has died without a word: once its leases run out, b takes over.
    let taken = claim(&store, claim_by("b", now + LEASE)).await;
    assert_eq!(ids(&taken), ["e0", "e1"]);
    assert!(taken.iter().all(|d| &*d.lease_token == "b"));
    assert!(taken.iter().all(|d| d.lease_expires_at == now + 2 * LEASE));
    assert!(claim(&store, claim_by("c", now + LEASE)).await.is_empty());
}

async fn settlements_apply_only_under_the_lease_token_they_were_made_with() {
    let (store, _dir) = fresh_store().await;
    let d = hook_with_events(&store, 1).await;
    let now = 2000;
    let by_a = claim(&store, claim_by("a", now)).await.remove(0);
    let later = now + LEASE;
    let by_b = claim(&store, claim_by("b", later)).await.remove(0);
    assert_eq!(by_a.id, by_b.id);

    // a's attempt comes in late: the delivery is b's now.
    store
        .record_settlements(vec![delivered(&by_a, later)], later)
        .await
        .unwrap();
    let delivery = store.delivery(&d[0].clone()).await.unwrap().unwrap();
    assert_eq!(delivery.state, DeliveryState::Pending);
    assert_eq!(delivery.attempt_count, 0);
    assert!(
        claim(&store, claim_by("c", later)).await.is_empty(),
        "b's lease still holds"
    );

    // b's attempt failed: the delivery waits for its retry, unleased.
    let retry_at = later + 1000;
    let failed = settlement(&by_b, DeliveryState::Pending, Some(retry_at), later);
    store.record_settlements(vec![failed], later).await.unwrap();
    let delivery = store.delivery(&d[0].clone()).await.unwrap().unwrap();
    assert_eq!(delivery.state, DeliveryState::Pending);
    assert_eq!(delivery.attempt_count, 1);
    assert_eq!(delivery.next_attempt_at, Some(retry_at));
    assert!(claim(&store, claim_by("c", retry_at - 1)).await.is_empty());
    let retry = claim(&store, claim_by("c", retry_at)).await.remove(0);
    assert_eq!((retry.attempt_count, retry.trigger), (1, Trigger::Retry));

    // b's lease ended with its settlement: another under it does nothing.
    store
        .record_settlements(vec![delivered(&by_b, retry_at)], retry_at)
        .await
        .unwrap();
    assert_eq!(
        store
            .delivery(&d[0].clone())
            .await
            .unwrap()
            .unwrap()
            .attempt_count,
        1
    );
    store
        .record_settlements(vec![delivered(&retry, retry_at)], retry_at)
        .await
        .unwrap();
    let delivery = store.delivery(&d[0].clone()).await.unwrap().unwrap();
    assert_eq!(delivery.state, DeliveryState::Delivered);
    assert_eq!(delivery.attempt_count, 2);
    assert_eq!(delivery.next_attempt_at, None);
    assert!(claim(&store, claim_by("d", retry_at + 10 * LEASE))
        .await
        .is_empty());
}

/// Two claims at the same moment, round after round: each leases its own
/// deliveries, none twice, and between them all of them. On PostgreSQL they
/// run side by side, on two connections, and a claim passes over the rows
/// another transaction holds without waiting.
async fn two_claims_at_once_never_lease_the_same_delivery() {
    let (store, database) = fresh_store().await;
    let hooks = ["h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7"];
    let mut all = hooks_with_events(&store, &hooks, 50).await;
    all.sort();
    assert_eq!(all.len(), 400);
    for round in 0..10 {
        // The leases of the round before have run out.
        let now = 2000 + round * 1000;
        let half = |owner| Claim {
            per_hook: 25,
            lease_until: now + 1000,
            ..claim_by(owner, now)
        };
        let (claim_a, claim_b) = (half("a"), half("b"));
        let (a, b) = tokio::join!(store.claim_due(&claim_a), store.claim_due(&claim_b));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            (a.len(), b.len()),
            (200, 200),
            "round {round}: half of each hook's each"
        );
        let mut both: Vec<DeliveryId> = a.iter().chain(&b).map(|d| d.id.clone()).collect();
        both.sort_unstable();
        assert_eq!(both, all, "round {round}: every delivery, once");
    }
    if database.backend == Backend::Postgres {
        // What makes that so: a claim skips the rows another transaction
        // holds (another claim, the recorder) instead of waiting for them.
        let mut holder = sqlx::PgConnection::connect(&database.url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
        sqlx::query("SELECT id FROM deliveries WHERE hook_id = 'h0' FOR UPDATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let now = 100_000;
        let started = Instant::now();
        let claimed = claim(&store, claim_by("c", now)).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited for the lock"
        );
        assert_eq!(claimed.len(), 350);
        assert!(claimed.iter().all(|d| d.hook.id != "h0".into()));
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
        let claimed = claim(&store, claim_by("d", now)).await;
        assert_eq!(claimed.len(), 50);
        assert!(claimed.iter().all(|d| d.hook.id == "h0".into()));
    }
}

async fn renewing_extends_only_the_live_leases_named() {
    let (store, _dir) = fresh_store().await;
    let d = hook_with_events(&store, 5).await;
    let now = 2000;
    let short = Claim {
        batch: 1,
        lease_until: now + 50,
        ..claim_by("a", now)
    };
    assert_eq!(ids(&claim(&store, short).await), ["e0"]);
    let held = claim(
        &store,
        Claim {
            token: "a2",
            batch: 3,
            ..claim_by("a", now)
        },
    )
    .await;
    assert_eq!(ids(&held), ["e1", "e2", "e3"]);
    assert_eq!(ids(&claim(&store, claim_by("b", now)).await), ["e4"]);
    // Of a's leases, e2's attempt is logged and e3's is given back.
    store
        .record_settlements(vec![delivered(&held[1], now)], now)
        .await
        .unwrap();
    store.release_leases(&[(&d[3], "a2")]).await.unwrap();

    // a names every lease it took, and b's under a's token.
    let named = [
        (&d[0], "a"),
        (&d[1], "a2"),
        (&d[2], "a2"),
        (&d[3], "a2"),
        (&d[4], "a2"),
    ];
    let renewed = store
        .renew_leases(&named, now + 60, now + 1000)
        .await
        .unwrap();
    assert_eq!(
        renewed,
        1,
        "only e1's: e0's lease ran out at {}, e2's was settled, e3's given back, e4's is b's",
        now + 50
    );
    let after = Claim {
        lease_until: 10_000,
        ..claim_by("c", now + LEASE)
    };
    assert_eq!(
        ids(&claim(&store, after).await),
        ["e0", "e3", "e4"],
        "b's lease ran out too; e1's was renewed"
    );
    assert!(claim(&store, claim_by("d", now + 999)).await.is_empty());
    assert_eq!(ids(&claim(&store, claim_by("d", now + 1000)).await), ["e1"]);
}

async fn a_lease_is_given_back_only_with_its_token() {
    let (store, _dir) = fresh_store().await;
    let d = hook_with_events(&store, 2).await;
    assert_eq!(claim(&store, claim_by("a", 2000)).await.len(), 2);
    store.release_leases(&[(&d[0], "not-a")]).await.unwrap();
    store.release_leases(&[(&d[1], "a")]).await.unwrap();
    store.release_leases(&[]).await.unwrap();
    assert_eq!(
        ids(&claim(&store, claim_by("b", 2001)).await),
        ["e1"],
        "claimable at once; e0's lease holds"
    );
}

async fn claimed_deliveries_carry_their_hook_as_it_is_now() {
    let (store, _dir) = fresh_store().await;
    hooks_with_events(&store, &["h1", "h2"], 1).await;
    let off = HookPatch {
        enabled: Some(false),
        ..HookPatch::default()
    }
    .validated(&[])
    .unwrap();
    store
        .patch_hook(&HookId::from("h2"), &off, None, 1500)
        .await
        .unwrap()
        .unwrap();
    store
        .rotate_signing_key(
            &HookId::from("h1"),
            &SigningKey::new("new-key".into()),
            9000,
            1500,
        )
        .await
        .unwrap()
        .unwrap();

    let mut targets = store
        .hook_targets(&["h2".into(), "missing".into(), "h1".into()])
        .await
        .unwrap();
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    let seen: Vec<(&str, bool, &str, Option<&str>)> = targets
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.enabled,
                t.keys.current().expose(),
                t.keys.previous().map(|(key, _)| key.expose()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("h1", true, "new-key", Some("key-h1")),
            ("h2", false, "key-h2", None)
        ]
    );
    assert_eq!(
        targets[0].keys.previous().map(|(_, until)| until),
        Some(9000)
    );
    assert!(store.hook_targets(&[]).await.unwrap().is_empty());

    let mut claimed = claim(&store, claim_by("a", 2000)).await;
    claimed.sort_by(|a, b| a.hook.id.cmp(&b.hook.id));
    assert_eq!(claimed.len(), 2);
    assert_eq!(*claimed[0].hook, targets[0]);
    assert_eq!(
        *claimed[1].hook, targets[1],
        "a disabled hook's delivery is claimed, to be settled as skipped"
    );
}

/// An intake with room for `room` fresh deliveries, under lease `terms`.
struct TestIntake {
    terms: LeaseTerms,
    room: Mutex<usize>,
    handed: Mutex<Vec<LeasedDelivery>>,
    overflows: AtomicUsize,
}

impl Intake for TestIntake {
    fn lease_terms(&self) -> Option<LeaseTerms> {
        Some(self.terms.clone())
    }

    fn reserve(&self, _hook_id: &HookId, _bytes: usize) -> bool {
        let mut room = self.room.lock().unwrap();
        let kept = *room > 0;
        *room -= usize::from(kept);
        kept
    }

    fn cancel(&self, reserved: &[Reservation]) {
        *self.room.lock().unwrap() += reserved.len();
    }

    fn hand_off(&self, fresh: Vec<LeasedDelivery>) {
        self.handed.lock().unwrap().extend(fresh);
    }

    fn overflowed(&self) {
        self.overflows.fetch_add(1, Ordering::Relaxed);
    }
}

async fn fresh_deliveries_are_leased_to_the_intake_and_the_rest_wait_for_a_claim() {
    let (store, _dir) = fresh_store().await;
    add_hook(&store, "h1", "User.Created").await;
    let intake = Arc::new(TestIntake {
        terms: LeaseTerms {
            owner: "a".into(),
            token: "fresh".into(),
            expires_at: 5000,
        },
        room: Mutex::new(2),
        handed: Mutex::default(),
        overflows: AtomicUsize::new(0),
    });
    store.hand_fresh_deliveries_to(Some(intake.clone()));
    let d = add_events(&store, "User.Created", 0..3).await;
    store.hand_fresh_deliveries_to(None);

    let handed = std::mem::take(&mut *intake.handed.lock().unwrap());
    assert_eq!(ids(&handed), ["e0", "e1"], "as much as there was room for");
    for fresh in &handed {
        assert_eq!(&*fresh.lease_token, "fresh");
        assert_eq!(fresh.lease_expires_at, 5000);
        assert_eq!((fresh.attempt_count, fresh.trigger), (0, Trigger::Auto));
        assert_eq!(fresh.hook.keys.current().expose(), "key-h1");
        assert_eq!(fresh.event.payload, r#"{"n":1}"#);
    }
    assert_eq!(intake.overflows.load(Ordering::Relaxed), 1);
    assert_eq!(*intake.room.lock().unwrap(), 0);

    let overflow = Claim {
        lease_until: 10_000,
        ..claim_by("b", 2000)
    };
    assert_eq!(
        ids(&claim(&store, overflow).await),
        ["e2"],
        "the fresh leases hold"
    );
    store
        .record_settlements(vec![delivered(&handed[0], 2000)], 2000)
        .await
        .unwrap();
    assert_eq!(
        store.delivery(&d[0].clone()).await.unwrap().unwrap().state,
        DeliveryState::Delivered
    );
    assert!(claim(&store, claim_by("c", 4999)).await.is_empty());
    assert_eq!(
        ids(&claim(&store, claim_by("c", 5000)).await),
        ["e1"],
        "a fresh lease that ran out"
    );
}

async fn the_roster_lists_live_dispatchers_sorted_with_their_views() {
    let (store, _dir) = fresh_store().await;
    let entry = |owner: &str, view: &str| RosterEntry {
        owner: owner.into(),
        view: view.into(),
    };
    let now = 10_000_000;
    let since = now - 5000;
    store.dispatcher_beat("b", now, "", 0).await.unwrap();
    store.dispatcher_beat("a", since, "a,b", 0).await.unwrap();
    store
        .dispatcher_beat("C", now - 1, "C,a,b", 0)
        .await
        .unwrap();
    store
        .dispatcher_beat("silent", since - 1, "x", 0)
        .await
        .unwrap();
    assert_eq!(
        store.live_dispatchers(since).await.unwrap(),
        [entry("C", "C,a,b"), entry("a", "a,b"), entry("b", "")],
        "sorted byte by byte, so every instance counts alike; silent since before `since` is left out"
    );
    store
        .dispatcher_beat("b", now + 1, "C,a,b", 0)
        .await
        .unwrap();
    store.dispatcher_gone("a").await.unwrap();
    store.dispatcher_gone("nobody").await.unwrap();
    assert_eq!(
        store.live_dispatchers(since).await.unwrap(),
        [entry("C", "C,a,b"), entry("b", "C,a,b")],
        "b's new view; a is gone"
    );
    assert_eq!(
        store.live_dispatchers(0).await.unwrap().len(),
        3,
        "silent is still remembered"
    );
    // Ten hours on, a beat forgets those long gone.
    store
        .dispatcher_beat("b", now + 36_000_000, "b", 0)
        .await
        .unwrap();
    assert_eq!(store.live_dispatchers(0).await.unwrap(), [entry("b", "b")]);
}

crate::on_both_databases!(
    the_first_user_is_inserted_only_once,
    emails_are_unique,
    the_last_admin_cannot_be_deleted,
    sessions_end_at_expiry_and_with_their_user,
    api_key_use_is_recorded_at_most_once_a_minute_and_revoked_keys_fail,
    claims_take_due_deliveries_oldest_first_within_per_hook_and_batch,
    one_hooks_backlog_does_not_hide_another_hooks_deliveries,
    a_claim_takes_each_named_hook_up_to_its_room,
    in_each_turn_the_hooks_the_claimer_has_least_of_go_first,
    a_lease_is_not_claimed_again_until_it_runs_out,
    settlements_apply_only_under_the_lease_token_they_were_made_with,
    two_claims_at_once_never_lease_the_same_delivery,
    renewing_extends_only_the_live_leases_named,
    a_lease_is_given_back_only_with_its_token,
    claimed_deliveries_carry_their_hook_as_it_is_now,
    fresh_deliveries_are_leased_to_the_intake_and_the_rest_wait_for_a_claim,
    the_roster_lists_live_dispatchers_sorted_with_their_views,
);
