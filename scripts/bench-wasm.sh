#!/usr/bin/env bash
# The agent's WASM executor on the example modules: compile and cache-load times, per-job
# overhead, numeric throughput, jobs per second on 1 and 2 threads. The dev build (as the
# tests use it): wasmtime and cranelift are at opt-level 3 there, and the module code cranelift
# generates is the same in any profile.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
"$CARGO_TARGET_DIR/debug/wasm-exec-bench"
