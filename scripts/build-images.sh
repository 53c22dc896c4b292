#!/usr/bin/env bash
# Builds the example job modules (cowsay, numeric, model-probe) and the hostile test module as static
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
# Only the imaged modules: `chat` and `embed` are WASM only.
RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release --target "$host" --target-dir "$native" \
	-p cowsay -p numeric -p hostile -p model-probe
mkdir -p "$out"
for m in cowsay numeric hostile model-probe; do
	ctx="$out/context-$m"
	rm -rf "$ctx" && mkdir -p "$ctx"
	cp "$native/$host/release/$m" "$ctx/$m"
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
