//! A hook's requests over time, as a chart.

use leptos::prelude::*;

use domain::delivery::Bucket;
use domain::time::format_utc;

/// Requests per bucket, successes and failures stacked, and the success rate
/// as a line: an SVG drawn on the server and kept on hydration.
#[component]
pub fn Chart(buckets: Vec<Bucket>) -> impl IntoView {
    const WIDTH: f64 = 1000.0;
    const HEIGHT: f64 = 160.0;
    let most = buckets.iter().map(|b| b.requests).max().unwrap_or(0).max(1) as f64;
    let slot = WIDTH / buckets.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let y = |count: i64| HEIGHT - count as f64 / most * HEIGHT;
    let requests: i64 = buckets.iter().map(|b| b.requests).sum();
    let successes: i64 = buckets.iter().map(|b| b.successes).sum();
    let rate_points: Vec<(f64, f64)> = buckets
        .iter()
        .enumerate()
        .filter(|(_, b)| b.requests > 0)
        .map(|(i, b)| {
            let rate = b.successes as f64 / b.requests as f64;
            (
                i as f64 * slot + slot / 2.0,
                HEIGHT - rate * (HEIGHT - 6.0) - 3.0,
            )
        })
        .collect();
    let rate_line: Vec<String> = rate_points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let first = buckets
        .first()
        .map(|b| format_utc(b.start))
        .unwrap_or_default();
    let rate = if requests > 0 {
        format!("{:.1} %", 100.0 * successes as f64 / requests as f64)
    } else {
        "–".to_owned()
    };
    view! {
        <section class="card chart-card">
            <div class="chart-legend">
                <span><i class="swatch swatch-green"></i>"Succeeded " <strong>{successes}</strong></span>
                <span><i class="swatch swatch-red"></i>"Failed " <strong>{requests - successes}</strong></span>
                <span><i class="swatch swatch-line"></i>"Success rate " <strong>{rate}</strong></span>
                <span class="muted small chart-max">{format!("max {most} per bar")}</span>
            </div>
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label="Requests over time">
                {buckets
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let x = i as f64 * slot + (slot - bar) / 2.0;
                        let failed = b.requests - b.successes;
                        view! {
                            <g>
                                <title>{format!("{}: {} requests, {} failed", format_utc(b.start), b.requests, failed)}</title>
                                <rect class="bar-ok" x=format!("{x:.1}") y=format!("{:.1}", y(b.successes)) width=format!("{bar:.1}") height=format!("{:.1}", HEIGHT - y(b.successes)) />
                                <rect class="bar-failed" x=format!("{x:.1}") y=format!("{:.1}", y(b.requests)) width=format!("{bar:.1}") height=format!("{:.1}", y(b.successes) - y(b.requests)) />
                            </g>
                        }
                    })
                    .collect_view()}
                <polyline class="rate-line" points=rate_line.join(" ") />
                {rate_points
                    .into_iter()
                    .map(|(x, y)| view! { <circle class="rate-dot" cx=format!("{x:.1}") cy=format!("{y:.1}") r="3" /> })
                    .collect_view()}
            </svg>
            <div class="chart-axis muted small">
                <span>{first}</span>
                <span>"now"</span>
            </div>
        </section>
    }
}
