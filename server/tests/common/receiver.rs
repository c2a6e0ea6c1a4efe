//! A real webhook receiver on an ephemeral port: it answers from a script,
//! records every request as it arrived, and notices if two requests for the
//! same delivery (`webhook-id`) are ever in flight at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn body(mut self, body: impl Into<String>) -> Reply {
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// Requests in flight at this receiver as it arrived, itself included.
    pub in_flight: usize,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Log {
    script: VecDeque<Reply>,
    fallback: Option<Reply>,
    requests: Vec<Received>,
    in_flight: HashMap<String, usize>,
    total_in_flight: usize,
    max_in_flight: usize,
    overlapping: Vec<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    log: Arc<Mutex<Log>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    /// Starts a receiver that answers `fallback` once its script runs out.
    pub async fn start(fallback: Reply) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            log: Arc::new(Mutex::new(Log {
                fallback: Some(fallback),
                ..Log::default()
            })),
            arrived: Arc::new(Notify::new()),
        };
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// Answers every request from now on with `reply`, once the script has
    /// run out.
    pub fn answer_with(&self, reply: Reply) {
        self.log.lock().unwrap().fallback = Some(reply);
    }

    /// Answers the next requests with `replies`, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.log.lock().unwrap().script.extend(replies);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().requests.clone()
    }

    /// Waits until `count` requests have arrived (panics after `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.arrived.notified();
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited {within:?} for {count} requests, got {}",
                requests.len()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// The `data.n` of each request's body, in the order they arrived
    /// (`Api::ingest_numbered` numbers events so).
    pub fn numbers(&self) -> Vec<i64> {
        self.requests()
            .iter()
            .map(|r| r.json()["data"]["n"].as_i64().expect("a numbered event"))
            .collect()
    }

    /// Deliveries that had two requests in flight at once.
    pub fn overlapping(&self) -> Vec<String> {
        self.log.lock().unwrap().overlapping.clone()
    }

    /// The most requests this receiver had in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.log.lock().unwrap().max_in_flight
    }
}

async fn answer(
    State(receiver): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let reply = {
        let mut log = receiver.log.lock().unwrap();
        let same = log.in_flight.entry(id.clone()).or_default();
        *same += 1;
        if *same > 1 {
            log.overlapping.push(id.clone());
        }
        log.total_in_flight += 1;
        log.max_in_flight = log.max_in_flight.max(log.total_in_flight);
        let in_flight = log.total_in_flight;
        log.requests.push(Received {
            path: uri.path().to_owned(),
            headers,
            body,
            at: Instant::now(),
            in_flight,
        });
        match log.script.pop_front() {
            Some(reply) => reply,
            None => log.fallback.clone().unwrap(),
        }
    };
    receiver.arrived.notify_waiters();
    // Counts the request out even when the sender gives up and the handler is dropped.
    let _done = InFlightGuard {
        log: receiver.log.clone(),
        id,
    };
    tokio::time::sleep(reply.delay).await;
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap(),
        reply.body.clone(),
    )
        .into_response();
    for (name, value) in &reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::try_from(name.as_str()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}

struct InFlightGuard {
    log: Arc<Mutex<Log>>,
    id: String,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut log = self.log.lock().unwrap();
        if let Some(count) = log.in_flight.get_mut(&self.id) {
            *count -= 1;
        }
        log.total_in_flight -= 1;
    }
}
