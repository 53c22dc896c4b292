#!/usr/bin/env bash
# Sets up the toolchain and runs every test: formatting, pallet and runtime unit tests, the
# metadata check and the end-to-end tests against a real `lilypad-node --dev`.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

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

echo "== cargo fmt --check"
cargo fmt --all -- --check

# The end-to-end tests start this binary (they rebuild it if stale); building it first keeps
# the compile out of their timeouts. `--tests`: the same features as `cargo test` below, so
# nothing is built twice.
echo "== build lilypad-node, lilypad-rp and the tests"
cargo build --workspace --bins --tests

# The runtime-upgrade test starts a chain on the previous release's runtime: build it here, in
# its own target directory, outside the test's timeout (a no-op once built).
echo "== the previous release's runtime"
bash scripts/previous-runtime.sh

# One test at a time: end-to-end tests start nodes, and two cores are all there is.
echo "== cargo test"
cargo test --workspace -- --test-threads=1
