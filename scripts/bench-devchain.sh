#!/usr/bin/env bash
# Measures a dev chain (see tests/src/bin/devchain-bench.rs): start-up time, block interval and
# finality lag over N blocks (default 300), and idle resident memory.
#
#   scripts/bench-devchain.sh [blocks]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup-toolchain.sh >/dev/null
# The workspace build, as in scripts/test.sh: building one package alone resolves features
# differently and recompiles much of the client.
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
exec "$CARGO_TARGET_DIR/debug/devchain-bench" "${1:-300}"
