//! The figures of a run: as JSON (to compare runs) and as a table, with the
//! targets of issue 6 checked against them.

use std::fmt;

use serde::Serialize;

use crate::stats::Percentiles;
use crate::Settings;

#[derive(Debug, Serialize)]
pub struct Report {
    pub hookline: String,
    /// Unix seconds.
    pub finished_at: u64,
    pub cores: usize,
    pub settings: RunSettings,
    pub ceiling: Ceiling,
    pub setups: Vec<SetupReport>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Serialize)]
pub struct RunSettings {
    pub phase_secs: f64,
    pub concurrency: usize,
    pub rate: f64,
    pub payload_bytes: usize,
    pub log_attempts: u64,
}

/// The bare client straight to the receiver.
#[derive(Debug, Serialize)]
pub struct Ceiling {
    pub concurrency: usize,
    pub requests: u64,
    pub per_sec: f64,
    /// The benchmark's own processor time (client and receiver) per request.
    pub cpu_per_request_us: f64,
}

#[derive(Debug, Serialize)]
pub struct SetupReport {
    pub name: String,
    pub instances: usize,
    pub one_hook: Throughput,
    pub fan_out: Throughput,
    /// `POST /api/events` during the one-hook throughput phase.
    pub ingestion: Ingestion,
    pub latency_fixed: Latency,
    pub latency_80: Latency,
    /// The largest peak resident memory of any instance, after the
    /// throughput phases.
    pub peak_rss_mb: f64,
    pub log_queries: Option<Vec<LogQuery>>,
}

#[derive(Debug, Serialize)]
pub struct Throughput {
    pub hooks: usize,
    pub events: u64,
    /// Distinct (hook, event) pairs that reached the receiver, all logged.
    pub deliveries: u64,
    /// Deliveries that had not arrived two minutes after the phase.
    pub missing: u64,
    pub duplicates: u64,
    /// From the first event sent to the last delivery arrived and logged.
    pub seconds: f64,
    pub events_per_sec: f64,
    pub deliveries_per_sec: f64,
    /// Deliveries per second over the bare client's requests per second.
    pub of_ceiling: f64,
    /// Processor time of the Hookline instances per delivery, over the
    /// phase: a figure a busy or faster machine moves less than the rates.
    pub cpu_per_delivery_us: f64,
    /// The share of the whole machine's processor time (every process,
    /// PostgreSQL's and the benchmark's too) that was busy over the phase:
    /// near 1, the phase was bound by the processor.
    pub machine_busy: f64,
}

#[derive(Debug, Serialize)]
pub struct Ingestion {
    pub answers_per_sec: f64,
    pub answer_times: Percentiles,
    pub refused: u64,
    pub first_refusal: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub offered_per_sec: f64,
    pub events: u64,
    /// Events whose delivery had not arrived two minutes after the phase.
    pub missing: u64,
    pub refused: u64,
    /// From when each event was due to be sent to its arrival.
    pub times: Percentiles,
}

#[derive(Debug, Serialize)]
pub struct LogQuery {
    pub filter: String,
    pub attempts_in_log: u64,
    /// How many of those the benchmark wrote straight into the database.
    pub synthetic: u64,
    /// `Total-Number`: how many match, counted up to 10,000 …
    pub matches: u64,
    /// … and whether more do (`Total-Number-Capped`).
    pub matches_capped: bool,
    pub times: Percentiles,
}

/// One of the targets, checked.
#[derive(Debug, Serialize)]
pub struct Target {
    pub what: String,
    pub measured: f64,
    pub goal: String,
    pub met: bool,
}

impl Report {
    pub fn new(
        hookline: String,
        finished_at: u64,
        settings: &Settings,
        ceiling: Ceiling,
        setups: Vec<SetupReport>,
    ) -> Report {
        let targets = targets(&setups);
        Report {
            hookline,
            finished_at,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            settings: RunSettings {
                phase_secs: settings.phase.as_secs_f64(),
                concurrency: settings.concurrency,
                rate: settings.rate,
                payload_bytes: settings.payload_bytes,
                log_attempts: settings.log_attempts,
            },
            ceiling,
            setups,
            targets,
        }
    }
}

