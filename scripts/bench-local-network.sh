#!/usr/bin/env bash
# Measures the 4-validator local network (see tests/src/bin/local-network-bench.rs): finality
# lag with all four up and with one down over N blocks each (default 30), and catch-up time.
#
#   scripts/bench-local-network.sh [blocks]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup-toolchain.sh >/dev/null
cargo build --workspace --bins
exec "$CARGO_TARGET_DIR/debug/local-network-bench" "${1:-30}"
