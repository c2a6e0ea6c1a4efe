//! Logs outcomes in batches: whatever has finished while the last batch was
//! being written goes into the next transaction, so a busy dispatcher makes
//! few, larger writes. A failed write is retried, never dropped.
//!
//! Then it announces what was logged (to live console pages and synchronous
//! ingestion): directly on SQLite; on PostgreSQL through the database, so every
//! instance hears of every instance's attempts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Dispatcher, Logged};
use crate::service::now_ms;
use crate::store::{AttemptNotices, Settlement, Store};

/// The most outcomes written in one transaction.
pub const MAX_BATCH: usize = 512;

/// Starts the recorder on the outcomes arriving in `inbox`; it ends once every
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
        while inbox.recv_many(&mut received, MAX_BATCH).await > 0 {
            let batch = Arc::new(std::mem::take(&mut received));
            write(&store, &batch).await;
            dispatcher.logged(batch.iter().map(|s| s.delivery_id.as_str()));
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
    })
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

async fn write(store: &Store, batch: &Arc<Vec<Settlement>>) {
    let mut pause = Duration::from_millis(50);
    loop {
        match store.record_settlements(batch.clone(), now_ms()).await {
            Ok(()) => return,
            Err(err) => {
                tracing::error!(error = %err, outcomes = batch.len(), "could not log attempts; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
