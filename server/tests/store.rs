//! The store on a real database (SQLite and PostgreSQL): its settings and the
//! rules it enforces.

mod common;

use app::model::delivery::DeliveryState;
use app::model::hook::{HookConfig, NewHook};
use common::database::TestDatabase;
use hookline::store::{
    Claim, ClaimedDelivery, HookRow, NewEvent, NextStep, Outcome, Share, Store, UserRow,
};

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
    assert!(hookline::store::is_unique_violation(&err), "{err}");
}

async fn the_last_admin_cannot_be_deleted() {
    let (store, _dir) = fresh_store().await;
    add_users(
        &store,
        &[("a", "a@x.io", "admin"), ("v", "v@x.io", "viewer")],
    )
    .await;
    assert!(!store.delete_user_keeping_an_admin("a").await.unwrap());
    add_users(&store, &[("b", "b@x.io", "admin")]).await;
    assert!(store.delete_user_keeping_an_admin("a").await.unwrap());
    assert!(store.delete_user_keeping_an_admin("v").await.unwrap());
    assert!(!store.delete_user_keeping_an_admin("missing").await.unwrap());
}

async fn sessions_end_at_expiry_and_with_their_user() {
    let (store, _dir) = fresh_store().await;
    add_users(
        &store,
        &[("a", "a@x.io", "admin"), ("b", "b@x.io", "admin")],
    )
    .await;
    store.insert_session("t1", "a", 0, 1_000).await.unwrap();
    store.insert_session("t2", "b", 0, 5_000).await.unwrap();
    assert_eq!(
        store.session_user("t1", 999).await.unwrap().unwrap().id,
        "a"
    );
    assert!(store.session_user("t1", 1_000).await.unwrap().is_none());
    store.delete_expired_sessions(1_000).await.unwrap();
    assert!(
        store.session_user("t1", 0).await.unwrap().is_none(),
        "expired sessions are deleted"
    );
    assert!(store.delete_user_keeping_an_admin("b").await.unwrap());
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
        store.use_api_key("h", 10_000).await.unwrap().as_deref(),
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
    assert!(store.revoke_api_key("k", 80_000).await.unwrap());
    assert!(
        !store.revoke_api_key("k", 90_000).await.unwrap(),
        "only once"
    );
    assert_eq!(store.use_api_key("h", 100_000).await.unwrap(), None);
}

/// A hook listening to `User.Created`, and `events` ingested for it at time 1000.
async fn hook_with_events(store: &Store, events: usize) {
    hooks_with_events(store, &["h1"], events).await;
}

/// Hooks `ids` listening to User.Created, and `events` of it: event `n`'s
/// deliveries are `d{n}-0`, `d{n}-1` … one per hook.
async fn hooks_with_events(store: &Store, ids: &[&str], events: usize) {
    for id in ids {
        store
            .insert_hook(&HookRow::new(
                (*id).into(),
                NewHook {
                    name: "h".into(),
                    events: vec!["User.Created".into()],
                    config: HookConfig {
                        url: "https://example.com".into(),
                        headers: Default::default(),
                    },
                    enabled: None,
                },
                "k".into(),
                1,
            ))
            .await
            .unwrap();
    }
    for n in 0..events {
        let id = format!("e{n}");
        let event = NewEvent {
            id: &id,
            name: "User.Created",
            payload: "{}",
            created_at: 1000 + n as i64,
        };
        let counter = std::sync::atomic::AtomicUsize::new(0);
        let next_id = move || {
            format!(
                "d{n}-{}",
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )
        };
        store.ingest_event(&event, None, next_id).await.unwrap();
    }
}

