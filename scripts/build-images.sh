#!/usr/bin/env bash
# Builds the example job modules (cowsay, numeric, model-probe, chat, embed) and the hostile test module as static
# binaries, each into a `FROM scratch` Docker image run as `nobody`, and `docker save`s each image
# by its id to $LILYPAD_IMAGES_OUT (default: $CARGO_TARGET_DIR/images): `<name>.tar` is what a
# module's `archive_digest` (blake3) pins, `<name>.id` the image id (`sha256:<config digest>`).
# There is no registry here: images are built locally and moved as tarballs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/modules"
out="${LILYPAD_IMAGES_OUT:-$CARGO_TARGET_DIR/images}"
native="$CARGO_TARGET_DIR/native-modules"
host=x86_64-unknown-linux-gnu
# No musl target here: a static glibc binary (`+crt-static` on the gnu target).
small=(cowsay numeric hostile model-probe)
RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release --target "$host" --target-dir "$native" \
	"${small[@]/#/--package=}"
# `chat` and `embed` natively are the same code as their WASM builds, multi-threaded (candle's
# kernels use every core the container's CPU quota allows) and built for x86-64-v3 (AVX2, FMA,
# F16C: every x86 server CPU since 2015), whose SIMD candle's quantized and float kernels pick
# at compile time; on the baseline x86-64 they fall back to scalar loops. Their own target
# directory: other flags, other artifacts.
ai=(chat embed)
RUSTFLAGS="-C target-feature=+crt-static -C target-cpu=x86-64-v3" cargo build -q --release \
	--target "$host" --target-dir "$native-v3" "${ai[@]/#/--package=}"
mkdir -p "$out"
for m in "${small[@]}" "${ai[@]}"; do
	ctx="$out/context-$m"
	rm -rf "$ctx" && mkdir -p "$ctx"
	if [[ " ${ai[*]} " == *" $m "* ]]; then
		cp "$native-v3/$host/release/$m" "$ctx/$m"
	else
		cp "$native/$host/release/$m" "$ctx/$m"
	fi
	cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY $m /$m
USER 65534:65534
ENTRYPOINT ["/$m"]
DOCKERFILE
	# The classic builder: no BuildKit (nor its plugin) needed for a scratch image.
	id=$(DOCKER_BUILDKIT=0 docker build -q --label "io.lilypad.module=$m" "$ctx" 2>/dev/null | tail -n1)
	docker save -o "$out/$m.tar" "$id"
	echo "$id" >"$out/$m.id"
	rm -rf "$ctx"
done
echo "$out"
