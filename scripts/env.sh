# Sourced by the run and test scripts: the tool paths every build uses.
# npm's wasm-opt must be found before any other (Debian's breaks hydration).
HOOKLINE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOOKLINE_ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
HOOKLINE_TARGET_DIR="${CARGO_TARGET_DIR:-$HOOKLINE_ROOT/target}"
export HOOKLINE_BIN="$HOOKLINE_TARGET_DIR/release/hookline"
