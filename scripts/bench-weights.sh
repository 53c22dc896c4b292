#!/usr/bin/env bash
# Regenerates every protocol pallet's `weights.rs` from measurements: builds lilypad-node with
# `runtime-benchmarks` (in its own target directory, so the test build stays warm) and runs
# `benchmark pallet` for each pallet against the dev chain's runtime.
#
#   bash scripts/bench-weights.sh                 # all pallets, 25 steps x 10 repeats
#   STEPS=50 REPEAT=20 bash scripts/bench-weights.sh registry
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

bash scripts/setup-toolchain.sh >/dev/null
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$HOME/.cache/lilypad/target-bench}"
# frame-benchmarking-cli carries a test runtime for `benchmark storage`, which we do not use;
# its WASM cannot be built from our workspace (it is not a member), so skip it.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
# The `bench-node` profile (Cargo.toml): a debug node's host functions would inflate weights.
echo "== build lilypad-node --features runtime-benchmarks --profile bench-node ($CARGO_TARGET_DIR)"
cargo build --workspace --bins --features lilypad-node/runtime-benchmarks --profile bench-node
# Same profile and features as the node, so the suites reuse its dependencies.
echo "== benchmark test suites in the pallets' mock runtimes"
cargo test --workspace --lib --features lilypad-node/runtime-benchmarks --profile bench-node \
	-- benchmarking
node="$CARGO_TARGET_DIR/bench-node/lilypad-node"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(halo registry providers jobs rewards)
for pallet in "${pallets[@]}"; do
	echo "== benchmark pallet_$pallet"
	"$node" benchmark pallet \
		--chain dev \
		--pallet "pallet_$pallet" \
		--extrinsic '*' \
		--steps "${STEPS:-25}" \
		--repeat "${REPEAT:-10}" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/weight-template.hbs \
		--output "pallets/$pallet/src/weights.rs"
done
