#!/usr/bin/env bash
# Job lifecycles per block from the runtime's block limits and the jobs pallet's weights (see
# tests/src/bin/job-capacity.rs). Regenerate the weights first with scripts/bench-weights.sh.
#
#   scripts/bench-jobs.sh
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup-toolchain.sh >/dev/null
cargo build --workspace --bins
exec "$CARGO_TARGET_DIR/debug/job-capacity"
