//! The real `hookline` binary as an operator runs it: its own process, so a
//! test can kill it (SIGKILL) or stop it (SIGTERM) and start it again.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A fresh SQLite database in a temporary folder, for several processes.
pub struct Database {
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Database {
    pub fn new() -> Database {
        let dir = tempfile::tempdir().unwrap();
        Database {
            url: format!("sqlite://{}", dir.path().join("hookline.db").display()),
            _dir: dir,
        }
    }

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
    pub async fn start(database: &Database, args: &[&str]) -> Hookline {
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
