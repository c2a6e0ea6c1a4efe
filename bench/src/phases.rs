//! The measurements: the bare client's ceiling, then per setup throughput,
//! latency, ingestion, memory and log queries.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::StatusCode;
use serde_json::json;

use crate::cgroup::CpuLimit;
use crate::database::Database;
use crate::instance::{self, Instance, MachineTime};
use crate::load::{self, Api, Budget, Payload, Sent};
use crate::receiver::{Arrival, Receiver, BACKLOG_PREFIX};
use crate::report::{
    Backlog, Ceiling, FilterCost, FilterIngestion, Ingestion, Latency, LogQuery, OverviewQuery,
    SetupReport, Throughput,
};
use crate::stats::Percentiles;
use crate::Settings;

pub mod noisy;
pub mod search;

/// The events each hook group listens to.
const ONE_HOOK_EVENT: &str = "User.Created";
const FAN_OUT_EVENT: &str = "User.Deleted";
const FAN_OUT_HOOKS: usize = 10;
const BACKLOG_EVENT: &str = "User.Data.Updated";
/// The event of `--filter-hooks`, which no other hook listens to.
const FILTER_EVENT: &str = "User.SuspensionStatus.Updated";
/// The longest the backlog phase posts events for, however many are asked.
const BACKLOG_FILL_AT_MOST: Duration = Duration::from_secs(3600);
/// How long the deliveries of a phase may take to arrive after it ends.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// The bare client: the same receiver, payload size and concurrency, no Hookline.
pub async fn ceiling(
    receiver: &Receiver,
    payload: &Payload,
    concurrency: usize,
    budget: Budget,
) -> anyhow::Result<Ceiling> {
    let client = reqwest::Client::new();
    let url = receiver.url("ceiling");
    let cpu_before = instance::cpu_time("self")?;
    let bodies = Arc::new(payload.delivered(0));
    let sent = load::closed_loop(concurrency, budget, move |_| {
        let request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(bodies.to_vec());
        async move { load::expect(request.send().await?, StatusCode::NO_CONTENT).await }
    })
    .await;
    let cpu = instance::cpu_time("self")? - cpu_before;
    receiver.take();
    let requests = sent.accepted.len() as u64;
    Ok(Ceiling {
        concurrency,
        requests,
        per_sec: sent.accepted_per_sec(),
        cpu_per_request_us: per_item_us(cpu, requests),
    })
}

/// The filter of hook `index` of `--filter-hooks`: user ids that end in one
/// of five digits in a row from `index` (mod 10). The load generator's ids
/// end in each digit in turn, so every event matches five hooks of every ten
/// (exactly half of the hooks when they are a multiple of ten), and each
/// hook half the events. Five `$endsWith` in an `$or`: a hook that does not
/// match tests them all.
fn half_filter(index: usize) -> serde_json::Value {
    let digits: Vec<serde_json::Value> = (index..index + 5)
        .map(|digit| json!({"$endsWith": (digit % 10).to_string()}))
        .collect();
    json!({"data": {"id": {"$or": digits}}})
}

/// One database setup being measured.
pub struct SetupRun<'a> {
    pub name: String,
    /// The `hookline` measured: the run's own, or the baseline.
    pub binary: &'a Path,
    /// Names this binary's logs apart from the other's.
    pub log_prefix: &'a str,
    pub cpu_limit: Option<&'a CpuLimit>,
    pub instances: usize,
    pub settings: &'a Settings,
    pub receiver: &'a Receiver,
    pub payload: &'a Payload,
    pub ceiling_per_sec: f64,
    pub logs_dir: &'a Path,
}

/// The running instances and the hooks made for the run.
struct Fixture {
    api: Arc<Api>,
    instances: Vec<Instance>,
    one_hook: String,
    fan_out: Vec<String>,
    /// Whether the backlog phase runs (its hook was made).
    backlog: bool,
    /// Whether each phase's peak memory is its own (`clear_refs` works).
    peak_rss_per_phase: bool,
}

