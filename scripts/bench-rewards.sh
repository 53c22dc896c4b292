#!/usr/bin/env bash
# What closing a reward epoch costs per 1,000 actors (see tests/src/bin/reward-closing.rs):
# the rewards pallet's hook, run natively on in-memory state, timed pass by pass, with the
# weight it charges.
#
#   scripts/bench-rewards.sh [actors=1000]
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup-toolchain.sh >/dev/null
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
exec "$CARGO_TARGET_DIR/debug/reward-closing" "$@"
