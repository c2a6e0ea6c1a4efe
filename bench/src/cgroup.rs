//! `--instance-cpu`: each `hookline` process in its own CPU cgroup, held to a
//! fixed share of the processor, as if it ran on a machine of its own that
//! size. The groups live under one folder the harness owns
//! (`hookline-bench-<pid>-<run>/instance-<n>`), made at the start and removed at
//! the end, also when a run fails. cgroup v2 (`cpu.max`) or v1
//! (`cpu.cfs_quota_us`), whichever holds the `cpu` controller here; making
//! them needs root.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};

/// The scheduler period of every group: the limit is a quota of it.
const PERIOD_US: u64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The harness's folder of groups, and the limit each gets.
#[derive(Debug)]
pub struct CpuLimit {
    cores: f64,
    version: Version,
    /// Where the hierarchy holding the `cpu` controller is mounted.
    mount: PathBuf,
    /// `hookline-bench-<pid>` under it.
    parent: PathBuf,
    next: AtomicUsize,
}

impl CpuLimit {
    /// Finds the `cpu` controller and makes the harness's folder; fails with
    /// what could not be done (no controller, no permission) and leaves
    /// nothing behind.
    pub fn create(cores: f64) -> anyhow::Result<CpuLimit> {
        anyhow::ensure!(
            cores.is_finite() && cores * PERIOD_US as f64 >= 1000.0,
            "--instance-cpu must be at least 0.01 cores, not {cores}"
        );
        let (version, mount) = find_cpu_controller()?;
        remove_stale(&mount);
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let parent = mount.join(format!(
            "hookline-bench-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        if version == Version::V2 {
            // The controller must be handed down from the root to our
            // folder, and from it to each instance's group.
            enable_cpu(&mount)?;
        }
        std::fs::create_dir(&parent).with_context(|| {
            format!(
                "cannot create the cgroup {} (making CPU cgroups needs root)",
                parent.display()
            )
        })?;
        let limit = CpuLimit {
            cores,
            version,
            mount,
            parent,
            next: AtomicUsize::new(0),
        };
        if version == Version::V2 {
            enable_cpu(&limit.parent)?;
        }
        Ok(limit)
    }

    /// How the limit is applied, for the report.
    pub fn mechanism(&self) -> String {
        let quota = self.quota_us();
        match self.version {
            Version::V1 => format!(
                "cgroup v1 cpu.cfs_quota_us {quota} per cpu.cfs_period_us {PERIOD_US}, under {}",
                self.parent.display()
            ),
            Version::V2 => format!(
                "cgroup v2 cpu.max \"{quota} {PERIOD_US}\", under {}",
                self.parent.display()
            ),
        }
    }

    fn quota_us(&self) -> u64 {
        (self.cores * PERIOD_US as f64).round() as u64
    }

    /// A new group with the limit, for one instance.
    pub fn group(&self) -> anyhow::Result<CpuGroup> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.parent.join(format!("instance-{index}"));
        std::fs::create_dir(&dir)
            .with_context(|| format!("cannot create the cgroup {}", dir.display()))?;
        let group = CpuGroup {
            relative: Path::new("/").join(dir.strip_prefix(&self.mount)?),
            procs: dir.join("cgroup.procs"),
            dir,
            version: self.version,
        };
        let quota = self.quota_us();
        match self.version {
            Version::V1 => {
                write(&group.dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(&group.dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
            }
            Version::V2 => write(&group.dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?,
        }
        // The child opens this path between fork and exec, where std keeps
        // a path this short on the stack: nothing is allocated there.
        anyhow::ensure!(
            group.procs.as_os_str().len() < 256,
            "cgroup path too long: {}",
            group.procs.display()
        );
        Ok(group)
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        // Groups remove themselves; any left by a failure go here.
        if let Ok(entries) = std::fs::read_dir(&self.parent) {
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    remove(&entry.path());
                }
            }
        }
        remove(&self.parent);
    }
}

/// One instance's group. Removed when dropped, which must come after its
/// process has exited.
#[derive(Debug)]
pub struct CpuGroup {
    dir: PathBuf,
    /// The group's path as `/proc/PID/cgroup` names it.
    relative: PathBuf,
    procs: PathBuf,
    version: Version,
}

impl CpuGroup {
    /// What a child runs after fork, before exec: it joins the group itself
    /// (writing 0 to `cgroup.procs` moves the writer), so it is confined
    /// from its first instruction. Only open and write: the path was made
    /// beforehand.
    pub fn joiner(&self) -> impl FnMut() -> std::io::Result<()> + Send + Sync + 'static {
        let procs = self.procs.clone();
        move || {
            let mut file = std::fs::OpenOptions::new().write(true).open(&procs)?;
            file.write_all(b"0")
        }
    }

