#!/usr/bin/env bash
# Starts the release server on a new, empty database for the browser tests; its
# output (with the first-run setup link) goes to test-results/server.log.
# The tests' receivers run on loopback, so private endpoints are allowed, and
# retries are off (an empty schedule): a failed delivery stays failed until the
# test resends or recovers it. The alert watch looks every second. Traces go
# to otlp-collector.mjs, in batches every half second.
set -euo pipefail
cd "$(dirname "$0")"
state="$PWD/test-results/server"
rm -rf "$state" && mkdir -p "$state"
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:3101 OTEL_BSP_SCHEDULE_DELAY=500
exec "${HOOKLINE_BIN:-../target/release/hookline}" serve \
  --database-url "sqlite://$state/hookline.db" \
  --addr 127.0.0.1:3100 \
  --allow-private-endpoints \
  --retry-schedule= \
  --alert-check-interval 1s \
  --site-root ../target/site >"$state/../server.log" 2>&1
