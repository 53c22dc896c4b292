#!/usr/bin/env bash
# Job lifecycles per block from the runtime's block limits and the jobs pallet's weights (see
# tests/src/bin/job-capacity.rs). Regenerate the weights first with scripts/bench-weights.sh.
#
#   scripts/bench-jobs.sh
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup-toolchain.sh >/dev/null
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
exec "$CARGO_TARGET_DIR/debug/job-capacity"
