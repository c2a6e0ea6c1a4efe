//! Measures a built `hookline` binary end to end, against the ceiling of the
//! machine it runs on: events go in through the real API, deliveries come out
//! at a real receiver, and the same receiver hit by a bare HTTP client gives
//! the ceiling. Nothing is built here; point it at a release binary.

mod database;
mod instance;
mod load;
mod phases;
mod receiver;
pub mod report;
mod stats;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;

use database::Database;
use load::{Budget, Payload};
use receiver::Receiver;
pub use report::Report;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "hookline-bench",
    about = "End-to-end throughput, latency and log-query benchmark of a built hookline binary"
)]
pub struct Settings {
    /// The hookline binary to measure (build it first: `cargo build --release -p server`).
    #[arg(long, default_value = "target/release/hookline")]
    pub hookline: PathBuf,

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

    /// Times each log query is run.
    #[arg(long, default_value_t = 200)]
    pub log_queries: usize,

    /// Where to write the figures as JSON; each instance's log goes to
    /// `logs/` beside it.
    #[arg(long, default_value = "target/bench/report.json")]
    pub json: PathBuf,
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
}

/// Runs every measurement and writes the JSON report.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
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
        .unwrap_or(std::path::Path::new("."))
        .join("logs");
    std::fs::create_dir_all(&logs)?;
    let mut results = Vec::new();
    for setup in setups {
        let database = match setup {
            Setup::Sqlite => Database::sqlite()?,
            Setup::Postgres { .. } => {
                Database::postgres(settings.postgres_url.as_deref().unwrap_or_default()).await?
            }
        };
        let instances = match setup {
            Setup::Sqlite => 1,
            Setup::Postgres { instances } => instances,
        };
        let run = phases::SetupRun {
            name: setup.name(),
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
        match run.measure(&database, time_logs).await {
            Ok(result) => results.push(result),
            Err(err) => eprintln!("{} failed: {err:#}", setup.name()),
        }
        database.remove().await?;
    }
    let report = Report::new(
        instance::version(&settings.hookline).await?,
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs(),
        settings,
        ceiling,
        results,
    );
    std::fs::write(&settings.json, serde_json::to_string_pretty(&report)?)?;
    Ok(report)
}
