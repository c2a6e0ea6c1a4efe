//! Logs settlements in batches: whatever has finished since the last batch goes
//! to the store's group commit as the next batch, without waiting for the
//! last one to be written (a few may be under way at once), so settlements join
//! the next commit together with whatever else is being written. A failed
//! write is retried, never dropped.
//!
//! Then it announces what was logged (to live console pages and synchronous
//! ingestion): directly on SQLite; on PostgreSQL through the database, so every
//! instance hears of every instance's attempts.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Dispatcher, Logged};
use crate::clock::Clock;
use crate::store::{AttemptNotices, Settlement, Store};

/// The most settlements in one batch.
pub const MAX_BATCH: usize = 512;

/// Batches being written at once, at most.
const IN_WRITING: usize = 4;

/// Starts the recorder on the settlements arriving in `inbox`; it ends once every
/// sender is gone and all is written. With `announce`, it tells this process's
/// listeners itself what it logged.
pub fn spawn(
    store: Store,
    dispatcher: Arc<Dispatcher>,
    mut inbox: mpsc::Receiver<Settlement>,
    announce: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut received = Vec::with_capacity(MAX_BATCH);
        let mut in_writing = FuturesUnordered::new();
        let mut open = true;
        while open || !in_writing.is_empty() {
            tokio::select! {
                n = inbox.recv_many(&mut received, MAX_BATCH), if open && in_writing.len() < IN_WRITING => {
                    if n == 0 {
                        open = false;
                    } else {
                        let batch = Arc::new(std::mem::take(&mut received));
                        in_writing.push(write(store.clone(), batch, dispatcher.clock.clone()));
                    }
                }
                Some(batch) = in_writing.next() => logged(&dispatcher, &batch, announce),
            }
        }
    })
}

/// What follows a batch's commit: its deliveries leave the dispatcher, the
/// metrics count its attempts, and listeners hear of it.
fn logged(dispatcher: &Dispatcher, batch: &[Settlement], announce: bool) {
    dispatcher.logged(batch);
    for attempt in batch.iter().filter_map(|s| s.attempt.as_ref()) {
        dispatcher.metrics.attempt_logged(attempt);
    }
    // A retry was scheduled: the claim loop's sleep may be too long.
    if batch.iter().any(|s| s.next_attempt_at.is_some()) {
        dispatcher.wake();
    }
    if announce {
        dispatcher.announce(
            batch
                .iter()
                .map(|s| Logged {
                    delivery_id: s.delivery_id.clone(),
                    hook_id: s.hook_id.clone(),
                })
                .collect(),
        );
    }
}

/// Relays the database's notices of logged attempts (any instance's) to this
/// process's listeners, until `shutdown`.
pub fn relay(
    mut notices: AttemptNotices,
    dispatcher: Arc<Dispatcher>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = notices.next() => next,
            };
            match next {
                Ok(pairs) => {
                    dispatcher.announce(
                        pairs
                            .into_iter()
                            .map(|(delivery_id, hook_id)| Logged {
                                delivery_id,
                                hook_id,
                            })
                            .collect(),
                    );
                }
                Err(err) => {
                    tracing::warn!(error = %err, "lost the database's attempt notices; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}

/// Writes `batch`, trying again until it is written; returns it then.
async fn write(store: Store, batch: Arc<Vec<Settlement>>, clock: Clock) -> Arc<Vec<Settlement>> {
    let mut pause = Duration::from_millis(50);
    loop {
        match store
            .record_settlements(batch.clone(), clock.now_ms())
            .await
        {
            Ok(()) => return batch,
            Err(err) => {
                tracing::error!(error = %err, settlements = batch.len(), "could not log attempts; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
