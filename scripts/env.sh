# Sourced by the project's scripts: one toolchain, one target directory and one build tree for
# every build.
#
# The target directory lives outside the checkout so that fresh clones (CI clones anew each
# run) rebuild incrementally instead of from nothing.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lilypad/target}"
# Two cores here; more jobs only swap memory for nothing.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Where the workspace is built from (see `sync_build_tree`).
export LILYPAD_BUILD_TREE="${LILYPAD_BUILD_TREE:-$HOME/.cache/lilypad/src}"
NODE_BIN="$CARGO_TARGET_DIR/debug/lilypad-node"
export NODE_BIN

# Copies the checkout (without `.git` and what git ignores) to $LILYPAD_BUILD_TREE, writing only
# the files whose content differs, and leaves the shell there. Cargo's fingerprints of the
# workspace's own crates hold their path and file times, and a clone makes every file new: a
# fresh clone built where it lies rebuilds every workspace crate and the runtime's WASM. Built
# from one fixed place whose unchanged files keep their times, only what changed is rebuilt.
sync_build_tree() {
	mkdir -p "$LILYPAD_BUILD_TREE"
	# --checksum without --times: a file is copied (and so gets a new time) only when its
	# content differs.
	rsync --recursive --links --perms --checksum --delete \
		--exclude=/.git --filter=':- .gitignore' "$ROOT/" "$LILYPAD_BUILD_TREE/"
	# The copy has no `.git`: the node's `--version` learns its commit from here.
	if commit=$(git -C "$ROOT" rev-parse --short=11 HEAD 2>/dev/null); then
		export SUBSTRATE_CLI_GIT_COMMIT_HASH="$commit"
	fi
	cd "$LILYPAD_BUILD_TREE"
}