impl Fixture {
    /// The processor time all instances have used so far.
    fn cpu_time(&self) -> anyhow::Result<Duration> {
        self.instances.iter().map(Instance::cpu_time).sum()
    }

    /// Starts every instance's peak memory afresh, for a phase of its own
    /// (if the kernel can: else the peaks count from the start).
    fn reset_peak_rss(&self) -> anyhow::Result<()> {
        if self.peak_rss_per_phase {
            for instance in &self.instances {
                instance.reset_peak_rss()?;
            }
        }
        Ok(())
    }

    /// The largest peak resident memory of any instance, in MB.
    fn peak_rss_mb(&self) -> anyhow::Result<f64> {
        let mut peak = 0;
        for instance in &self.instances {
            peak = peak.max(instance.peak_rss()?);
        }
        Ok(peak as f64 / (1024.0 * 1024.0))
    }

    /// How long the instances' CPU cgroups held them back, if they have any.
    fn throttled(&self) -> anyhow::Result<Option<Duration>> {
        let mut total = None;
        for instance in &self.instances {
            if let Some(throttled) = instance.throttled() {
                *total.get_or_insert(Duration::ZERO) += throttled?;
            }
        }
        Ok(total)
    }
}

/// Processor time per item, in microseconds.
fn per_item_us(cpu: Duration, items: u64) -> f64 {
    cpu.as_secs_f64() * 1e6 / items.max(1) as f64
}

