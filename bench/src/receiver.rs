//! The fastest receiver we can write: an axum server on loopback that answers
//! 204 at once and notes which event reached which path, and when.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The URL path it came to, without the leading slash (one per hook).
    pub path: String,
    /// The event's `seq` field, set by the load generator.
    pub seq: Option<u64>,
    pub at: Instant,
}

#[derive(Clone, Default)]
pub struct Receiver {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    base: String,
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
        let receiver = Receiver {
            base: format!("http://{}", listener.local_addr()?),
            ..Receiver::default()
        };
        let app = Router::new()
            .route("/{*path}", post(arrive))
            .with_state(receiver.arrivals.clone());
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

    /// When the latest request came, if any did.
    pub fn last_arrival(&self) -> Option<Instant> {
        self.arrivals.lock().unwrap().last().map(|a| a.at)
    }
}

async fn arrive(
    State(arrivals): State<Arc<Mutex<Vec<Arrival>>>>,
    Path(path): Path<String>,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let seq = serde_json::from_slice::<Probe>(&body)
        .ok()
        .and_then(|p| p.seq);
    arrivals.lock().unwrap().push(Arrival { path, seq, at });
    StatusCode::NO_CONTENT
}
