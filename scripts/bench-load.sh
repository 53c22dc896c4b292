#!/usr/bin/env bash
# Load on a dev network (tests/src/bin/job-load.rs): settled jobs per minute with one agent and
# with two, `lilypad run` latency (p50/p95, seconds and blocks) for trivial WASM and Docker
# jobs, and the CPU and peak memory of the node and the agents. Needs the Docker engine.
#
#   scripts/bench-load.sh [jobs=1200] [runs=15]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
"$CARGO_TARGET_DIR/debug/job-load" "$@"
