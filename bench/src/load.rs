//! The load generator: events shaped like an identity platform's, offered to
//! Hookline's API back to back (closed loop) or at a fixed rate (open loop).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::StatusCode;
use serde_json::json;

/// Every event of a run gets its own number, carried in its `seq` field, so
/// the receiver can tell which one arrived.
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// Builds request bodies of a fixed size.
pub struct Payload {
    padding: String,
}

impl Payload {
    /// Bodies whose producer fields take about `bytes` bytes.
    pub fn new(bytes: usize) -> Payload {
        Payload {
            padding: "x".repeat(bytes.saturating_sub(120)),
        }
    }

    /// `POST /api/events` body: `{event, seq, data}`.
    pub fn event(&self, event: &str, seq: u64) -> Vec<u8> {
        json!({
            "event": event,
            "seq": seq,
            "data": {"id": format!("user-{seq}"), "primaryEmail": "someone@example.com", "profile": self.padding},
        })
        .to_string()
        .into_bytes()
    }

    /// What Hookline would deliver for the same event, for the bare client.
    pub fn delivered(&self, seq: u64) -> Vec<u8> {
        json!({
            "hookId": "bench0000000000000000",
            "event": "User.Created",
            "createdAt": "2026-11-22T00:00:00.000Z",
            "seq": seq,
            "data": {"id": format!("user-{seq}"), "primaryEmail": "someone@example.com", "profile": self.padding},
        })
        .to_string()
        .into_bytes()
    }
}

/// What a load generator sent.
#[derive(Debug)]
pub struct Sent {
    /// Each accepted request's `seq` and when it was due to go out.
    pub accepted: Vec<(u64, Instant)>,
    /// How long each accepted request took to be answered.
    pub answer_times: Vec<Duration>,
    pub refused: u64,
    pub first_refusal: Option<String>,
    pub started: Instant,
    pub finished: Instant,
}

impl Sent {
    fn new() -> Sent {
        let now = Instant::now();
        Sent {
            accepted: Vec::new(),
            answer_times: Vec::new(),
            refused: 0,
            first_refusal: None,
            started: now,
            finished: now,
        }
    }

    fn note(&mut self, seq: u64, due: Instant, result: anyhow::Result<()>) {
        match result {
            Ok(()) => {
                self.accepted.push((seq, due));
                self.answer_times.push(due.elapsed());
            }
            Err(err) => {
                self.refused += 1;
                self.first_refusal.get_or_insert_with(|| format!("{err:#}"));
            }
        }
    }

    /// Accepted requests per second over the time spent sending.
    pub fn accepted_per_sec(&self) -> f64 {
        self.accepted.len() as f64 / (self.finished - self.started).as_secs_f64()
    }
}

/// When to stop offering load: after `duration` or `limit` requests.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub duration: Duration,
    pub limit: u64,
}

/// `concurrency` senders, each sending its next request as soon as the last
/// is answered. `send` gets each request's `seq`.
pub async fn closed_loop<F, Fut>(concurrency: usize, budget: Budget, send: F) -> Sent
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let sent = Arc::new(Mutex::new(Sent::new()));
    let started = Instant::now();
    let issued = Arc::new(AtomicU64::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (sent, issued, send) = (sent.clone(), issued.clone(), send.clone());
        senders.spawn(async move {
            while started.elapsed() < budget.duration
                && issued.fetch_add(1, Ordering::Relaxed) < budget.limit
            {
                let seq = NEXT_SEQ.fetch_add(1, Ordering::Relaxed);
                let due = Instant::now();
                let result = send(seq).await;
                sent.lock().unwrap().note(seq, due, result);
            }
        });
    }
    senders.join_all().await;
    finish(sent, started)
}

/// One request every `1 / rate` seconds, whether or not earlier ones have
/// been answered (so a slow answer cannot hold back the load).
pub async fn open_loop<F, Fut>(rate: f64, budget: Budget, send: F) -> Sent
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let sent = Arc::new(Mutex::new(Sent::new()));
    let started = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut requests = tokio::task::JoinSet::new();
    let mut index = 0u64;
    while index < budget.limit {
        let due = started + period.mul_f64(index as f64);
        if due - started >= budget.duration {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let seq = NEXT_SEQ.fetch_add(1, Ordering::Relaxed);
        let (sent, send) = (sent.clone(), send.clone());
        requests.spawn(async move {
            let result = send(seq).await;
            sent.lock().unwrap().note(seq, due, result);
        });
        index += 1;
    }
    requests.join_all().await;
    finish(sent, started)
}

