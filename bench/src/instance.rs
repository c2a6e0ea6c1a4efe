//! A `hookline` process, started as an operator would start it: default
//! settings and full logging (to a file), plus delivery to loopback, where the
//! receiver listens.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cgroup::CpuGroup;

pub struct Instance {
    child: Child,
    pub base: String,
    /// Declared after `child`, so that when an instance is dropped without
    /// being stopped the process is killed before its group is removed.
    group: Option<CpuGroup>,
}

impl Instance {
    /// Starts `hookline serve` on an ephemeral port, its log written to
    /// `log`, in `group` if given (it joins it before it runs); returns
    /// once it listens.
    pub async fn start(
        binary: &Path,
        database_url: &str,
        log: &Path,
        group: Option<CpuGroup>,
    ) -> anyhow::Result<Instance> {
        let mut command = Command::new(binary);
        if let Some(group) = &group {
            // SAFETY: the closure only opens a file by a path made before
            // the fork and writes to it (see `CpuGroup::joiner`).
            unsafe {
                command.pre_exec(group.joiner());
            }
        }
        let mut child = command
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--allow-private-endpoints",
            ])
            .env("HOOKLINE_DATABASE_URL", database_url)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix("Hookline is listening on ") {
                    return Ok(addr.trim().to_owned());
                }
            }
            bail!("hookline exited before listening; see {}", log.display())
        })
        .await
        .context("hookline did not listen within 60 s")??;
        // Keep reading so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if let Some(group) = &group {
            let pid = child.id().context("hookline has exited")?;
            anyhow::ensure!(
                group.holds(pid),
                "hookline (pid {pid}) is not in its CPU cgroup; see /proc/{pid}/cgroup"
            );
        }
        Ok(Instance { child, base, group })
    }

    /// Waits until `/health` answers 200, as a load balancer would before
    /// sending traffic: beside other instances, a dispatcher is ready once
    /// it has its shares of the hooks' limits.
    pub async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let health = client.get(format!("{}/health", self.base)).send().await;
            if health.is_ok_and(|h| h.status().is_success()) {
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{} was not healthy within 30 s",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts the peak of resident memory afresh (`VmHWM` falls to the
    /// current size), so that the next `peak_rss` is a phase's own.
    pub fn reset_peak_rss(&self) -> anyhow::Result<()> {
        let pid = self.child.id().context("hookline has exited")?;
        let path = format!("/proc/{pid}/clear_refs");
        std::fs::write(&path, "5").with_context(|| format!("cannot write 5 to {path}"))
    }

    /// How long the instance's CPU cgroup held it back, if it has one.
    pub fn throttled(&self) -> Option<anyhow::Result<Duration>> {
        self.group.as_ref().map(CpuGroup::throttled)
    }

    /// The most memory the process has held resident (`VmHWM`) since it
    /// started or since `reset_peak_rss`, in bytes.
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        let pid = self.child.id().context("hookline has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")?;
        Ok(kib * 1024)
    }

    /// The processor time the process has used so far, all threads.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(&self.child.id().context("hookline has exited")?.to_string())
    }

    /// Stops it with SIGTERM, as an orchestrator would, and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()?;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}

/// `hookline api-key create` against the database: the key is the last line.
pub async fn create_api_key(binary: &Path, database_url: &str) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .args(["api-key", "create", "--name", "bench"])
        .env("HOOKLINE_DATABASE_URL", database_url)
        .output()
        .await
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "hookline api-key create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8(output.stdout)?;
    stdout
        .lines()
        .last()
        .map(str::to_owned)
        .context("hookline api-key create printed no key")
}

/// `hookline --version`, for the report.
pub async fn version(binary: &Path) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .arg("--version")
        .output()
        .await
        .with_context(|| format!("cannot run {}", binary.display()))?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// Where an instance's log goes.
pub fn log_path(dir: &Path, setup: &str, index: usize) -> PathBuf {
    dir.join(format!("{setup}-{index}.log"))
}

/// The processor time (user and system, all threads) used so far by the
/// process `pid`, or `self`, from `/proc/PID/stat`.
pub fn cpu_time(pid: &str) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses and may
    // hold spaces; utime and stime are the 14th and 15th of the line.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("unexpected /proc/PID/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        Ok(fields.get(index).context("short /proc/PID/stat")?.parse()?)
    };
    // Counted in USER_HZ, which Linux fixes at 100 per second for /proc.
    let ticks = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(ticks * 10))
}

/// The machine's processor time so far, busy and in all, over every core,
/// from the first line of `/proc/stat`: what shows whether a phase had the
/// processor to itself or ran out of it.
#[derive(Debug, Clone, Copy)]
pub struct MachineTime {
    busy: u64,
    total: u64,
}

impl MachineTime {
    pub fn now() -> anyhow::Result<MachineTime> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("cpu "))
            .context("unexpected /proc/stat")?
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        // user nice system idle iowait irq softirq steal …: idle and
        // iowait are the time nothing ran.
        let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
        let total: u64 = ticks.iter().take(8).sum();
        Ok(MachineTime {
            busy: total - idle,
            total,
        })
    }

    /// The share of the machine's processor time that was busy since `earlier`.
    pub fn busy_since(&self, earlier: &MachineTime) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        self.busy.saturating_sub(earlier.busy) as f64 / total.max(1) as f64
    }
}
