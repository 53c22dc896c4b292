#!/usr/bin/env bash
# lilypad-rp's overhead on one run: trivial WASM and Docker jobs through the agent against the
# same work run directly (wasmtime in-process; `docker run`), and the agent's resident memory
# idle and with 8 jobs running; then how fast the model cache takes in weights from a peer's
# store (`MODEL_FETCH_MIB`, default 512). Needs the Docker engine. The dev build, as the tests
# use it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
"$CARGO_TARGET_DIR/debug/agent-overhead"
"$CARGO_TARGET_DIR/debug/model-fetch"