impl SetupRun<'_> {
    pub async fn measure(
        &self,
        database: &Database,
        time_logs: bool,
    ) -> anyhow::Result<SetupReport> {
        let fixture = self.start(database).await?;
        let result = self.phases(&fixture, database, time_logs).await;
        for instance in fixture.instances {
            instance.stop().await?;
        }
        result
    }

    /// `--filter-hooks`: ingestion on SQLite with `hooks` hooks listening to
    /// one event, first without filters, then each with one that half the
    /// events match, each on a fresh database, back to back, so that both
    /// see the machine in the same state.
    pub async fn filter_cost(&self, hooks: usize) -> anyhow::Result<FilterCost> {
        let mut measured = Vec::new();
        for (filtered, variant) in [(false, "no-filters"), (true, "filters")] {
            let run = SetupRun {
                name: format!("{} {variant}", self.name),
                ..*self
            };
            let database = Database::sqlite()?;
            let result = run.filter_ingestion(&database, hooks, filtered).await;
            database.remove().await?;
            measured.push(result.context(variant)?);
        }
        let with_filters = measured.pop().context("no run with filters")?;
        let without_filters = measured.pop().context("no run without filters")?;
        Ok(FilterCost {
            hooks,
            event: FILTER_EVENT.to_owned(),
            filter_example: half_filter(0),
            ratio: with_filters.events_per_sec / without_filters.events_per_sec,
            without_filters,
            with_filters,
        })
    }

    /// One side of `filter_cost`: events back to back for the phase, and
    /// no more. The deliveries go on meanwhile, as in any phase, but nothing
    /// waits for them: ingestion is what is measured.
    async fn filter_ingestion(
        &self,
        database: &Database,
        hooks: usize,
        filtered: bool,
    ) -> anyhow::Result<FilterIngestion> {
        let fixture = self.start(database).await?;
        let result = self.filter_phase(&fixture, database, hooks, filtered).await;
        for instance in fixture.instances {
            instance.stop().await?;
        }
        result
    }

    async fn filter_phase(
        &self,
        fixture: &Fixture,
        database: &Database,
        hooks: usize,
        filtered: bool,
    ) -> anyhow::Result<FilterIngestion> {
        // Through the API, as a user would make them; the fixture's own
        // hooks listen to other events.
        for index in 0..hooks {
            let path = format!("filter/{index}");
            let filter = filtered.then(|| half_filter(index));
            fixture
                .api
                .create_filtered_hook(
                    &path,
                    FILTER_EVENT,
                    &self.receiver.url(&path),
                    filter.as_ref(),
                )
                .await?;
        }
        self.receiver.take();
        let budget = Budget {
            duration: self.settings.phase,
            limit: self.settings.max_events,
        };
        let sent = self
            .offer(fixture, FILTER_EVENT, |sender| {
                load::closed_loop(self.settings.concurrency, budget, move |seq| {
                    sender.send(seq)
                })
            })
            .await;
        let delivered = distinct(&self.receiver.take()) as u64;
        // Every accepted event's deliveries were stored before its answer.
        let made = database.deliveries().await?;
        let events = sent.accepted.len() as u64;
        Ok(FilterIngestion {
            events,
            events_per_sec: sent.accepted_per_sec(),
            answer_times: Percentiles::of(sent.answer_times),
            refused: sent.refused,
            first_refusal: sent.first_refusal,
            deliveries_per_event: made as f64 / events.max(1) as f64,
            delivered,
        })
    }

    async fn start(&self, database: &Database) -> anyhow::Result<Fixture> {
        let binary = self.binary;
        let key = instance::create_api_key(binary, database.url()).await?;
        let mut instances = Vec::new();
        for index in 0..self.instances {
            let setup = format!("{}{}", self.log_prefix, self.name.replace(' ', "-"));
            let log = instance::log_path(self.logs_dir, &setup, index);
            let group = self.cpu_limit.map(CpuLimit::group).transpose()?;
            instances.push(Instance::start(binary, database.url(), &log, group).await?);
        }
        for instance in &instances {
            instance.wait_ready().await?;
        }
        let api = Arc::new(Api::new(
            key,
            instances.iter().map(|i| i.base.clone()).collect(),
        ));
        let one_hook = api
            .create_hook("one", ONE_HOOK_EVENT, &self.receiver.url("one"))
            .await?;
        let mut fan_out = Vec::new();
        for index in 0..FAN_OUT_HOOKS {
            let path = format!("fan-out/{index}");
            fan_out.push(
                api.create_hook(&path, FAN_OUT_EVENT, &self.receiver.url(&path))
                    .await?,
            );
        }
        let backlog = self.settings.backlog > 0;
        if backlog {
            let url = self.receiver.url(BACKLOG_PREFIX);
            api.create_hook("backlog", BACKLOG_EVENT, &url).await?;
        }
        let peak_rss_per_phase = match instances.iter().try_for_each(Instance::reset_peak_rss) {
            Ok(()) => true,
            Err(err) => {
                eprintln!("peak RSS counts from each instance's start, not per phase: {err:#}");
                false
            }
        };
        Ok(Fixture {
            api,
            instances,
            one_hook,
            fan_out,
            backlog,
            peak_rss_per_phase,
        })
    }

    async fn phases(
        &self,
        fixture: &Fixture,
        database: &Database,
        time_logs: bool,
    ) -> anyhow::Result<SetupReport> {
        let settings = self.settings;
        let budget = Budget {
            duration: settings.phase,
            limit: settings.max_events,
        };
        let (one_hook, ingestion) = self
            .throughput(fixture, ONE_HOOK_EVENT, 1, budget)
            .await
            .context("throughput, one hook")?;
        let (fan_out, _) = self
            .throughput(fixture, FAN_OUT_EVENT, FAN_OUT_HOOKS, budget)
            .await
            .context("throughput, fan-out")?;
        let latency_fixed = self
            .latency(fixture, settings.rate, budget)
            .await
            .context("latency at the fixed rate")?;
        let latency_80 = self
            .latency(fixture, 0.8 * one_hook.events_per_sec, budget)
            .await
            .context("latency at 80 % of the maximum")?;
        // A baseline from before a change to the log's tables cannot be
        // filled by this harness; its other figures still count.
        let log_queries = if time_logs {
            match self.log_queries(fixture, database).await {
                Ok(queries) => Some(queries),
                Err(err) => {
                    eprintln!(
                        "{}{}: log queries failed: {err:#}",
                        self.log_prefix, self.name
                    );
                    None
                }
            }
        } else {
            None
        };
        // A baseline from before the overview has no route for it.
        let overview = if time_logs {
            match self.overview_query(fixture, database).await {
                Ok(overview) => Some(overview),
                Err(err) => {
                    eprintln!(
                        "{}{}: the overview failed: {err:#}",
                        self.log_prefix, self.name
                    );
                    None
                }
            }
        } else {
            None
        };
        let backlog = if fixture.backlog {
            Some(self.backlog(fixture).await.context("backlog")?)
        } else {
            None
        };
        let throttled = fixture.throttled()?;
        let peak_rss_mb = [
            one_hook.peak_rss_mb,
            fan_out.peak_rss_mb,
            latency_fixed.peak_rss_mb,
            latency_80.peak_rss_mb,
        ]
        .into_iter()
        .chain(backlog.as_ref().map(|b| b.peak_rss_mb))
        .fold(0.0, f64::max);
        Ok(SetupReport {
            name: self.name.clone(),
            instances: self.instances,
            one_hook,
            fan_out,
            ingestion,
            latency_fixed,
            latency_80,
            peak_rss_mb,
            peak_rss_per_phase: fixture.peak_rss_per_phase,
            cpu_throttled_s: throttled.map(|t| t.as_secs_f64()),
            log_queries,
            overview,
            backlog,
            // Set by `run_with`, each on a database of its own, if asked for.
            noisy: Vec::new(),
        })
    }

    /// Events back to back for the phase, then until every delivery has
    /// arrived and been logged.
    async fn throughput(
        &self,
        fixture: &Fixture,
        event: &'static str,
        hooks: usize,
        budget: Budget,
    ) -> anyhow::Result<(Throughput, Ingestion)> {
        let logged_before = fixture.api.logged_attempts().await?;
        self.receiver.take();
        fixture.reset_peak_rss()?;
        let cpu_before = fixture.cpu_time()?;
        let machine_before = MachineTime::now()?;
        let sent = self
            .offer(fixture, event, |sender| {
                load::closed_loop(self.settings.concurrency, budget, move |seq| {
                    sender.send(seq)
                })
            })
            .await;
        let expected = sent.accepted.len() * hooks;
        let done = self.drained(fixture, expected, logged_before).await?;
        let cpu = fixture.cpu_time()? - cpu_before;
        let machine_busy = MachineTime::now()?.busy_since(&machine_before);
        let peak_rss_mb = fixture.peak_rss_mb()?;
        let arrivals = self.receiver.take();
        let seconds = (done - sent.started).as_secs_f64();
        let deliveries = distinct(&arrivals);
        let ingestion = Ingestion {
            answers_per_sec: sent.accepted_per_sec(),
            answer_times: Percentiles::of(sent.answer_times.clone()),
            refused: sent.refused,
            first_refusal: sent.first_refusal.clone(),
        };
        Ok((
            Throughput {
                hooks,
                events: sent.accepted.len() as u64,
                deliveries: deliveries as u64,
                missing: expected.saturating_sub(deliveries) as u64,
                duplicates: (arrivals.len() - deliveries) as u64,
                seconds,
                events_per_sec: sent.accepted.len() as f64 / seconds,
                deliveries_per_sec: deliveries as f64 / seconds,
                of_ceiling: deliveries as f64 / seconds / self.ceiling_per_sec,
                cpu_per_delivery_us: per_item_us(cpu, deliveries as u64),
                machine_busy,
                peak_rss_mb,
            },
            ingestion,
        ))
    }

    /// Events at `rate` for the phase, one hook; each delivery's time from
    /// being due to go out to arriving at the receiver.
    async fn latency(
        &self,
        fixture: &Fixture,
        rate: f64,
        budget: Budget,
    ) -> anyhow::Result<Latency> {
        let logged_before = fixture.api.logged_attempts().await?;
        self.receiver.take();
        fixture.reset_peak_rss()?;
        let sent = self
            .offer(fixture, ONE_HOOK_EVENT, |sender| {
                load::open_loop(rate, budget, move |seq| sender.send(seq))
            })
            .await;
        self.drained(fixture, sent.accepted.len(), logged_before)
            .await?;
        let peak_rss_mb = fixture.peak_rss_mb()?;
        let times = times_to_arrive(&sent, &self.receiver.take());
        Ok(Latency {
            offered_per_sec: rate,
            events: sent.accepted.len() as u64,
            missing: sent.accepted.len().saturating_sub(times.len()) as u64,
            refused: sent.refused,
            times: Percentiles::of(times),
            peak_rss_mb,
        })
    }

    /// `--backlog` events for one hook while its receiver is down, then the
    /// receiver up: how fast the waiting deliveries drain, and the memory
    /// the instances held meanwhile.
    async fn backlog(&self, fixture: &Fixture) -> anyhow::Result<Backlog> {
        let logged_before = fixture.api.logged_attempts().await?;
        self.receiver.take();
        fixture.reset_peak_rss()?;
        self.receiver.set_backlog_up(false);
        let budget = Budget {
            duration: BACKLOG_FILL_AT_MOST,
            limit: self.settings.backlog,
        };
        let sent = self
            .offer(fixture, BACKLOG_EVENT, |sender| {
                load::closed_loop(self.settings.concurrency, budget, move |seq| {
                    sender.send(seq)
                })
            })
            .await;
        let arrived_before = self.receiver.count();
        let cpu_before = fixture.cpu_time()?;
        let machine_before = MachineTime::now()?;
        let released = Instant::now();
        self.receiver.set_backlog_up(true);
        let expected = sent.accepted.len();
        // A generous wait: at least 100 deliveries a second.
        let timeout = DRAIN_TIMEOUT + Duration::from_secs(expected as u64 / 100);
        let done = self
            .drained_within(fixture, expected, logged_before, timeout)
            .await?;
        let cpu = fixture.cpu_time()? - cpu_before;
        let machine_busy = MachineTime::now()?.busy_since(&machine_before);
        let peak_rss_mb = fixture.peak_rss_mb()?;
        let arrivals = self.receiver.take();
        let deliveries = distinct(&arrivals);
        let drained = deliveries.saturating_sub(arrived_before);
        let drain_seconds = done.saturating_duration_since(released).as_secs_f64();
        Ok(Backlog {
            events: expected as u64,
            fill_seconds: (sent.finished - sent.started).as_secs_f64(),
            events_per_sec: sent.accepted_per_sec(),
            refused: sent.refused,
            waiting: expected.saturating_sub(arrived_before) as u64,
            drain_seconds,
            drain_per_sec: drained as f64 / drain_seconds.max(1e-3),
            missing: expected.saturating_sub(deliveries) as u64,
            duplicates: (arrivals.len() - deliveries) as u64,
            cpu_per_delivery_us: per_item_us(cpu, drained as u64),
            machine_busy,
            peak_rss_mb,
        })
    }

    /// Sends events named `event` through `generator`, which gets a sender.
    async fn offer<G, Fut>(&self, fixture: &Fixture, event: &str, generator: G) -> Sent
    where
        G: FnOnce(EventSender) -> Fut,
        Fut: Future<Output = Sent>,
    {
        generator(EventSender {
            api: fixture.api.clone(),
            template: Arc::new(String::from_utf8_lossy(&self.payload.event(event, 0)).into_owned()),
        })
        .await
    }

    /// Waits until `expected` deliveries have reached the receiver and every
    /// instance has logged them, or for `DRAIN_TIMEOUT`; returns when that
    /// was. What never arrived shows as missing in the figures.
    async fn drained(
        &self,
        fixture: &Fixture,
        expected: usize,
        logged_before: u64,
    ) -> anyhow::Result<Instant> {
        self.drained_within(fixture, expected, logged_before, DRAIN_TIMEOUT)
            .await
    }

    /// `drained`, waiting at most `timeout`.
    async fn drained_within(
        &self,
        fixture: &Fixture,
        expected: usize,
        logged_before: u64,
        timeout: Duration,
    ) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + timeout;
        poll_until(deadline, Duration::from_millis(10), || async move {
            if self.receiver.count() < expected {
                return Ok(false);
            }
            let logged = fixture.api.logged_attempts().await? - logged_before;
            Ok(logged >= expected as u64)
        })
        .await?;
        Ok(Instant::now())
    }

    /// Fills the log to the configured size, then times filtered pages of
    /// the busy hook's recent logs.
    async fn log_queries(
        &self,
        fixture: &Fixture,
        database: &Database,
    ) -> anyhow::Result<Vec<LogQuery>> {
        let settings = self.settings;
        let added = database
            .fill_log(
                settings.log_attempts,
                &fixture.one_hook,
                &fixture.fan_out[0],
            )
            .await?;
        let filters = [
            "status=failed",
            "event=User.Created",
            "event=User.Created&status=success",
        ];
        let mut results = Vec::new();
        for filter in filters {
            let mut times = Vec::with_capacity(settings.log_queries);
            let (mut matches, mut matches_capped) = (0, false);
            for _ in 0..settings.log_queries {
                let took;
                (took, matches, matches_capped) =
                    fixture.api.recent_logs(&fixture.one_hook, filter).await?;
                times.push(took);
            }
            results.push(LogQuery {
                filter: filter.to_owned(),
                attempts_in_log: settings.log_attempts,
                synthetic: added,
                matches,
                matches_capped,
                times: Percentiles::of(times),
            });
        }
        Ok(results)
    }

    /// With the log filled, adds `--overview-hooks` hooks with a day of
    /// per-minute counters each, then times the overview.
    async fn overview_query(
        &self,
        fixture: &Fixture,
        database: &Database,
    ) -> anyhow::Result<OverviewQuery> {
        let counter_rows = database
            .fill_overview(self.settings.overview_hooks, &fixture.one_hook)
            .await?;
        let mut times = Vec::with_capacity(self.settings.log_queries);
        for _ in 0..self.settings.log_queries {
            times.push(fixture.api.overview().await?);
        }
        Ok(OverviewQuery {
            hooks: self.settings.overview_hooks,
            counter_rows,
            attempts_in_log: self.settings.log_attempts,
            times: Percentiles::of(times),
        })
    }
}

