#!/usr/bin/env bash
# Checks the runtime upgrade with try-runtime, in process: `runtime/tests/try_runtime.rs` builds
# a live market in the previous release's storage layout, runs every migration with its
# `pre_upgrade`/`post_upgrade` and then every pallet's `try_state` (docs/migrations.md).
#
# The `try-runtime` feature changes every FRAME crate, so it is built in a target directory of
# its own (building it in the workspace's would evict the test build there), and without the
# runtime's WASM blob, which the test does not run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
export CARGO_TARGET_DIR="${LILYPAD_TRY_RUNTIME_TARGET:-$HOME/.cache/lilypad/try-runtime-target}"
sync_build_tree
SKIP_WASM_BUILD=1 cargo test -p lilypad-runtime --features try-runtime --test try_runtime "$@"
