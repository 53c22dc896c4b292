#!/usr/bin/env bash
# The AI modules on their real weights (tests/src/bin/ai-bench.rs): chat.wasm's compile and
# cache-load times, weights loading, time to the first token, tokens per second, fuel per token,
# memory with two completions at once; embed's texts per second; each against the same module
# built natively (the binaries the Docker images hold), as a WASM/native ratio.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
models=$(bash scripts/setup-models.sh)
LILYPAD_MODEL_PACKAGES=$(sed -n 's/^PACKAGES=//p' <<<"$models")
LILYPAD_MODULES_DIR=$(bash scripts/build-modules.sh)
LILYPAD_IMAGES_DIR=$(bash scripts/build-images.sh)
export LILYPAD_MODEL_PACKAGES LILYPAD_MODULES_DIR LILYPAD_IMAGES_DIR
# The static binaries scripts/build-images.sh put in the images.
native="$CARGO_TARGET_DIR/native-modules-v3/x86_64-unknown-linux-gnu/release"
export CHAT_NATIVE="$native/chat" EMBED_NATIVE="$native/embed"
# Built from the build tree, as scripts/test.sh builds (scripts/env.sh).
(sync_build_tree && cargo build -q --workspace --bins --tests)
"$CARGO_TARGET_DIR/debug/ai-bench"
