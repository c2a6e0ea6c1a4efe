//! The fastest receiver we can write: an axum server on loopback that answers
//! 204 at once and notes which event reached which path, and when. For the
//! backlog phase, the paths under `backlog` can be held "down": each request
//! there waits until they are up again (or `HOLD_AT_MOST`, well inside
//! Hookline's request timeout, so that no attempt fails and is retried).

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
    base: String,
}

#[derive(Clone)]
struct Shared {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    backlog_up: watch::Receiver<bool>,
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
        let receiver = Receiver {
            arrivals: Arc::default(),
            backlog_up: Arc::new(backlog_up),
            base: format!("http://{}", listener.local_addr()?),
        };
        let app = Router::new()
            .route("/{*path}", post(arrive))
            .with_state(Shared {
                arrivals: receiver.arrivals.clone(),
                backlog_up: up,
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

    /// Everything seen since the last call, which starts the count afresh.
    pub fn take(&self) -> Vec<Arrival> {
        std::mem::take(&mut *self.arrivals.lock().unwrap())
    }

    /// Holds the backlog paths down (false) or brings them up (true).
    pub fn set_backlog_up(&self, up: bool) {
        self.backlog_up.send_replace(up);
    }

    /// When the latest request came, if any did.
    pub fn last_arrival(&self) -> Option<Instant> {
        self.arrivals.lock().unwrap().last().map(|a| a.at)
    }
}

async fn arrive(State(shared): State<Shared>, Path(path): Path<String>, body: Bytes) -> StatusCode {
    if path.starts_with(BACKLOG_PREFIX) {
        let mut up = shared.backlog_up.clone();
        let _ = tokio::time::timeout(HOLD_AT_MOST, up.wait_for(|up| *up)).await;
    }
    let arrivals = shared.arrivals;
    let at = Instant::now();
    let seq = serde_json::from_slice::<Probe>(&body)
        .ok()
        .and_then(|p| p.seq);
    arrivals.lock().unwrap().push(Arrival { path, seq, at });
    StatusCode::NO_CONTENT
}
