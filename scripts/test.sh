#!/usr/bin/env bash
# Every test: unit and integration (cargo), then end-to-end in headless Chromium
# against the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --browser
source scripts/env.sh

echo "== Unit and integration tests"
cargo test --workspace

echo "== Release build (server + wasm console)"
cargo leptos build --release

echo "== End-to-end tests (headless Chromium)"
cd end2end
npx playwright test
