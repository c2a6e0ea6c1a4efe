//! The real `hookline` binary as an operator runs it: its own process, so a
//! test can kill it (SIGKILL) or stop it (SIGTERM) and start it again.

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::database::TestDatabase;
use super::receiver::Receiver;

impl TestDatabase {
    /// `hookline api-key create`: the key is the last line of its output.
    pub async fn api_key(&self) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_hookline"))
            .args(["api-key", "create", "--name", "tests"])
            .env("HOOKLINE_DATABASE_URL", &self.url)
            .output()
            .await
            .unwrap();
        assert!(output.status.success());
        let stdout = String::from_utf8(output.stdout).unwrap();
        stdout.lines().last().unwrap().to_owned()
    }
}

pub struct Hookline {
    pub child: Child,
    pub base: String,
}

impl Hookline {
    /// Starts `hookline serve` on an ephemeral port with loopback delivery
    /// allowed and `args` added; returns once it listens.
    pub async fn start(database: &TestDatabase, args: &[&str]) -> Hookline {
        Hookline::start_with_env(database, args, &[]).await
    }

    /// `start`, with these environment variables set as well.
    pub async fn start_with_env(
        database: &TestDatabase,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Hookline {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--allow-private-endpoints",
            ])
            .args(args)
            .env("HOOKLINE_DATABASE_URL", &database.url)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(addr) = line.strip_prefix("Hookline is listening on ") {
                    return addr.trim().to_owned();
                }
            }
            panic!("hookline exited before listening")
        })
        .await
        .expect("hookline listens within 30 s");
        // Keep reading so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Hookline { child, base }
    }

    /// Waits until `/health` says the instance is healthy: beside others, its
    /// dispatcher has taken its shares of the hooks' limits.
    pub async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let health = client.get(format!("{}/health", self.base)).send().await;
            if health.is_ok_and(|h| h.status().is_success()) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} never became healthy",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM, as `kill` or an orchestrator would.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// The REST API of a `hookline` process, with an API key.
pub struct Api {
    client: reqwest::Client,
    key: String,
}

impl Api {
    pub fn new(key: String) -> Api {
        Api {
            client: reqwest::Client::new(),
            key,
        }
    }

    /// POSTs JSON that must succeed; returns the answer.
    pub async fn post(&self, process: &Hookline, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(process.url(path))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    /// Ingests `count` `User.Created` events numbered `data.n` = 0, 1 …, one
    /// after another, through `instances` in turn; returns their ids.
    pub async fn ingest_numbered(&self, instances: &[&Hookline], count: i64) -> Vec<String> {
        let mut events = Vec::new();
        for n in 0..count {
            let instance = instances[n as usize % instances.len()];
            let body = serde_json::json!({ "event": "User.Created", "data": { "n": n } });
            let answer = self.post(instance, "/api/events", body).await;
            events.push(answer["id"].as_str().unwrap().to_owned());
        }
        events
    }

    pub async fn get(&self, process: &Hookline, path: &str) -> Value {
        self.client
            .get(process.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `/metrics` of `process`, as text.
    pub async fn metrics(&self, process: &Hookline) -> String {
        let response = self
            .client
            .get(process.url("/metrics"))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.unwrap()
    }

    /// Waits (30 s at most) until each event's `per_event` deliveries are
    /// delivered, as `process` reads them; returns every delivery with its
    /// attempts, by id.
    pub async fn all_delivered(
        &self,
        process: &Hookline,
        events: &[String],
        per_event: usize,
    ) -> HashMap<String, Value> {
        let mut deliveries = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        for event_id in events {
            loop {
                let event = self.get(process, &format!("/api/events/{event_id}")).await;
                let all = event["deliveries"].as_array().unwrap();
                assert_eq!(all.len(), per_event);
                if all.iter().all(|d| d["state"] == "delivered") {
                    for delivery in all {
                        let id = delivery["id"].as_str().unwrap().to_owned();
                        let full = self.get(process, &format!("/api/deliveries/{id}")).await;
                        deliveries.insert(id, full);
                    }
                    break;
                }
                assert!(Instant::now() < deadline, "not delivered: {event:#}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        deliveries
    }
}

/// Every delivery reached the receiver, none was attempted twice at once,
/// and every logged attempt is a request the receiver got, numbered without
/// gaps.
pub fn assert_log_matches_receiver(receiver: &Receiver, deliveries: &HashMap<String, Value>) {
    let received = receiver.requests();
    let received_ids: HashSet<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    let delivery_ids: HashSet<&str> = deliveries.keys().map(String::as_str).collect();
    assert_eq!(
        received_ids, delivery_ids,
        "every delivery reached the receiver"
    );
    assert!(
        receiver.overlapping().is_empty(),
        "a delivery was attempted twice at once: {:?}",
        receiver.overlapping()
    );
    let received_signatures: HashSet<&str> = received
        .iter()
        .map(|r| r.header("webhook-signature"))
        .collect();
    for delivery in deliveries.values() {
        let attempts = delivery["attempts"].as_array().unwrap();
        assert!(
            attempts.iter().any(|a| a["success"] == true),
            "{delivery:#}"
        );
        for attempt in attempts {
            let signature = super::logged_header(attempt, "webhook-signature");
            assert!(
                received_signatures.contains(signature),
                "a logged attempt the receiver never saw: {attempt:#}"
            );
        }
        let numbers: Vec<i64> = attempts
            .iter()
            .map(|a| a["number"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>());
    }
    // The receiver may have seen more than the log: requests in flight when
    // a process died, sent again after its lease ran out.
    let logged: usize = deliveries
        .values()
        .map(|d| d["attempts"].as_array().unwrap().len())
        .sum();
    assert!(received.len() >= logged);
}
