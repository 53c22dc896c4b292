#!/usr/bin/env bash
# The chat model in the agent's WASM executor on the real Q8_0 weights (tests/src/bin/chat-bench.rs):
# compile and cache-load times of chat.wasm, weights loading, time to the first token, tokens per
# second, fuel per token.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
LILYPAD_MODEL_PACKAGES=$(bash scripts/setup-models.sh | sed -n 's/^PACKAGES=//p')
LILYPAD_MODULES_DIR=$(bash scripts/build-modules.sh)
export LILYPAD_MODEL_PACKAGES LILYPAD_MODULES_DIR
# CHAT_NATIVE=<a native chat binary> adds the same completion natively, as a ratio.
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
"$CARGO_TARGET_DIR/debug/chat-bench"
