#!/usr/bin/env bash
# Every test: unit and integration (cargo), a short fuzzing of the REST API
# (Schemathesis, from its OpenAPI document), then end-to-end in headless
# Chromium against the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --browser --fuzz
source scripts/env.sh

echo "== Unit and integration tests"
cargo test --workspace

echo "== REST API fuzzing (short)"
./scripts/api-fuzz.sh

echo "== Release build (server + wasm console)"
cargo leptos build --release

echo "== End-to-end tests (headless Chromium)"
cd end2end
npx playwright test
