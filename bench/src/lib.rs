//! Measures a built `hookline` binary end to end, against the ceiling of the
//! machine it runs on: events go in through the real API, deliveries come out
//! at a real receiver, and the same receiver hit by a bare HTTP client gives
//! the ceiling. Nothing is built here; point it at a release binary.

mod cgroup;
mod database;
mod instance;
mod load;
mod phases;
mod receiver;
pub mod report;
mod stats;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cgroup::CpuLimit;
use database::Database;
use load::{Budget, Payload};
use receiver::Receiver;
pub use report::Report;
use report::{Baseline, CpuLimitReport, NoisyReport, SetupReport};

/// The flags of every run (the command line is `main.rs`'s `Cli`).
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// The hookline binary to measure (build it first: `cargo build --release -p server`).
    #[arg(long, default_value = "target/release/hookline")]
    pub hookline: PathBuf,

    /// Another hookline binary (say main at an older commit, built outside
    /// the repository) to run through every phase in the same run, each
    /// setup right after this one's, on a fresh database; the report shows
    /// both and the ratio of each figure (this run / baseline).
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,

    /// Hold each hookline process to this many cores, in a CPU cgroup of its
    /// own (cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us`; needs root). If the
    /// groups cannot be made, the run says why and goes on unconfined.
    #[arg(long, value_name = "CORES")]
    pub instance_cpu: Option<f64>,

    /// A PostgreSQL server (`postgres://…`): also measure on PostgreSQL, with
    /// one and with two instances, each run in a fresh schema.
    #[arg(long, env = "HOOKLINE_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,

    /// How long each throughput and latency phase offers load.
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub phase: Duration,

    /// At most this many events per phase (the smoke test keeps it small).
    #[arg(long, default_value_t = u64::MAX)]
    pub max_events: u64,

    /// Requests in flight from the load generator, and from the bare client
    /// that measures the ceiling.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,

    /// The fixed offered load of the first latency phase, in events per second.
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,

    /// Size of each event's fields, in bytes.
    #[arg(long, default_value_t = 512)]
    pub payload_bytes: usize,

    /// Attempts in the log when its queries are timed.
    #[arg(long, default_value_t = 1_000_000)]
    pub log_attempts: u64,

    /// Hooks the overview is timed with, each with a day of per-minute
    /// counters (after the log queries, on the same database).
    #[arg(long, default_value_t = 1000)]
    pub overview_hooks: u64,

    /// Times each log query is run.
    #[arg(long, default_value_t = 200)]
    pub log_queries: usize,

    /// Deliveries left waiting for a receiver that is down, then drained
    /// when it comes up (the backlog phase; 0 leaves it out). The issue's
    /// figure is 1,000,000.
    #[arg(long, default_value_t = 0)]
    pub backlog: u64,

    /// Where to write the figures as JSON; each instance's log goes to
    /// `logs/` beside it.
    #[arg(long, default_value = "target/bench/report.json")]
    pub json: PathBuf,
}

/// Measurements beyond every run's, off unless asked for. Apart from
/// `Settings` so that the code that builds a `Settings` (the test suite's
/// small run) needs no change when one is added.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Extra {
    /// Also measure what payload filters cost ingestion: on SQLite, this
    /// many hooks listening to one event, events posted back to back for a
    /// phase, first without filters, then each hook with a filter that half
    /// the events match, each on a fresh database; events accepted per
    /// second of both and their ratio. The figure is 100.
    #[arg(long, value_name = "HOOKS")]
    pub filter_hooks: Option<usize>,

    /// Also measure search (`GET /api/search`) on SQLite: a log of
    /// `--search-events` events written straight into a fresh database,
    /// `--search-queries` searches of each kind through the API (emails,
    /// user ids, order numbers, event and delivery ids, idempotency keys, a
    /// common word), then ingestion with the index and without it (its
    /// table and triggers dropped), back to back, with the ratio.
    #[arg(long)]
    pub search: bool,

    /// Events in the log `--search` searches.
    #[arg(long, default_value_t = 1_000_000)]
    pub search_events: u64,

    /// Searches of each kind `--search` times.
    #[arg(long, default_value_t = 200)]
    pub search_queries: usize,

    #[command(flatten)]
    pub noisy: NoisySettings,
}

