//! Percentiles of a set of timings.

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles; all zero when there are no samples.
    pub fn of(samples: Vec<Duration>) -> Percentiles {
        Percentiles::of_some_missing(samples, 0)
    }

    /// `of`, over `samples` and `missing` more that were never measured (a
    /// request that did not arrive in time): those rank above every sample,
    /// and a percentile that falls among them is infinite (`null` in the
    /// JSON). `count` is the samples'.
    pub fn of_some_missing(mut samples: Vec<Duration>, missing: usize) -> Percentiles {
        if samples.is_empty() && missing == 0 {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let total = samples.len() + missing;
        let rank = |p: f64| {
            let index = ((p * total as f64).ceil() as usize).clamp(1, total) - 1;
            samples
                .get(index)
                .map_or(f64::INFINITY, |sample| sample.as_secs_f64() * 1000.0)
        };
        Percentiles {
            count: samples.len(),
            p50_ms: rank(0.50),
            p95_ms: rank(0.95),
            p99_ms: rank(0.99),
            max_ms: rank(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(samples);
        assert_eq!(
            (p.count, p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(Percentiles::of(vec![Duration::from_millis(7)]).p99_ms, 7.0);
        assert_eq!(Percentiles::of(Vec::new()).count, 0);
    }

    #[test]
    fn missing_samples_rank_last() {
        let samples = |n| (1..=n).map(Duration::from_millis).collect();
        let p = Percentiles::of_some_missing(samples(98), 2);
        assert_eq!((p.count, p.p50_ms, p.p95_ms), (98, 50.0, 95.0));
        assert!(p.p99_ms.is_infinite() && p.max_ms.is_infinite());
        let p = Percentiles::of_some_missing(samples(99), 1);
        assert_eq!(p.p99_ms, 99.0);
        assert!(p.max_ms.is_infinite());
        assert!(Percentiles::of_some_missing(Vec::new(), 3)
            .p50_ms
            .is_infinite());
    }
}
