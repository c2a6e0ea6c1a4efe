//! `--noisy`: whether slow endpoints hold back a healthy hook, the
//! acceptance figure of the issue on fair delivery ("no endpoint, however
//! slow, holds back another hook").
//!
//! N slow hooks, each on an endpoint of its own that takes `--noisy-delay`
//! to answer (with `--noisy-hang`, one that answers only past the server's
//! request timeout), all listen to one event, so that each event posted for
//! them makes N deliveries: the flood costs the load generator little. From
//! the same moment one healthy hook, on an endpoint that answers at once,
//! gets a steady rate of events of its own. A fair dispatcher delivers
//! those about as fast as with no slow hook at all; one that serves
//! deliveries in the order they came keeps them behind the slow hooks'
//! backlog. Then the slow deliveries are waited for: slow or not, none may
//! be lost.

use std::time::{Duration, Instant};

use super::{distinct, poll_until, times_to_arrive, Fixture, SetupRun};
use crate::database::Database;
use crate::load::{self, Budget, Sent};
use crate::receiver::{Arrival, HANG_FOR, HANG_PREFIX, SLOW_PREFIX};
use crate::report::NoisyReport;
use crate::stats::Percentiles;
use crate::NoisySettings;

/// The slow hooks' event and the healthy hook's; none of the fixture's
/// hooks listens to either.
const SLOW_EVENT: &str = "PostSignIn";
const HEALTHY_EVENT: &str = "PostRegister";
/// The healthy hook's path on the receiver (and its name): answered at once.
const HEALTHY_PATH: &str = "healthy";
/// How long after the last healthy event was posted its deliveries are
/// waited for; later ones count as missing. Behind a backlog of slow
/// deliveries they may take minutes, and the run must go on.
const HEALTHY_DEADLINE: Duration = Duration::from_secs(60);
/// How often the waits count arrivals: tens of thousands of them, on the
/// cores the server needs, so not as often as the other phases look.
const POLL_EVERY: Duration = Duration::from_millis(100);

impl SetupRun<'_> {
    /// `--noisy` with `slow_hooks` slow hooks, on a fresh `database`.
    pub async fn noisy(
        &self,
        database: &Database,
        slow_hooks: usize,
        settings: &NoisySettings,
    ) -> anyhow::Result<NoisyReport> {
        let fixture = self.start(database).await?;
        let result = self
            .noisy_phase(&fixture, database, slow_hooks, settings)
            .await;
        for instance in fixture.instances {
            instance.stop().await?;
        }
        result
    }

    async fn noisy_phase(
        &self,
        fixture: &Fixture,
        database: &Database,
        slow_hooks: usize,
        settings: &NoisySettings,
    ) -> anyhow::Result<NoisyReport> {
        let (prefix, answer_after) = if settings.hang {
            (HANG_PREFIX, HANG_FOR)
        } else {
            (SLOW_PREFIX, settings.slow_delay)
        };
        self.receiver.set_slow_delay(settings.slow_delay);
        // Through the API, as a user would make them; each named after its
        // path, so that the database finds the slow ones by the prefix.
        for index in 0..slow_hooks {
            let path = format!("{prefix}/{index}");
            fixture
                .api
                .create_hook(&path, SLOW_EVENT, &self.receiver.url(&path))
                .await?;
        }
        let healthy_url = self.receiver.url(HEALTHY_PATH);
        fixture
            .api
            .create_hook(HEALTHY_PATH, HEALTHY_EVENT, &healthy_url)
            .await?;
        self.receiver.take();
        let (flood, healthy) = self.flood_beside_healthy(fixture, settings).await;

        let healthy_deadline = healthy.finished + HEALTHY_DEADLINE;
        let healthy_sent = healthy.accepted.len();
        poll_until(healthy_deadline, POLL_EVERY, || async {
            Ok(self.receiver.distinct_under(HEALTHY_PATH) >= healthy_sent)
        })
        .await?;

        let slow_expected = flood.accepted.len() * slow_hooks;
        let drain_deadline = Instant::now() + settings.drain_timeout;
        let drained = poll_until(drain_deadline, POLL_EVERY, || async {
            Ok(self.receiver.distinct_under(prefix) >= slow_expected)
        })
        .await?;
        let waited_until = Instant::now();
        let slow_states = database.delivery_states(prefix).await?;

        let (healthy_arrivals, slow_arrivals): (Vec<Arrival>, Vec<Arrival>) = self
            .receiver
            .take()
            .into_iter()
            .filter(|a| a.path == HEALTHY_PATH || a.path.starts_with(prefix))
            .partition(|a| a.path == HEALTHY_PATH);
        let in_time: Vec<Arrival> = healthy_arrivals
            .into_iter()
            .filter(|a| a.at <= healthy_deadline)
            .collect();
        let healthy_times = times_to_arrive(&healthy, &in_time);
        let healthy_arrived = healthy_times.len();
        let last_slow = slow_arrivals.iter().map(|a| a.at).max();
        let drained_at = match last_slow {
            Some(last) if drained => last,
            _ => waited_until,
        };
        Ok(NoisyReport {
            slow_hooks,
            slow_kind: if settings.hang { "hang" } else { "slow" },
            slow_answer_ms: answer_after.as_secs_f64() * 1000.0,
            slow_events: flood.accepted.len() as u64,
            slow_refused: flood.refused,
            healthy_rate: settings.healthy_rate,
            healthy_sent: healthy_sent as u64,
            healthy_refused: healthy.refused,
            healthy_arrived: healthy_arrived as u64,
            healthy_deadline_s: HEALTHY_DEADLINE.as_secs_f64(),
            healthy_times: Percentiles::of_some_missing(
                healthy_times,
                healthy_sent - healthy_arrived,
            ),
            slow_expected: slow_expected as u64,
            slow_arrived: distinct(&slow_arrivals) as u64,
            slow_requests: slow_arrivals.len() as u64,
            slow_drain_seconds: drained_at
                .saturating_duration_since(flood.started)
                .as_secs_f64(),
            slow_states,
        })
    }

    /// The slow hooks' events, as fast as the API takes them, and from the
    /// same moment the healthy hook's, on their schedule (an open loop: a
    /// slow answer from the API holds none of them back). Both stop at
    /// `--noisy-phase`, whatever is left.
    async fn flood_beside_healthy(
        &self,
        fixture: &Fixture,
        settings: &NoisySettings,
    ) -> (Sent, Sent) {
        let flood = Budget {
            duration: settings.healthy_phase,
            limit: settings.slow_events,
        };
        // Sized by its own flags, not `--max-events`, which keeps the
        // other phases small.
        let steady = Budget {
            duration: settings.healthy_phase,
            limit: u64::MAX,
        };
        let concurrency = self.settings.concurrency;
        tokio::join!(
            self.offer(fixture, SLOW_EVENT, |sender| {
                load::closed_loop(concurrency, flood, move |seq| sender.send(seq))
            }),
            self.offer(fixture, HEALTHY_EVENT, |sender| {
                load::open_loop(settings.healthy_rate, steady, move |seq| sender.send(seq))
            }),
        )
    }
}