/// `--noisy`: whether slow endpoints hold back a healthy hook (the issue on
/// fair delivery: no endpoint, however slow, holds back another hook).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NoisySettings {
    /// Also measure fair delivery, once per number of slow hooks listed
    /// (`30,1000`), on every setup and for the baseline, each on a fresh
    /// database: that many hooks, each on an endpoint of its own that takes
    /// `--noisy-delay` to answer, flooded with `--noisy-events` events each,
    /// while one healthy hook gets `--noisy-rate` events a second for
    /// `--noisy-phase`; how long the healthy events take to arrive, then how
    /// long the slow hooks' deliveries take to drain.
    #[arg(long = "noisy", value_name = "SLOW_HOOKS", value_delimiter = ',')]
    pub slow_hooks: Vec<usize>,

    /// How long each slow endpoint of `--noisy` takes to answer.
    #[arg(long = "noisy-delay", default_value = "2s", value_parser = duration)]
    pub slow_delay: Duration,

    /// The slow endpoints of `--noisy` hang instead: they answer only after
    /// 60 s, so that the server's request timeout ends every attempt (and
    /// the deliveries are retried, never delivered).
    #[arg(long = "noisy-hang")]
    pub hang: bool,

    /// Events per slow hook of `--noisy`, posted as fast as the API takes
    /// them from the moment the healthy events start (each goes to every
    /// slow hook).
    #[arg(long = "noisy-events", default_value_t = 20)]
    pub slow_events: u64,

    /// The healthy hook's events per second, in an open loop.
    #[arg(long = "noisy-rate", default_value_t = 50.0)]
    pub healthy_rate: f64,

    /// How long the healthy hook gets events for.
    #[arg(long = "noisy-phase", default_value = "20s", value_parser = duration)]
    pub healthy_phase: Duration,

    /// How long to wait, once the healthy events are in, for every slow
    /// delivery to reach its endpoint.
    #[arg(long = "noisy-drain-timeout", default_value = "120s", value_parser = duration)]
    pub drain_timeout: Duration,
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|err| err.to_string())
}

/// Which database and how many instances.
#[derive(Debug, Clone, Copy)]
enum Setup {
    Sqlite,
    Postgres { instances: usize },
}

impl Setup {
    fn name(self) -> String {
        match self {
            Setup::Sqlite => "sqlite".to_owned(),
            Setup::Postgres { instances } => format!("postgres x{instances}"),
        }
    }

    /// An empty database of this setup's kind.
    async fn fresh_database(self, settings: &Settings) -> anyhow::Result<Database> {
        match self {
            Setup::Sqlite => Database::sqlite(),
            Setup::Postgres { .. } => {
                Database::postgres(settings.postgres_url.as_deref().unwrap_or_default()).await
            }
        }
    }
}

/// Runs every measurement and writes the JSON report.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    run_with(settings, &Extra::default()).await
}

