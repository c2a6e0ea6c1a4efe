//! Background tasks besides the dispatcher.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::service::Service;

/// How often the retention sweep runs. The first run is at start.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Runs the retention sweep now and then every `SWEEP_INTERVAL`, until
/// `shutdown`. Several instances may sweep at once: deleting is idempotent.
pub fn spawn_retention(
    service: Arc<Service>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match service.sweep_expired().await {
                Ok(0) => {}
                Ok(events) => tracing::info!(events, "retention: deleted events past the window"),
                Err(err) => {
                    tracing::error!(error = %err, "retention sweep failed; trying again later")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
            }
        }
    })
}

/// Runs the alert watch every `--alert-check-interval` until `shutdown`.
/// Every instance watches: an incident opens once (see `store/incidents.rs`).
pub fn spawn_alert_watch(
    service: Arc<Service>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut read_from = crate::clock::now_ms();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(service.alert_check_interval()) => {}
            }
            if let Err(err) = service.watch_incidents(&mut read_from).await {
                tracing::error!(error = %err, "the alert watch failed; looking again later");
            }
        }
    })
}