    /// Whether the process `pid` is in this group.
    pub fn holds(&self, pid: u32) -> bool {
        let Ok(cgroups) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
            return false;
        };
        let relative = self.relative.to_string_lossy();
        cgroups.lines().any(|line| {
            // `id:controllers:path`; v2 has no controllers.
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next(), fields.next(), fields.next());
            let controller_matches = match self.version {
                Version::V1 => controllers.is_some_and(|c| c.split(',').any(|c| c == "cpu")),
                Version::V2 => controllers == Some(""),
            };
            controller_matches && path == Some(relative.as_ref())
        })
    }

    /// How long the group was held back by its quota so far.
    pub fn throttled(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(self.dir.join("cpu.stat"))?;
        let (key, unit_ns) = match self.version {
            Version::V1 => ("throttled_time", 1),
            Version::V2 => ("throttled_usec", 1000),
        };
        let value: u64 = stat
            .lines()
            .find_map(|line| line.strip_prefix(key)?.trim().parse().ok())
            .with_context(|| format!("no {key} in {}/cpu.stat", self.dir.display()))?;
        Ok(Duration::from_nanos(value * unit_ns))
    }
}

impl Drop for CpuGroup {
    fn drop(&mut self) {
        remove(&self.dir);
    }
}

/// Where the `cpu` controller can be used: cgroup v2 mounted at
/// `/sys/fs/cgroup` with `cpu` available, else a v1 hierarchy with `cpu`,
/// else another v2 mount that has it.
fn find_cpu_controller() -> anyhow::Result<(Version, PathBuf)> {
    let mounts = std::fs::read_to_string("/proc/self/mounts")?;
    let mut v1 = None;
    let mut v2 = Vec::new();
    for line in mounts.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, mount, kind, options, ..] = fields[..] else {
            continue;
        };
        match kind {
            "cgroup2" => v2.push(PathBuf::from(mount)),
            "cgroup" if options.split(',').any(|o| o == "cpu") => {
                v1.get_or_insert(PathBuf::from(mount));
            }
            _ => {}
        }
    }
    let has_cpu = |mount: &Path| {
        std::fs::read_to_string(mount.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"))
    };
    let root = Path::new("/sys/fs/cgroup");
    if v2.iter().any(|m| m == root) && has_cpu(root) {
        return Ok((Version::V2, root.to_owned()));
    }
    if let Some(mount) = v1 {
        return Ok((Version::V1, mount));
    }
    if let Some(mount) = v2.into_iter().find(|m| has_cpu(m)) {
        return Ok((Version::V2, mount));
    }
    bail!("no cgroup hierarchy with the cpu controller is mounted (see /proc/self/mounts)")
}

/// Hands the `cpu` controller down to the groups under `dir` (cgroup v2).
fn enable_cpu(dir: &Path) -> anyhow::Result<()> {
    let control = dir.join("cgroup.subtree_control");
    let enabled = std::fs::read_to_string(&control)
        .with_context(|| format!("cannot read {}", control.display()))?;
    if enabled.split_whitespace().any(|c| c == "cpu") {
        return Ok(());
    }
    write(&control, "+cpu").context("(enabling the cpu controller needs root)")
}

fn write(path: &Path, value: &str) -> anyhow::Result<()> {
    std::fs::write(path, value)
        .with_context(|| format!("cannot write {value:?} to {}", path.display()))
}

/// Removes the folders of harness runs whose process is gone (killed before
/// it could clean up), if nothing runs in them any more.
fn remove_stale(mount: &Path) {
    let Ok(entries) = std::fs::read_dir(mount) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("hookline-bench-"))
            .and_then(|n| n.split('-').next())
        else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        if let Ok(groups) = std::fs::read_dir(entry.path()) {
            for group in groups.flatten() {
                if group.path().is_dir() {
                    let _ = std::fs::remove_dir(group.path());
                }
            }
        }
        let _ = std::fs::remove_dir(entry.path());
    }
}

/// Removes a group; its processes may take a moment to leave after exiting.
fn remove(dir: &Path) {
    for _ in 0..100 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    if let Err(err) = std::fs::remove_dir(dir) {
        eprintln!("cannot remove the cgroup {}: {err}", dir.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_below_a_hundredth_of_a_core_is_refused() {
        let err = CpuLimit::create(0.001).unwrap_err();
        assert!(
            format!("{err:#}").contains("at least 0.01 cores"),
            "{err:#}"
        );
    }

    /// Runs where CPU cgroups can be made (root, a `cpu` controller).
    #[test]
    fn groups_hold_their_quota_and_are_removed() {
        let limit = match CpuLimit::create(0.5) {
            Ok(limit) => limit,
            Err(err) => {
                eprintln!("skipped: no CPU cgroups here: {err:#}");
                return;
            }
        };
        let parent = limit.parent.clone();
        let group = limit.group().unwrap();
        let quota = match limit.version {
            Version::V1 => std::fs::read_to_string(group.dir.join("cpu.cfs_quota_us")).unwrap(),
            Version::V2 => std::fs::read_to_string(group.dir.join("cpu.max")).unwrap(),
        };
        assert!(quota.starts_with("50000"), "{quota}");
        let mut command = std::process::Command::new("sleep");
        command.arg("5");
        // SAFETY: as in `Instance::start`.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, group.joiner());
        }
        let mut child = command.spawn().unwrap();
        assert!(group.holds(child.id()));
        assert!(group.throttled().is_ok());
        child.kill().unwrap();
        child.wait().unwrap();
        let _second = limit.group().unwrap();
        drop(group);
        // The Drop of the limit removes what is left, the second group too.
        drop(limit);
        assert!(!parent.exists());
    }
}