/// `run`, with the measurements `extra` asks for too.
pub async fn run_with(settings: &Settings, extra: &Extra) -> anyhow::Result<Report> {
    let receiver = Receiver::start().await?;
    let payload = Payload::new(settings.payload_bytes);
    let budget = Budget {
        duration: settings.phase,
        limit: settings.max_events,
    };
    let ceiling = phases::ceiling(&receiver, &payload, settings.concurrency, budget).await?;
    let mut setups = vec![Setup::Sqlite];
    if settings.postgres_url.is_some() {
        setups.extend([
            Setup::Postgres { instances: 1 },
            Setup::Postgres { instances: 2 },
        ]);
    }
    // Each instance's log is kept beside the JSON report, to read afterwards.
    let logs = settings
        .json
        .parent()
        .unwrap_or(Path::new("."))
        .join("logs");
    std::fs::create_dir_all(&logs)?;
    // A binary that cannot run fails the run now, not every setup later.
    let version = instance::version(&settings.hookline).await?;
    let baseline_version = match &settings.baseline {
        Some(binary) => Some(instance::version(binary).await?),
        None => None,
    };
    let (cpu_limit, cpu_limit_report) = cpu_limit(settings.instance_cpu);
    // This run's binary, then the baseline's, setup by setup, so that both
    // see the machine in the same state.
    let mut binaries = vec![(settings.hookline.as_path(), "")];
    if let Some(baseline) = &settings.baseline {
        binaries.push((baseline.as_path(), "baseline-"));
    }
    let mut results: Vec<Vec<SetupReport>> = binaries.iter().map(|_| Vec::new()).collect();
    for setup in setups {
        for (&(binary, log_prefix), results) in binaries.iter().zip(&mut results) {
            let database = setup.fresh_database(settings).await?;
            let instances = match setup {
                Setup::Sqlite => 1,
                Setup::Postgres { instances } => instances,
            };
            let run = phases::SetupRun {
                name: setup.name(),
                binary,
                log_prefix,
                cpu_limit: cpu_limit.as_ref(),
                instances,
                settings,
                receiver: &receiver,
                payload: &payload,
                ceiling_per_sec: ceiling.per_sec,
                logs_dir: &logs,
            };
            // The log queries run once per database.
            let time_logs = instances == 1;
            // A setup that fails is reported and left out; the others still count.
            let measured = run.measure(&database, time_logs).await;
            database.remove().await?;
            match measured {
                Ok(mut result) => {
                    result.noisy = noisy(&run, setup, &extra.noisy).await?;
                    results.push(result);
                }
                Err(err) => eprintln!("{log_prefix}{} failed: {err:#}", setup.name()),
            }
        }
    }
    // After the setups, on databases and hooks of its own; this binary only.
    let own_sqlite = phases::SetupRun {
        name: Setup::Sqlite.name(),
        binary: &settings.hookline,
        log_prefix: "",
        cpu_limit: cpu_limit.as_ref(),
        instances: 1,
        settings,
        receiver: &receiver,
        payload: &payload,
        ceiling_per_sec: ceiling.per_sec,
        logs_dir: &logs,
    };
    let filters = match extra.filter_hooks {
        Some(hooks) => own_sqlite
            .filter_cost(hooks)
            .await
            .inspect_err(|err| eprintln!("--filter-hooks {hooks} failed: {err:#}"))
            .ok(),
        None => None,
    };
    let search = if extra.search {
        own_sqlite
            .search_cost(extra.search_events, extra.search_queries)
            .await
            .inspect_err(|err| eprintln!("--search failed: {err:#}"))
            .ok()
    } else {
        None
    };
    let mut results = results.into_iter();
    let this = results.next().unwrap_or_default();
    let baseline = settings
        .baseline
        .as_ref()
        .zip(baseline_version)
        .map(|(binary, hookline)| Baseline {
            hookline,
            binary: binary.display().to_string(),
            setups: results.next().unwrap_or_default(),
        });
    let report = Report {
        filters,
        search,
        ..Report::new(
            version,
            SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs(),
            settings,
            cpu_limit_report,
            ceiling,
            this,
            baseline,
        )
    };
    std::fs::write(&settings.json, serde_json::to_string_pretty(&report)?)?;
    Ok(report)
}

/// `--noisy`, on `run`'s setup and binary: one measurement per number of
/// slow hooks asked for, each on a fresh database. One that fails is
/// reported and left out, as a setup would be.
async fn noisy(
    run: &phases::SetupRun<'_>,
    setup: Setup,
    settings: &NoisySettings,
) -> anyhow::Result<Vec<NoisyReport>> {
    let mut measured = Vec::new();
    for &slow_hooks in &settings.slow_hooks {
        let database = setup.fresh_database(run.settings).await?;
        let result = run.noisy(&database, slow_hooks, settings).await;
        database.remove().await?;
        match result {
            Ok(noisy) => measured.push(noisy),
            Err(err) => eprintln!(
                "{}{}: --noisy {slow_hooks} failed: {err:#}",
                run.log_prefix, run.name
            ),
        }
    }
    Ok(measured)
}

/// The CPU cgroups of `--instance-cpu`, if asked for and they can be made;
/// if not, why not, said now and in the report.
fn cpu_limit(cores: Option<f64>) -> (Option<CpuLimit>, Option<CpuLimitReport>) {
    let Some(cores) = cores else {
        return (None, None);
    };
    match CpuLimit::create(cores) {
        Ok(limit) => {
            let report = CpuLimitReport {
                requested_cores: cores,
                applied: true,
                how: limit.mechanism(),
            };
            (Some(limit), Some(report))
        }
        Err(err) => {
            eprintln!(
                "--instance-cpu {cores}: cannot confine the instances, they run unconfined: {err:#}"
            );
            let report = CpuLimitReport {
                requested_cores: cores,
                applied: false,
                how: format!("{err:#}"),
            };
            (None, Some(report))
        }
    }
}
