//! The benchmark harness (`hookline-bench`), run small against the debug
//! binary: a few hundred events per phase, a log of 40,000 attempts (past
//! the point where recent-logs stops counting), a backlog of 200 deliveries.
//! The same binary is its own baseline (so both columns and their ratios are
//! filled), and each instance runs in a CPU cgroup of one core where the
//! machine allows it (root and a `cpu` controller); where not, that check is
//! skipped, said so, and the rest still runs.
//! It keeps the harness working; the figures that count come from the full
//! run on a release build (docs/performance.md).

use std::time::Duration;

use hookline_bench::report::SetupReport;
use hookline_bench::{run, Settings};

const EVENTS: u64 = 100;
const BACKLOG: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmark_measures_every_phase() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        hookline: env!("CARGO_BIN_EXE_hookline").into(),
        baseline: Some(env!("CARGO_BIN_EXE_hookline").into()),
        instance_cpu: Some(1.0),
        postgres_url: std::env::var("HOOKLINE_TEST_POSTGRES_URL").ok(),
        phase: Duration::from_secs(20),
        max_events: EVENTS,
        concurrency: 8,
        rate: 200.0,
        payload_bytes: 512,
        log_attempts: 40_000,
        overview_hooks: 20,
        log_queries: 5,
        backlog: BACKLOG,
        json: dir.path().join("report.json"),
    };
    let report = run(&settings).await.unwrap();

    assert!(report.ceiling.per_sec > 0.0);
    let expected_setups = if settings.postgres_url.is_some() {
        3
    } else {
        1
    };
    assert_eq!(report.setups.len(), expected_setups);
    let baseline = report.baseline.as_ref().expect("the baseline was measured");
    assert_eq!(baseline.setups.len(), expected_setups);
    for setup in report.setups.iter().chain(&baseline.setups) {
        check_setup(setup);
    }
    // Both columns of each setup are there, and so is their ratio.
    for setup in &report.setups {
        for figure in [
            "one_hook.deliveries_per_sec",
            "fan_out.cpu_per_delivery_us",
            "fan_out.peak_rss_mb",
            "latency_fixed.p99_ms",
        ] {
            let row = report
                .comparison
                .iter()
                .find(|c| c.setup == setup.name && c.figure == figure)
                .unwrap_or_else(|| panic!("{}: no {figure} compared", setup.name));
            assert!(row.this > 0.0 && row.baseline > 0.0, "{row:?}");
            assert!(row.ratio.is_some_and(|r| r > 0.0), "{row:?}");
        }
    }
    let printed = report.to_string();
    assert!(
        printed.contains("baseline") && printed.contains("ratio"),
        "{printed}"
    );

    let limit = report
        .cpu_limit
        .as_ref()
        .expect("the CPU limit is reported");
    if limit.applied {
        for setup in report.setups.iter().chain(&baseline.setups) {
            assert!(setup.cpu_throttled_s.is_some(), "{}", setup.name);
        }
        // The harness removed its cgroups.
        let parent = limit.how.rsplit("under ").next().unwrap();
        assert!(
            !std::path::Path::new(parent).exists(),
            "{parent} left behind"
        );
    } else {
        eprintln!(
            "skipped: no CPU cgroups here, the instances ran unconfined ({})",
            limit.how
        );
        assert!(printed.contains("NOT applied"), "{printed}");
    }
    assert!(!report.targets.is_empty());

    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings.json).unwrap()).unwrap();
    assert_eq!(written["setups"].as_array().unwrap().len(), expected_setups);
    assert_eq!(
        written["setups"][0]["one_hook"]["deliveries"].as_u64(),
        Some(EVENTS)
    );
    assert_eq!(
        written["baseline"]["setups"][0]["one_hook"]["deliveries"].as_u64(),
        Some(EVENTS)
    );
    assert!(!written["comparison"].as_array().unwrap().is_empty());
}

/// The figures every setup of either binary must have.
fn check_setup(setup: &SetupReport) {
    let name = &setup.name;
    assert_eq!(setup.one_hook.events, EVENTS, "{name}");
    assert_eq!(setup.one_hook.deliveries, EVENTS, "{name}");
    assert_eq!(setup.fan_out.deliveries, EVENTS * 10, "{name}");
    assert_eq!(
        setup.one_hook.duplicates + setup.fan_out.duplicates,
        0,
        "{name}"
    );
    assert!(setup.one_hook.deliveries_per_sec > 0.0, "{name}");
    for phase in [&setup.one_hook, &setup.fan_out] {
        assert!(
            phase.machine_busy > 0.0 && phase.machine_busy <= 1.0,
            "{name}: machine busy {}",
            phase.machine_busy
        );
    }
    assert_eq!(
        setup.ingestion.refused, 0,
        "{name}: {:?}",
        setup.ingestion.first_refusal
    );
    for latency in [&setup.latency_fixed, &setup.latency_80] {
        assert_eq!(latency.events, EVENTS, "{name}");
        assert_eq!(latency.missing, 0, "{name}");
        assert_eq!(
            latency.times.count as u64, EVENTS,
            "{name}: every event was timed"
        );
        assert!(latency.times.p50_ms > 0.0 && latency.times.p50_ms <= latency.times.p99_ms);
    }
    assert!(setup.peak_rss_mb > 1.0, "{name}");
    if setup.instances == 1 {
        let queries = setup.log_queries.as_ref().expect("log queries timed");
        let failed = &queries[0];
        assert_eq!(failed.filter, "status=failed");
        // One in 50 synthetic attempts failed (some for the other hook);
        // the real ones all succeeded.
        assert!(failed.synthetic > 0);
        assert!(failed.matches > 0 && failed.matches <= failed.synthetic.div_ceil(50));
        assert!(!failed.matches_capped);
        assert_eq!(failed.times.count, 5);
        // A third of 90 % of 40,000: past the count's limit.
        let by_event = &queries[1];
        assert_eq!(by_event.filter, "event=User.Created");
        assert_eq!((by_event.matches, by_event.matches_capped), (10_000, true));
        let overview = setup.overview.as_ref().expect("the overview timed");
        assert_eq!((overview.hooks, overview.counter_rows), (20, 20 * 1440));
        assert_eq!(overview.times.count, 5);
    } else {
        assert!(setup.log_queries.is_none());
        assert!(setup.overview.is_none());
    }
    let backlog = setup.backlog.as_ref().expect("the backlog phase ran");
    assert_eq!(backlog.events, BACKLOG, "{name}");
    assert_eq!((backlog.missing, backlog.duplicates), (0, 0), "{name}");
    // At most a few went out while the receiver was down (the hook's
    // requests in flight, let go after two seconds each).
    assert!(backlog.waiting >= BACKLOG / 2, "{name}: {backlog:?}");
    assert!(backlog.drain_per_sec > 0.0, "{name}: {backlog:?}");
    for rss in [
        backlog.peak_rss_mb,
        setup.one_hook.peak_rss_mb,
        setup.fan_out.peak_rss_mb,
        setup.latency_fixed.peak_rss_mb,
        setup.latency_80.peak_rss_mb,
    ] {
        assert!(rss > 1.0 && rss <= setup.peak_rss_mb, "{name}: {rss}");
    }
}
