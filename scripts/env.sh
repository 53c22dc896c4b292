# Sourced by the project's scripts: one toolchain and one target directory for every build.
#
# The target directory lives outside the checkout so that fresh clones (CI clones anew each
# run) rebuild incrementally instead of from nothing.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lilypad/target}"
# Two cores here; more jobs only swap memory for nothing.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
NODE_BIN="$CARGO_TARGET_DIR/debug/lilypad-node"
export NODE_BIN
