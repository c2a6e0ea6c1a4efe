//! The fastest receiver we can write: an axum server on loopback that answers
//! 204 at once and notes which event reached which path, and when. Some path
//! prefixes behave otherwise, each for a phase of its own:
//!
//! - under `backlog` (the backlog phase) the paths can be held "down": each
//!   request there waits until they are up again (or `HOLD_AT_MOST`, well
//!   inside Hookline's request timeout, so that no attempt fails and is
//!   retried);
//! - under `slow` (`--noisy`) each request is answered after a set delay, a
//!   slow but healthy endpoint;
//! - under `hang` (`--noisy-hang`) each request is answered only after
//!   `HANG_FOR`, past Hookline's request timeout, so that its own timeout
//!   ends every attempt.
//!
//! Every wait is a timer, not a blocked thread, so thousands of requests
//! can be held at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use tokio::sync::watch;

/// The paths the backlog phase holds down.
pub const BACKLOG_PREFIX: &str = "backlog";
const HOLD_AT_MOST: Duration = Duration::from_secs(2);
/// The paths answered after `set_slow_delay`'s delay.
pub const SLOW_PREFIX: &str = "slow";
/// The paths answered only after `HANG_FOR`.
pub const HANG_PREFIX: &str = "hang";
/// Six times Hookline's default request timeout (10 s).
pub const HANG_FOR: Duration = Duration::from_secs(60);

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The URL path it came to, without the leading slash (one per hook).
    pub path: String,
    /// The event's `seq` field, set by the load generator.
    pub seq: Option<u64>,
    pub at: Instant,
}

#[derive(Clone)]
pub struct Receiver {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    /// True while the backlog paths are up.
    backlog_up: Arc<watch::Sender<bool>>,
    /// How long the slow paths take to answer.
    slow_delay: Arc<watch::Sender<Duration>>,
    base: String,
}

#[derive(Clone)]
struct Shared {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    backlog_up: watch::Receiver<bool>,
    slow_delay: watch::Receiver<Duration>,
}

/// All the receiver reads of a body.
#[derive(Deserialize)]
struct Probe {
    seq: Option<u64>,
}

impl Receiver {
    /// Starts listening on an ephemeral loopback port.
    pub async fn start() -> anyhow::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let (backlog_up, up) = watch::channel(true);
        let (slow_delay, delay) = watch::channel(Duration::ZERO);
        let receiver = Receiver {
            arrivals: Arc::default(),
            backlog_up: Arc::new(backlog_up),
            slow_delay: Arc::new(slow_delay),
            base: format!("http://{}", listener.local_addr()?),
        };
        let app = Router::new()
            .route("/{*path}", post(arrive))
            .with_state(Shared {
                arrivals: receiver.arrivals.clone(),
                backlog_up: up,
                slow_delay: delay,
            });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(receiver)
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }

    /// Distinct events (path and `seq`) that have reached the paths under
    /// `prefix` so far: a retry of one already seen does not count again.
    pub fn distinct_under(&self, prefix: &str) -> usize {
        let arrivals = self.arrivals.lock().unwrap();
        arrivals
            .iter()
            .filter(|a| a.path.starts_with(prefix))
            .map(|a| (a.path.as_str(), a.seq))
            .collect::<HashSet<_>>()
            .len()
    }

    /// Everything seen since the last call, which starts the count afresh.
    pub fn take(&self) -> Vec<Arrival> {
        std::mem::take(&mut *self.arrivals.lock().unwrap())
    }

    /// Holds the backlog paths down (false) or brings them up (true).
    pub fn set_backlog_up(&self, up: bool) {
        self.backlog_up.send_replace(up);
    }

    /// How long the slow paths take to answer, from now on.
    pub fn set_slow_delay(&self, delay: Duration) {
        self.slow_delay.send_replace(delay);
    }
}

async fn arrive(State(shared): State<Shared>, Path(path): Path<String>, body: Bytes) -> StatusCode {
    let seq = serde_json::from_slice::<Probe>(&body)
        .ok()
        .and_then(|p| p.seq);
    if path.starts_with(HANG_PREFIX) {
        // Noted as it comes: Hookline gives up on it long before the
        // answer, and may drop the connection, which ends this handler.
        note(&shared.arrivals, path, seq);
        tokio::time::sleep(HANG_FOR).await;
        return StatusCode::NO_CONTENT;
    }
    if path.starts_with(BACKLOG_PREFIX) {
        let mut up = shared.backlog_up.clone();
        let _ = tokio::time::timeout(HOLD_AT_MOST, up.wait_for(|up| *up)).await;
    } else if path.starts_with(SLOW_PREFIX) {
        let delay = *shared.slow_delay.borrow();
        tokio::time::sleep(delay).await;
    }
    // Noted when answered: the delivery has then arrived.
    note(&shared.arrivals, path, seq);
    StatusCode::NO_CONTENT
}

fn note(arrivals: &Mutex<Vec<Arrival>>, path: String, seq: Option<u64>) {
    let at = Instant::now();
    arrivals.lock().unwrap().push(Arrival { path, seq, at });
}
