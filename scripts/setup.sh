#!/usr/bin/env bash
# Installs what building and testing Hookline needs, skipping what is already
# there: the wasm target, cargo-leptos, the wasm-bindgen CLI matching Cargo.lock,
# Node packages (binaryen's wasm-opt, Playwright), with --browser Chromium, and
# with --fuzz Schemathesis (from PyPI, in a venv under ~/.cache/hookline).
# Nothing here downloads a binary from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
SCHEMATHESIS_VERSION=4.32.5
want_browser=false
want_fuzz=false
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=true ;;
    --fuzz) want_fuzz=true ;;
    *) echo "usage: $0 [--browser] [--fuzz]" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if ((${#missing[@]})); then
    say "Installing ${missing[*]} (apt)"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

command -v npm >/dev/null 2>&1 || apt_install nodejs npm
command -v cc >/dev/null 2>&1 || apt_install build-essential
$want_browser && apt_install chromium

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (takes a while, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# cargo-leptos would download wasm-bindgen unless the exact version is on PATH.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]]; then
  say "Installing wasm-bindgen-cli $bindgen_version"
  # Without --locked: the CLI's own lock file pins a crate the registry no longer has.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

# binaryen's wasm-opt from npm: Debian's (version 108) breaks hydration.
# Installed again whenever package-lock.json differs from the one last
# installed (a copy kept in node_modules), so new packages arrive too.
lock_stamp=end2end/node_modules/.hookline-package-lock.json
if [[ ! -x end2end/node_modules/.bin/wasm-opt || ! -d end2end/node_modules/@playwright/test ]] ||
  ! cmp -s end2end/package-lock.json "$lock_stamp"; then
  say "Installing Node packages (wasm-opt, Playwright, axe-core)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error)
  cp end2end/package-lock.json "$lock_stamp"
fi

# Schemathesis, for scripts/api-fuzz.sh: pinned, from PyPI, in its own venv.
if $want_fuzz; then
  venv="${HOOKLINE_VENV:-$HOME/.cache/hookline/venv}"
  if [[ "$("$venv/bin/st" --version 2>/dev/null || true)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    command -v python3 >/dev/null 2>&1 || apt_install python3
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
    say "Installing Schemathesis $SCHEMATHESIS_VERSION (PyPI, in $venv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
fi
