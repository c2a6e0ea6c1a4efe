//! Logs outcomes in batches: whatever has finished while the last batch was
//! being written goes into the next transaction, so a busy dispatcher makes
//! few, larger writes. A failed write is retried, never dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{Dispatcher, Logged, OutcomeSender};
use crate::service::now_ms;
use crate::store::{Outcome, Store};

/// The most outcomes written in one transaction.
const MAX_BATCH: usize = 512;

pub fn spawn(
    store: Store,
    dispatcher: Arc<Dispatcher>,
) -> (OutcomeSender, tokio::task::JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::channel::<Outcome>(MAX_BATCH * 4);
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
            write(&store, &batch).await;
            let ids: Arc<[Logged]> = batch
                .drain(..)
                .map(|o| Logged {
                    delivery_id: o.delivery_id,
                    hook_id: o.hook_id,
                })
                .collect();
            // Nobody may be waiting for these; that is fine.
            let _ = dispatcher.logged.send(ids);
            dispatcher.wake();
        }
    });
    (sender, task)
}

async fn write(store: &Store, batch: &[Outcome]) {
    let mut pause = Duration::from_millis(50);
    loop {
        match store.record_outcomes(batch, now_ms()).await {
            Ok(()) => return,
            Err(err) => {
                tracing::error!(error = %err, outcomes = batch.len(), "could not log attempts; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