/// Posts events to Hookline, each a copy of one body with its own `seq`.
#[derive(Clone)]
struct EventSender {
    api: Arc<Api>,
    template: Arc<String>,
}

impl EventSender {
    fn send(&self, seq: u64) -> impl Future<Output = anyhow::Result<()>> + Send + 'static {
        let api = self.api.clone();
        // The template's `seq` is 0, and `"seq":0` appears nowhere else in it.
        let body = self
            .template
            .replacen("\"seq\":0", &format!("\"seq\":{seq}"), 1);
        async move { api.post_event(seq, body.into_bytes()).await }
    }
}

/// Checks `done` every `every` until it holds or `deadline` has passed;
/// returns whether it held.
async fn poll_until<F, Fut>(deadline: Instant, every: Duration, mut done: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    loop {
        if done().await? {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(every).await;
    }
}

/// For each event `sent` accepted whose delivery is among `arrivals`, the
/// time from when it was due to be sent to its first arrival.
fn times_to_arrive(sent: &Sent, arrivals: &[Arrival]) -> Vec<Duration> {
    let mut first: HashMap<u64, Instant> = HashMap::new();
    for arrival in arrivals {
        if let Some(seq) = arrival.seq {
            first.entry(seq).or_insert(arrival.at);
        }
    }
    sent.accepted
        .iter()
        .filter_map(|(seq, due)| Some(first.get(seq)?.saturating_duration_since(*due)))
        .collect()
}

/// Arrivals counted once per hook and event: a repeat is a duplicate.
fn distinct(arrivals: &[Arrival]) -> usize {
    arrivals
        .iter()
        .map(|a| (a.path.as_str(), a.seq))
        .collect::<HashSet<_>>()
        .len()
}