async fn claims_respect_the_per_hook_limit_and_expired_leases_are_taken_over() {
    let (store, _dir) = fresh_store().await;
    hook_with_events(&store, 5).await;
    let now = 2000;
    let first = claim(&store, now, "a", 2, &[]).await;
    assert_eq!(ids(&first), ["d0-0", "d1-0"], "oldest first, two per hook");
    assert!(
        claim(&store, now, "b", 2, &[]).await.is_empty(),
        "the hook is at its limit while the leases hold"
    );
    // The first worker died: once its leases run out, another takes over.
    let later = now + 101;
    let taken = claim(&store, later, "b", 2, &[]).await;
    assert_eq!(ids(&taken), ["d0-0", "d1-0"]);
    assert!(taken.iter().all(|d| d.lease_token == "b"));

    // The late first worker's outcome no longer moves the delivery.
    store
        .record_outcomes(&[delivered("d0-0", "a")], later)
        .await
        .unwrap();
    let delivery = store.delivery("d0-0").await.unwrap().unwrap();
    assert_eq!(delivery.state, DeliveryState::Pending);
    // The owner's does, and frees a slot.
    store
        .record_outcomes(&[delivered("d0-0", "b")], later)
        .await
        .unwrap();
    let delivery = store.delivery("d0-0").await.unwrap().unwrap();
    assert_eq!(delivery.state, DeliveryState::Delivered);
    let next = claim(&store, later, "c", 2, &[]).await;
    assert_eq!(next.len(), 1, "one slot freed");
    assert_eq!(next[0].id, "d2-0");
}

async fn a_finished_attempt_frees_its_slot_before_it_is_logged() {
    let (store, _dir) = fresh_store().await;
    hook_with_events(&store, 4).await;
    let now = 2000;
    let first = claim(&store, now, "a", 2, &[]).await;
    assert_eq!(first.len(), 2);
    // d0-0's request is over and waits for the recorder: one slot is free,
    // though its lease still holds.
    let finished = vec![first[0].id.clone()];
    let next = claim_queueing(&store, now, "a", "a2", 2, 0, &finished).await;
    assert_eq!(
        ids(&next),
        ["d2-0"],
        "one slot, and never the finished delivery again"
    );
    assert!(
        claim_queueing(&store, now, "a", "a3", 2, 0, &finished)
            .await
            .is_empty(),
        "d1-0 and d2-0 are in flight: the hook is at its limit"
    );
}

/// Claims as dispatcher `owner` (also the lease token), leases lasting
/// 100 ms, at most `per_hook` in flight and nothing queued past it.
async fn claim(
    store: &Store,
    now: i64,
    owner: &str,
    per_hook: i64,
    finished: &[String],
) -> Vec<ClaimedDelivery> {
    claim_queueing(store, now, owner, owner, per_hook, 0, finished).await
}

async fn claim_queueing(
    store: &Store,
    now: i64,
    owner: &str,
    token: &str,
    per_hook: i64,
    queue_per_hook: i64,
    finished: &[String],
) -> Vec<ClaimedDelivery> {
    let claim = request(now, owner, token, per_hook, queue_per_hook, finished);
    store.claim_due(&claim).await.unwrap()
}

/// A claim by `owner` with lease `token`, lasting 100 ms, for every hook.
fn request<'a>(
    now: i64,
    owner: &'a str,
    token: &'a str,
    per_hook: i64,
    queue_per_hook: i64,
    finished: &'a [String],
) -> Claim<'a> {
    Claim {
        owner,
        token,
        now,
        lease_until: now + 100,
        batch: 10,
        per_hook,
        queue_per_hook,
        finished,
        share: Share::ALL,
    }
}

/// Claims as `owner` for the hooks of `share`: one in flight per hook, and
/// one more queued.
async fn claim_share(store: &Store, now: i64, owner: &str, share: Share) -> Vec<ClaimedDelivery> {
    let claim = Claim {
        share,
        ..request(now, owner, owner, 1, 1, &[])
    };
    store.claim_due(&claim).await.unwrap()
}

fn ids(claimed: &[ClaimedDelivery]) -> Vec<&str> {
    claimed.iter().map(|d| d.id.as_str()).collect()
}

