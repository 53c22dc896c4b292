#!/usr/bin/env bash
# Builds the job modules (modules/: cowsay, numeric, model-probe, chat, embed) for wasm32-wasip1
# and copies the `.wasm` files to $LILYPAD_MODULES_OUT (default: $CARGO_TARGET_DIR/modules).
# Needs the wasm32-wasip1 sysroot that scripts/setup-toolchain.sh installs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/modules"
out="${LILYPAD_MODULES_OUT:-$CARGO_TARGET_DIR/modules}"
cargo build -q --release --target wasm32-wasip1 --target-dir "$CARGO_TARGET_DIR/wasip1"
mkdir -p "$out"
for m in cowsay numeric model-probe chat embed; do
	cp "$CARGO_TARGET_DIR/wasip1/wasm32-wasip1/release/$m.wasm" "$out/$m.wasm"
done
echo "$out"
