#!/usr/bin/env bash
# Fuzzes the REST API with Schemathesis, driven by the API's own OpenAPI
# document: the real `hookline` binary on a fresh SQLite database, an API key
# made with `hookline api-key create`, and every operation sent generated valid
# and invalid input. Any 5xx, a status the document does not list, or a body
# that does not match its schema fails the run.
#
#   scripts/api-fuzz.sh          short run, 100 cases per operation (scripts/test.sh runs it)
#   scripts/api-fuzz.sh --long   long run, 1,000 cases per operation
#
# Extra arguments after the mode go to `st run` (e.g. --seed 42).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

mode=short
if [[ "${1:-}" == "--long" ]]; then
  mode=long
  shift
fi

venv="${HOOKLINE_VENV:-$HOME/.cache/hookline/venv}"
st="$venv/bin/st"
if [[ ! -x "$st" ]]; then
  ./scripts/setup.sh --fuzz
fi

echo "== Building the hookline binary (debug)"
cargo build --quiet -p server --bin hookline
bin="$HOOKLINE_TARGET_DIR/debug/hookline"

work=$(mktemp -d "${TMPDIR:-/tmp}/hookline-fuzz.XXXXXX")
server_pid=""
cleanup() {
  # Only if the run ended early; never waits on a server that will not stop.
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "${HOOKLINE_FUZZ_KEEP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

export HOOKLINE_DATABASE_URL="sqlite://$work/fuzz.db"
key=$("$bin" api-key create --name fuzz | tail -n 1)

# Port 0: the kernel picks a free port, the server prints it. Hooks the fuzzer
# creates point at loopback (the schema's example URL), hence
# --allow-private-endpoints; short timeouts keep `?wait=` and hook tests quick.
"$bin" serve --addr 127.0.0.1:0 --allow-private-endpoints \
  --request-timeout 2s --retry-schedule 1s,5s \
  >"$work/stdout" 2>"$work/server.log" &
server_pid=$!
base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/^Hookline is listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$work/stdout")
  [[ -n "$base" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$base" ]] || { echo "the server did not say where it listens" >&2; exit 1; }

if [[ "$mode" == long ]]; then
  examples=1000
else
  examples=100
fi

echo "== Schemathesis ($mode run, $examples cases per operation) against $base/api/openapi.json"
status=0
# From the temporary folder: Schemathesis keeps a cache in the working directory.
(cd "$work" && "$st" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance \
  --max-examples "$examples" \
  --workers 2 \
  --request-timeout 40 \
  --generation-database none \
  --no-color \
  "$@") || status=$?

# The server must have lived through the run, and then stop as an operator
# stops it: SIGTERM, exit code 0, within its 15 s shutdown grace and a margin.
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "== The server exited during the run" >&2
  status=1
else
  kill -TERM "$server_pid"
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "== The server did not exit within 30 s of SIGTERM" >&2
    kill -KILL "$server_pid" 2>/dev/null || true
    status=1
  else
    code=0
    wait "$server_pid" || code=$?
    if ((code != 0)); then
      echo "== The server exited with code $code after SIGTERM" >&2
      status=1
    fi
  fi
fi
server_pid=""

# A panic in a background task answers no request, so no check sees it.
if grep -q "panicked" "$work/server.log"; then
  echo "== The server panicked:" >&2
  grep -A3 "panicked" "$work/server.log" | head -n 40 >&2
  status=1
fi

if ((status != 0)); then
  echo "== Server log: errors and warnings (last 40)"
  grep -E " (ERROR|WARN) |panicked" "$work/server.log" | tail -n 40 || true
  echo "API fuzzing failed (HOOKLINE_FUZZ_KEEP=1 keeps $work)" >&2
fi
exit "$status"
