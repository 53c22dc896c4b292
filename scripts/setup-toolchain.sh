#!/usr/bin/env bash
# Installs the toolchain Lilypad builds with, on a fresh Debian 12 machine with rustup.
#
# rustup cannot download targets here, so the runtime's WASM is built with Debian's Rust
# (`rustc-web`, 1.96, sysroot /usr) and target libraries compiled once from `rust-web-src`
# with -Zbuild-std and installed into that sysroot. `rust-toolchain.toml` points rustup's
# `cargo` at /usr inside the repository.
#
# Idempotent: a second run installs nothing and rebuilds nothing. When `rustc -vV` differs
# from the stamp written after the last sysroot build, the target libraries are rebuilt and
# stale `wbuild` output (runtime WASM built against the old libraries) is removed.
set -euo pipefail

RUSTC=/usr/bin/rustc
CARGO=/usr/bin/cargo
SYSROOT_LIB=/usr/lib/rustlib
STAMP="$SYSROOT_LIB/lilypad-sysroot.stamp"
# The target directory the project builds into (see .cargo/config.toml and .ci/run).
TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lilypad/target}"

PACKAGES=(rustc-web cargo-web rust-web-src lld-22 protobuf-compiler clang libclang-dev
	rustfmt-web rust-web-clippy wasi-libc rsync)

log() { echo "[setup-toolchain] $*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
	log "Debian packages present"
fi

want="$($RUSTC -vV)"
# Bitcode in the rlibs: the runtime blob is linked with LTO.
export RUSTC_BOOTSTRAP=1 RUSTC=$RUSTC RUSTDOC=/usr/bin/rustdoc
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

build_target() { # target, kind (--lib|--bin), build-std crates, rustflags
	local target=$1 kind=$2 std=$3 dir="$work/$1"
	(cd "$work" && $CARGO new -q "$kind" --name sysroot_probe "$target")
	# Only the standard library's rlibs are wanted; the probe itself must build without std.
	[ "$kind" == --lib ] && echo '#![no_std]' >"$dir/src/lib.rs"
	(cd "$dir" && RUSTFLAGS="$4" $CARGO build -q --release -Zbuild-std="$std" --target "$target")
	as_root rm -rf "$SYSROOT_LIB/$target/lib"
	as_root mkdir -p "$SYSROOT_LIB/$target/lib"
	as_root cp "$dir/target/$target/release/deps/"*.rlib "$SYSROOT_LIB/$target/lib/"
	as_root rm -f "$SYSROOT_LIB/$target/lib/"libsysroot_probe-*.rlib
	log "installed $target"
}

# The runtime's targets.
have="$(cat "$STAMP" 2>/dev/null || true)"
have_libs=true
for t in wasm32v1-none wasm32-unknown-unknown; do
	ls "$SYSROOT_LIB/$t/lib/"libcore-*.rlib >/dev/null 2>&1 || have_libs=false
done
if [ "$want" == "$have" ] && $have_libs; then
	log "sysroot target libraries up to date for $($RUSTC -V)"
else
	log "building sysroot target libraries for $($RUSTC -V)"
	build_target wasm32v1-none --lib core,alloc "-C embed-bitcode=yes"
	build_target wasm32-unknown-unknown --bin std,panic_abort "-C embed-bitcode=yes"
	# Cargo does not notice changed sysroot rlibs: drop runtime WASM built against old ones.
	if [ -d "$TARGET_DIR" ]; then
		find "$TARGET_DIR" -maxdepth 2 -type d -name wbuild -prune -exec rm -rf {} + || true
		log "cleared stale wbuild output under $TARGET_DIR"
	fi
	echo "$want" | as_root tee "$STAMP" >/dev/null
fi

# Job modules' target (`wasm32-wasip1`, the example modules under modules/): std linked
# against Debian's wasi-libc, which goes into the target's self-contained directory so that a
# plain `cargo build --target wasm32-wasip1` links with no extra flags (toolchain note).
WASI_STAMP="$SYSROOT_LIB/wasm32-wasip1/lilypad-sysroot.stamp"
if [ "$want" == "$(cat "$WASI_STAMP" 2>/dev/null || true)" ] &&
	ls "$SYSROOT_LIB/wasm32-wasip1/lib/"libstd-*.rlib >/dev/null 2>&1; then
	log "wasm32-wasip1 libraries up to date"
else
	build_target wasm32-wasip1 --bin std,panic_abort \
		"-C link-self-contained=no -L /usr/lib/wasm32-wasi -C link-arg=/usr/lib/wasm32-wasi/crt1-command.o"
	as_root mkdir -p "$SYSROOT_LIB/wasm32-wasip1/lib/self-contained"
	as_root cp /usr/lib/wasm32-wasi/*.o /usr/lib/wasm32-wasi/*.a \
		"$SYSROOT_LIB/wasm32-wasip1/lib/self-contained/"
	echo "$want" | as_root tee "$WASI_STAMP" >/dev/null
fi
# The test runner (scripts/test.sh): preinstalled on these machines, built from crates.io
# where it is missing.
if command -v cargo-nextest >/dev/null 2>&1; then
	log "cargo-nextest present ($(cargo-nextest --version 2>/dev/null | head -n1))"
else
	log "installing cargo-nextest from crates.io"
	(cd / && cargo install --locked cargo-nextest)
fi
log "done"
