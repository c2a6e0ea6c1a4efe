#!/usr/bin/env bash
# Every test: unit and integration (cargo), a short fuzzing of the REST API
# (Schemathesis, from its OpenAPI document), then end-to-end in headless
# Chromium against the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --browser --fuzz
source scripts/env.sh

# The PostgreSQL half of the store and API tests runs whenever a server is
# reachable: HOOKLINE_TEST_POSTGRES_URL if set, else the local default.
if [[ -z "${HOOKLINE_TEST_POSTGRES_URL:-}" ]]; then
  local_postgres="postgres://postgres@127.0.0.1:5432/test"
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    export HOOKLINE_TEST_POSTGRES_URL="$local_postgres"
  fi
fi
if [[ -n "${HOOKLINE_TEST_POSTGRES_URL:-}" ]]; then
  echo "== PostgreSQL tests use $HOOKLINE_TEST_POSTGRES_URL"
else
  echo "== No PostgreSQL server found: its half of the tests is skipped"
fi

echo "== Unit and integration tests"
cargo test --workspace

echo "== REST API fuzzing (short)"
./scripts/api-fuzz.sh

echo "== Release build (server + wasm console)"
cargo leptos build --release --precompress

echo "== End-to-end tests (headless Chromium)"
cd end2end
npx playwright test