fn finish(sent: Arc<Mutex<Sent>>, started: Instant) -> Sent {
    let mut sent = std::mem::replace(&mut *sent.lock().unwrap(), Sent::new());
    sent.started = started;
    sent.finished = Instant::now();
    sent
}

/// Fails unless the answer has the expected status.
pub async fn expect(response: reqwest::Response, status: StatusCode) -> anyhow::Result<()> {
    if response.status() == status {
        return Ok(());
    }
    let got = response.status();
    let body = response.text().await.unwrap_or_default();
    bail!("{got}: {body}")
}

/// Hookline's REST API on one or more instances, with an API key. Events go
/// to the instances in turn.
pub struct Api {
    client: reqwest::Client,
    key: String,
    bases: Vec<String>,
}

impl Api {
    pub fn new(key: String, bases: Vec<String>) -> Api {
        Api {
            client: reqwest::Client::new(),
            key,
            bases,
        }
    }

    /// Creates an enabled hook for `event` that delivers to `url`; returns its id.
    pub async fn create_hook(&self, name: &str, event: &str, url: &str) -> anyhow::Result<String> {
        self.create_filtered_hook(name, event, url, None).await
    }

    /// `create_hook`, with a payload filter if given. Without one the body
    /// has no `filter` field at all, so that a baseline binary from before
    /// filters takes it.
    pub async fn create_filtered_hook(
        &self,
        name: &str,
        event: &str,
        url: &str,
        filter: Option<&serde_json::Value>,
    ) -> anyhow::Result<String> {
        let mut hook = json!({"name": name, "events": [event], "config": {"url": url}});
        if let Some(filter) = filter {
            hook["filter"] = filter.clone();
        }
        let response = self
            .client
            .post(format!("{}/api/hooks", self.bases[0]))
            .bearer_auth(&self.key)
            .json(&hook)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "creating a hook: {}",
            response.status()
        );
        let hook: serde_json::Value = response.json().await?;
        hook["id"]
            .as_str()
            .map(str::to_owned)
            .context("the created hook has no id")
    }

    /// `POST /api/events`, to instance `seq mod n`; must answer 202.
    pub async fn post_event(&self, seq: u64, body: Vec<u8>) -> anyhow::Result<()> {
        let base = &self.bases[seq as usize % self.bases.len()];
        let response = self
            .client
            .post(format!("{base}/api/events"))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        expect(response, StatusCode::ACCEPTED).await
    }

    /// Attempts logged so far by all instances, from their `/metrics`.
    pub async fn logged_attempts(&self) -> anyhow::Result<u64> {
        let mut total = 0.0;
        for base in &self.bases {
            let text = self
                .client
                .get(format!("{base}/metrics"))
                .bearer_auth(&self.key)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            total += text
                .lines()
                .filter(|line| line.starts_with("hookline_attempts_total{"))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>();
        }
        Ok(total as u64)
    }

    /// Reads the overview; returns how long it took.
    pub async fn overview(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.client
            .get(format!("{}/api/overview", self.bases[0]))
            .bearer_auth(&self.key)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(started.elapsed())
    }

    /// Reads one page of a hook's recent logs; returns how long it took, how
    /// many attempts matched and whether that count was capped.
    pub async fn recent_logs(
        &self,
        hook: &str,
        query: &str,
    ) -> anyhow::Result<(Duration, u64, bool)> {
        let started = Instant::now();
        let response = self
            .client
            .get(format!(
                "{}/api/hooks/{hook}/recent-logs?{query}",
                self.bases[0]
            ))
            .bearer_auth(&self.key)
            .send()
            .await?
            .error_for_status()?;
        let matches = response
            .headers()
            .get("total-number")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .context("no Total-Number header")?;
        let capped = response
            .headers()
            .get("total-number-capped")
            .is_some_and(|v| v.as_bytes() == b"true");
        response.bytes().await?;
        Ok((started.elapsed(), matches, capped))
    }
}