async fn a_claimant_queues_past_the_limit_only_while_it_alone_holds_the_hook() {
    let (store, _dir) = fresh_store().await;
    hook_with_events(&store, 8).await;
    let now = 2000;
    let first = claim_queueing(&store, now, "a", "a1", 2, 2, &[]).await;
    assert_eq!(
        ids(&first),
        ["d0-0", "d1-0", "d2-0", "d3-0"],
        "alone, a takes two to send and two to queue"
    );
    assert!(
        claim_queueing(&store, now, "b", "b1", 2, 2, &[])
            .await
            .is_empty(),
        "a's leases are past the limit: nobody else may send"
    );
    // Three of a's attempts are logged; it still holds d3-0.
    let logged: Vec<Outcome> = ["d0-0", "d1-0", "d2-0"]
        .into_iter()
        .map(|id| delivered(id, "a1"))
        .collect();
    store.record_outcomes(&logged, now).await.unwrap();
    let second = claim_queueing(&store, now, "b", "b1", 2, 2, &[]).await;
    assert_eq!(
        ids(&second),
        ["d4-0"],
        "b shares the hook with a: up to the limit, nothing queued"
    );
    assert!(
        claim_queueing(&store, now, "a", "a2", 2, 2, &[])
            .await
            .is_empty(),
        "nor may a queue while b holds a lease"
    );
}

async fn live_dispatchers_split_the_hooks_and_share_those_of_one_that_stops() {
    let (store, _dir) = fresh_store().await;
    hooks_with_events(&store, &["h1", "h2", "h3"], 3).await;
    let now = 2000;
    let since = now - 5000;
    assert_eq!(
        store.dispatcher_alive("b", now, since).await.unwrap(),
        ["b"]
    );
    let alive = store.dispatcher_alive("a", now, since).await.unwrap();
    assert_eq!(alive, ["a", "b"], "sorted, so every instance counts alike");
    let (a, b) = (Share::among(&alive, "a"), Share::among(&alive, "b"));
    assert_eq!(
        (a, b),
        (Share { index: 0, of: 2 }, Share { index: 1, of: 2 })
    );
    let hooks = |claimed: &[ClaimedDelivery]| {
        let mut hooks: Vec<String> = claimed.iter().map(|d| d.hook_id.clone()).collect();
        hooks.sort();
        hooks
    };
    let first = claim_share(&store, now, "a", a).await;
    assert_eq!(
        hooks(&first),
        ["h1", "h1", "h2", "h3", "h3"],
        "a queues the first and the third hook, its share, and takes the idle second up to its limit"
    );
    assert!(
        claim_share(&store, now, "b", b).await.is_empty(),
        "b may not join a's hooks, and its own is at the limit"
    );
    let logged: Vec<Outcome> = first
        .iter()
        .filter(|d| d.hook_id == "h2")
        .map(|d| Outcome {
            hook_id: d.hook_id.clone(),
            ..delivered(&d.id, "a")
        })
        .collect();
    store.record_outcomes(&logged, now).await.unwrap();
    assert_eq!(
        hooks(&claim_share(&store, now, "b", b).await),
        ["h2", "h2"],
        "once a's attempt is logged, b queues its own hook"
    );

    // b stops and says so: a is alone again and serves every hook.
    store.dispatcher_gone("b").await.unwrap();
    let alive = store.dispatcher_alive("a", now, since).await.unwrap();
    assert_eq!(Share::among(&alive, "a"), Share::ALL);
    // c is never heard from again: after its silence, a is alone.
    store.dispatcher_alive("c", now, since).await.unwrap();
    let later = now + 6000;
    let alive = store
        .dispatcher_alive("a", later, later - 5000)
        .await
        .unwrap();
    assert_eq!(alive, ["a"], "c has not been seen for 6 s");
}

/// The outcome "delivered" for delivery `id`, from the holder of lease `token`.
fn delivered(id: &str, token: &str) -> Outcome {
    Outcome {
        delivery_id: id.into(),
        hook_id: "h1".into(),
        lease_token: token.into(),
        attempt: None,
        next: NextStep::Delivered,
        verdict: None,
    }
}

crate::on_both_databases!(
    the_first_user_is_inserted_only_once,
    emails_are_unique,
    the_last_admin_cannot_be_deleted,
    sessions_end_at_expiry_and_with_their_user,
    api_key_use_is_recorded_at_most_once_a_minute_and_revoked_keys_fail,
    claims_respect_the_per_hook_limit_and_expired_leases_are_taken_over,
    a_finished_attempt_frees_its_slot_before_it_is_logged,
    a_claimant_queues_past_the_limit_only_while_it_alone_holds_the_hook,
    live_dispatchers_split_the_hooks_and_share_those_of_one_that_stops,
);
