#!/usr/bin/env bash
# Measures the 4-validator local network (see tests/src/bin/local-network-bench.rs): finality
# lag with all four up and with one down over N blocks each (default 30), and catch-up time.
#
#   scripts/bench-local-network.sh [blocks]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup-toolchain.sh >/dev/null
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
exec "$CARGO_TARGET_DIR/debug/local-network-bench" "${1:-30}"