fn targets(setups: &[SetupReport]) -> Vec<Target> {
    let mut targets = Vec::new();
    let mut check = |what: &str, measured: f64, goal: &str, met: bool| {
        targets.push(Target {
            what: what.to_owned(),
            measured,
            goal: goal.to_owned(),
            met,
        })
    };
    if let Some(sqlite) = setups.iter().find(|s| s.name == "sqlite") {
        let rate = sqlite.one_hook.deliveries_per_sec;
        check(
            "sqlite deliveries/s, 1 hook",
            rate,
            ">= 5000",
            rate >= 5000.0,
        );
        let share = sqlite.one_hook.of_ceiling * 100.0;
        check("sqlite 1 hook, % of ceiling", share, ">= 25", share >= 25.0);
        let p99 = sqlite.latency_fixed.times.p99_ms;
        check("sqlite p99 ms at the fixed rate", p99, "<= 50", p99 <= 50.0);
        if let Some(queries) = &sqlite.log_queries {
            let worst = queries.iter().map(|q| q.times.p99_ms).fold(0.0, f64::max);
            check(
                "sqlite recent-logs worst p99 ms",
                worst,
                "<= 50",
                worst <= 50.0,
            );
        }
        let rss = sqlite.peak_rss_mb;
        check("sqlite peak RSS MB", rss, "<= 200", rss <= 200.0);
    }
    let postgres = |n| setups.iter().find(|s| s.name == format!("postgres x{n}"));
    if let (Some(one), Some(two)) = (postgres(1), postgres(2)) {
        // One hook is held to its in-flight limit across instances, so the
        // fan-out is where a second instance can add throughput.
        for (what, one, two) in [
            ("1 hook", &one.one_hook, &two.one_hook),
            ("fan-out", &one.fan_out, &two.fan_out),
        ] {
            let ratio = two.deliveries_per_sec / one.deliveries_per_sec;
            check(
                &format!("postgres x2 / x1, {what}"),
                ratio,
                ">= 1.5",
                ratio >= 1.5,
            );
        }
    }
    targets
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} on {} cores; phases of {:.0} s, {} in flight, {} B fields",
            self.hookline,
            self.cores,
            self.settings.phase_secs,
            self.settings.concurrency,
            self.settings.payload_bytes
        )?;
        writeln!(
            f,
            "ceiling (bare client to the receiver): {:.0} requests/s, {:.0} µs of CPU each\n",
            self.ceiling.per_sec, self.ceiling.cpu_per_request_us
        )?;
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let mut row = |label: &str, cell: &dyn Fn(&SetupReport) -> String| {
            rows.push((label.to_owned(), self.setups.iter().map(cell).collect()));
        };
        row("deliveries/s, 1 hook", &|s| {
            format!("{:.0}", s.one_hook.deliveries_per_sec)
        });
        row("  of ceiling", &|s| {
            format!("{:.0} %", s.one_hook.of_ceiling * 100.0)
        });
        row("  Hookline CPU µs per delivery", &|s| {
            format!("{:.0}", s.one_hook.cpu_per_delivery_us)
        });
        row("  machine busy", &|s| {
            format!("{:.0} %", s.one_hook.machine_busy * 100.0)
        });
        row("deliveries/s, 10-hook fan-out", &|s| {
            format!("{:.0}", s.fan_out.deliveries_per_sec)
        });
        row("  of ceiling", &|s| {
            format!("{:.0} %", s.fan_out.of_ceiling * 100.0)
        });
        row("  Hookline CPU µs per delivery", &|s| {
            format!("{:.0}", s.fan_out.cpu_per_delivery_us)
        });
        row("  machine busy", &|s| {
            format!("{:.0} %", s.fan_out.machine_busy * 100.0)
        });
        row("duplicates", &|s| {
            format!("{}", s.one_hook.duplicates + s.fan_out.duplicates)
        });
        row("ingestion answers/s", &|s| {
            format!("{:.0}", s.ingestion.answers_per_sec)
        });
        row("ingestion p50 / p99 ms", &|s| {
            pair(
                s.ingestion.answer_times.p50_ms,
                s.ingestion.answer_times.p99_ms,
            )
        });
        for (label, pick) in [
            (
                "latency, fixed rate",
                (|s: &SetupReport| &s.latency_fixed) as fn(&SetupReport) -> &Latency,
            ),
            ("latency, 80 % of max", |s: &SetupReport| &s.latency_80),
        ] {
            row(&format!("{label}: events/s"), &|s| {
                format!("{:.0}", pick(s).offered_per_sec)
            });
            row("  p50 / p95 / p99 ms", &|s| {
                let t = pick(s).times;
                format!("{:.1} / {:.1} / {:.1}", t.p50_ms, t.p95_ms, t.p99_ms)
            });
        }
        let queries = self
            .setups
            .iter()
            .find_map(|s| s.log_queries.as_ref())
            .map_or(0, Vec::len);
        for index in 0..queries {
            let label = self
                .setups
                .iter()
                .find_map(|s| {
                    Some(format!(
                        "recent-logs {}",
                        s.log_queries.as_ref()?[index].filter
                    ))
                })
                .unwrap_or_default();
            row(&label, &|s| match &s.log_queries {
                Some(q) => format!("{} ms", pair(q[index].times.p50_ms, q[index].times.p99_ms)),
                None => "-".to_owned(),
            });
        }
        row("peak RSS MB", &|s| format!("{:.0}", s.peak_rss_mb));
        let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
        write!(f, "{:<width$}", "")?;
        for setup in &self.setups {
            write!(f, " {:>23}", setup.name)?;
        }
        writeln!(f)?;
        for (label, cells) in rows {
            write!(f, "{label:<width$}")?;
            for cell in cells {
                // The space keeps a cell that outgrows its column apart
                // from the one before.
                write!(f, " {cell:>23}")?;
            }
            writeln!(f)?;
        }
        writeln!(f)?;
        for target in &self.targets {
            writeln!(
                f,
                "{} {:<36} {:>10.1} (goal {})",
                if target.met { "met " } else { "MISS" },
                target.what,
                target.measured,
                target.goal
            )?;
        }
        Ok(())
    }
}

fn pair(a: f64, b: f64) -> String {
    format!("{a:.1} / {b:.1}")
}
