#!/usr/bin/env bash
# Quickstart: install what is missing, build the release binary and the console,
# migrate, and serve on SQLite at http://127.0.0.1:3000. Extra arguments go to
# `hookline serve` (e.g. --addr 0.0.0.0:3000). Delivery to loopback and private
# addresses is allowed here, so hooks can point at a receiver on this machine;
# production deployments should leave --allow-private-endpoints off.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
cargo leptos build --release --precompress
"$HOOKLINE_BIN" migrate
exec "$HOOKLINE_BIN" serve --site-root "$HOOKLINE_ROOT/target/site" --allow-private-endpoints "$@"
