#!/usr/bin/env bash
# Builds the runtime WASM of the previous release, the commit named in
# runtime/previous-release, and prints the blob's path. The runtime-upgrade test starts a
# chain on it and upgrades to this checkout's runtime.
#
# Its sources and target directory live under ~/.cache/lilypad/previous-runtime, apart from
# the workspace's target directory, so building it evicts nothing there; once built, the blob
# is reused.
set -euo pipefail
source "$(dirname "$0")/env.sh"

commit=$(grep -v '^#' "$ROOT/runtime/previous-release" | head -n 1 | tr -d '[:space:]')
base="${LILYPAD_PREVIOUS_RUNTIME_DIR:-$HOME/.cache/lilypad/previous-runtime}"
blob="$base/lilypad_runtime-$commit.wasm"
if [ -s "$blob" ]; then
	echo "$blob"
	exit 0
fi
if ! git -C "$ROOT" cat-file -e "$commit^{commit}" 2>/dev/null; then
	echo "previous release $commit is not in this clone's history (a shallow clone?):" \
		"run \`git fetch --unshallow\`" >&2
	exit 1
fi

echo "building the runtime of $commit (the previous release) in $base" >&2
# One fixed source path: cargo's fingerprints stay valid between runs.
src="$base/src"
rm -rf "$src"
mkdir -p "$src"
git -C "$ROOT" archive "$commit" | tar -x -C "$src"
# `check` compiles the native crates only as far as the build script needs; the build script
# builds the WASM blob in full.
(cd "$src" && CARGO_TARGET_DIR="$base/target" cargo check -p lilypad-runtime >&2)
# The blob the node would embed (`WASM_BINARY`): the compressed one when the builder made it.
wbuild="$base/target/debug/wbuild/lilypad-runtime"
if [ -f "$wbuild/lilypad_runtime.compact.compressed.wasm" ]; then
	cp "$wbuild/lilypad_runtime.compact.compressed.wasm" "$blob"
else
	cp "$wbuild/lilypad_runtime.wasm" "$blob"
fi
echo "$blob"
