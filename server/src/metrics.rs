//! Prometheus metrics for `/metrics`, in the text exposition format.
//!
//! Counters count what this instance did (Prometheus sums instances); the
//! queue's figures are read from the database at scrape time, so every
//! instance reports the same shared queue.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use domain::delivery::Attempt;
use domain::ids::HookId;

pub struct Metrics {
    registry: Registry,
    events_ingested: IntCounter,
    attempts: IntCounterVec,
    attempt_duration: HistogramVec,
    hook_failures: IntCounterVec,
    deliveries_pending: IntGauge,
    oldest_pending_age: IntGauge,
    hook_oldest_waiting: IntGaugeVec,
    first_attempt_lag: HistogramVec,
}

/// Attempt durations, in seconds: from a fast local receiver to the timeout.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Event age at first attempt, in seconds: from an idle dispatcher taking a
/// fresh event at once (1 ms) to an hour's backlog.
const LAG_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0,
];

impl Metrics {
    pub fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("hookline".into()), None).expect("a valid metric prefix");
        let events_ingested = IntCounter::new(
            "events_ingested_total",
            "Events accepted by POST /api/events.",
        )
        .expect("valid metric");
        let attempts = IntCounterVec::new(
            Opts::new(
                "attempts_total",
                "Delivery attempts logged, by outcome (success, failure) and status class (2xx … 5xx, or error when no response came).",
            ),
            &["outcome", "status_class"],
        )
        .expect("valid metric");
        let attempt_duration = HistogramVec::new(
            HistogramOpts::new(
                "attempt_duration_seconds",
                "How long attempts took, response body included.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["outcome"],
        )
        .expect("valid metric");
        let hook_failures = IntCounterVec::new(
            Opts::new("hook_failures_total", "Failed attempts, per hook."),
            &["hook_id"],
        )
        .expect("valid metric");
        let deliveries_pending = IntGauge::new(
            "deliveries_pending",
            "Deliveries not yet delivered or given up on (the queue's depth).",
        )
        .expect("valid metric");
        let oldest_pending_age = IntGauge::new(
            "oldest_pending_age_seconds",
            "How long the oldest pending delivery has waited; 0 when none waits.",
        )
        .expect("valid metric");
        // One series per hook (the label is its id), as for failures.
        let hook_oldest_waiting = IntGaugeVec::new(
            Opts::new(
                "hook_oldest_waiting_seconds",
                "How long each hook's oldest waiting delivery has waited; only hooks with one waiting.",
            ),
            &["hook_id"],
        )
        .expect("valid metric");
        let first_attempt_lag = HistogramVec::new(
            HistogramOpts::new(
                "first_attempt_lag_seconds",
                "Event age when a delivery's first attempt started, per hook.",
            )
            .buckets(LAG_BUCKETS.to_vec()),
            &["hook_id"],
        )
        .expect("valid metric");
        for metric in [
            Box::new(events_ingested.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(attempts.clone()),
            Box::new(attempt_duration.clone()),
            Box::new(hook_failures.clone()),
            Box::new(deliveries_pending.clone()),
            Box::new(oldest_pending_age.clone()),
            Box::new(hook_oldest_waiting.clone()),
            Box::new(first_attempt_lag.clone()),
        ] {
            registry.register(metric).expect("metric names are unique");
        }
        Metrics {
            registry,
            events_ingested,
            attempts,
            attempt_duration,
            hook_failures,
            deliveries_pending,
            oldest_pending_age,
            hook_oldest_waiting,
            first_attempt_lag,
        }
    }

    pub fn event_ingested(&self) {
        self.events_ingested.inc();
    }

    /// Counts a logged attempt (test sends included: they are real requests).
    pub fn attempt_logged(&self, attempt: &Attempt) {
        let outcome = if attempt.summary.success {
            "success"
        } else {
            "failure"
        };
        let class = match attempt.summary.response_status {
            Some(status) => status_class(status),
            None => "error",
        };
        self.attempts.with_label_values(&[outcome, class]).inc();
        self.attempt_duration
            .with_label_values(&[outcome])
            .observe(attempt.summary.duration_ms as f64 / 1000.0);
        if !attempt.summary.success {
            self.hook_failures
                .with_label_values(&[attempt.summary.hook_id.as_str()])
                .inc();
        }
    }

    /// The queue as the database has it now.
    pub fn set_queue(&self, pending: i64, oldest_age_ms: Option<i64>) {
        self.deliveries_pending.set(pending);
        self.oldest_pending_age
            .set(oldest_age_ms.map_or(0, |ms| ms / 1000));
    }

    /// Each hook's oldest waiting delivery's age, as the database has it
    /// now: the hooks given, and no others (a hook that caught up leaves).
    pub fn set_hooks_waiting<'a>(&self, ages_ms: impl IntoIterator<Item = (&'a HookId, i64)>) {
        self.hook_oldest_waiting.reset();
        for (hook_id, age_ms) in ages_ms {
            self.hook_oldest_waiting
                .with_label_values(&[hook_id.as_str()])
                .set(age_ms / 1000);
        }
    }

    /// Observes the event age (ms) at a delivery's first attempt.
    pub fn first_attempt_lag(&self, hook_id: &HookId, lag_ms: i64) {
        self.first_attempt_lag
            .with_label_values(&[hook_id.as_str()])
            .observe(lag_ms.max(0) as f64 / 1000.0);
    }

    /// Everything, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_labels() {
        let metrics = Metrics::new();
        metrics.event_ingested();
        metrics.set_queue(3, Some(4_500));
        let text = metrics.render();
        assert!(text.contains("hookline_events_ingested_total 1"), "{text}");
        assert!(text.contains("hookline_deliveries_pending 3"), "{text}");
        assert!(
            text.contains("hookline_oldest_pending_age_seconds 4"),
            "{text}"
        );
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
    }

    #[test]
    fn per_hook_lag_series_come_and_go() {
        let metrics = Metrics::new();
        let (slow, fast) = (HookId::from("slow"), HookId::from("fast"));
        metrics.set_hooks_waiting([(&slow, 90_500), (&fast, 1_000)]);
        metrics.first_attempt_lag(&slow, 2_000);
        let text = metrics.render();
        assert!(
            text.contains(r#"hookline_hook_oldest_waiting_seconds{hook_id="slow"} 90"#),
            "{text}"
        );
        assert!(
            text.contains(r#"hookline_first_attempt_lag_seconds_bucket{hook_id="slow",le="5"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"hookline_first_attempt_lag_seconds_bucket{hook_id="slow",le="1"} 0"#),
            "{text}"
        );
        // Caught up: its series goes.
        metrics.set_hooks_waiting([(&slow, 1_000)]);
        assert!(!metrics.render().contains(r#"{hook_id="fast"}"#));
    }
}
