#!/usr/bin/env bash
# A working Lilypad dev network in one command: sets up the toolchain, builds everything,
# starts a dev chain (`lilypad-node --dev --solver`: Alice validates, finalizes and matches
# jobs, a block every 2 s) and a resource provider (`lilypad-rp --dev`: Bob, WASM and Docker
# jobs), publishes the example modules and the chat model, runs a first job through the
# `lilypad` CLI, then asks the chat model a question, its answer streaming into the terminal.
#
#   scripts/dev.sh           start (or reuse the running network) and run the first job
#   scripts/dev.sh stop      stop the node and the agent
#   scripts/dev.sh logs      follow the node's and the agent's logs
#
# Environment: RPC_PORT (9944), P2P_PORT (30333), PROMETHEUS_PORT (9615), RP_PORT (8080),
# LILYPAD_DEV_DIR (~/.cache/lilypad/dev: pids, logs, the agent's data).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

STATE_DIR="${LILYPAD_DEV_DIR:-$HOME/.cache/lilypad/dev}"
NODE_PID="$STATE_DIR/node.pid"
AGENT_PID="$STATE_DIR/agent.pid"
NODE_LOG="$STATE_DIR/node.log"
AGENT_LOG="$STATE_DIR/agent.log"
RPC_PORT="${RPC_PORT:-9944}"
RP_PORT="${RP_PORT:-8080}"
BIN="$CARGO_TARGET_DIR/debug"
export LILYPAD_NODE="ws://127.0.0.1:$RPC_PORT"
mkdir -p "$STATE_DIR"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
	local what=$1 pid_file=$2
	if alive "$pid_file"; then
		kill "$(cat "$pid_file")" && echo "stopped $what $(cat "$pid_file")"
	else
		echo "no $what running"
	fi
	rm -f "$pid_file"
}

case "${1:-start}" in
stop)
	stop "rp-agent" "$AGENT_PID"
	stop "dev node" "$NODE_PID"
	exit 0
	;;
logs)
	exec tail -f "$NODE_LOG" "$AGENT_LOG"
	;;
start) ;;
*)
	echo "usage: $0 [start|stop|logs]" >&2
	exit 2
	;;
esac

rpc() {
	curl -sf -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":[${2:-}]}" \
		"http://127.0.0.1:$RPC_PORT"
}

finalized_number() {
	local hash
	hash=$(rpc chain_getFinalizedHead | sed -E 's/.*"result":"([^"]+)".*/\1/') || return 1
	rpc chain_getHeader "\"$hash\"" | sed -E 's/.*"number":"(0x[0-9a-f]+)".*/\1/' |
		xargs printf '%d\n' 2>/dev/null
}

# Waits up to $2 seconds for `$1` to succeed while the process in pid file $3 lives.
wait_for() {
	local check=$1 secs=$2 pid_file=$3 log=$4
	for _ in $(seq 1 "$secs"); do
		if ! alive "$pid_file"; then
			echo "it exited; last log lines ($log):" >&2
			tail -n 40 "$log" >&2
			exit 1
		fi
		if eval "$check" >/dev/null 2>&1; then return 0; fi
		sleep 1
	done
	echo "timed out waiting for: $check; last log lines ($log):" >&2
	tail -n 40 "$log" >&2
	exit 1
}

bash scripts/setup-toolchain.sh
# The same build as scripts/test.sh, from the same build tree, so the two share one set of
# artifacts.
(sync_build_tree && cargo build --workspace --bins --tests)
LILYPAD_MODULES_OUT="$ROOT/modules/dist" bash scripts/build-modules.sh >/dev/null
# The chat and embedding models' weights (docs/models/), as packages to publish.
PACKAGES=$(bash scripts/setup-models.sh | sed -n 's/^PACKAGES=//p')
docker_up=false
if docker version >/dev/null 2>&1; then
	docker_up=true
	LILYPAD_IMAGES_OUT="$ROOT/modules/dist" bash scripts/build-images.sh >/dev/null
else
	echo "no Docker engine: the Docker example modules are skipped (WASM jobs still run)"
fi

if alive "$NODE_PID"; then
	echo "dev node already running (pid $(cat "$NODE_PID")), RPC on http://127.0.0.1:$RPC_PORT"
else
	# --tmp: a dev chain starts from genesis every time, so the agent's journal goes too.
	rm -rf "$STATE_DIR/rp"
	stop "rp-agent" "$AGENT_PID" >/dev/null
	setsid "$BIN/lilypad-node" --dev --tmp --solver \
		--rpc-port "$RPC_PORT" --port "${P2P_PORT:-30333}" \
		--prometheus-port "${PROMETHEUS_PORT:-9615}" >"$NODE_LOG" 2>&1 </dev/null &
	echo $! >"$NODE_PID"
	echo "started lilypad-node --dev --solver (pid $!), log: $NODE_LOG"
	wait_for '[ "$(finalized_number)" -ge 2 ]' 180 "$NODE_PID" "$NODE_LOG"
	echo "dev chain is producing and finalizing blocks"
fi

# Alice (sudo) shortens the challenge window so jobs settle in seconds, and stakes as the
# solver her node matches jobs for.
"$BIN/lilypad" --key //Alice dev init

if alive "$AGENT_PID"; then
	echo "rp-agent already running (pid $(cat "$AGENT_PID")), content store on http://127.0.0.1:$RP_PORT"
else
	# Two job slots: on a 2-core machine a slot is then one core, what `chat` asks for.
	setsid "$BIN/lilypad-rp" --dev --data-dir "$STATE_DIR/rp" --listen "127.0.0.1:$RP_PORT" \
		--capacity 2 >"$AGENT_LOG" 2>&1 </dev/null &
	echo $! >"$AGENT_PID"
	echo "started lilypad-rp --dev (pid $!), log: $AGENT_LOG"
fi
provider=$("$BIN/lilypad-rp" --dev key)
wait_for "\"$BIN/lilypad\" provider status $provider --json | grep -q '\"status\":\"active\"'" 120 "$AGENT_PID" "$AGENT_LOG"
echo "resource provider $provider is active"

# Publishing again is a no-op; the artifacts go to the agent's content store either way.
for m in modules/cowsay modules/numeric; do
	"$BIN/lilypad" --key //Alice module publish "$m"
done
if $docker_up; then
	for m in modules/cowsay/docker modules/numeric/docker; do
		"$BIN/lilypad" --key //Alice module publish "$m"
	done
fi

# The chat model: the Q4_1 weights as they ship, the Q8_0 ones derived from them (the parent
# is published first), streamed to the agent's store; then the module that runs them.
# The embedding model likewise (one directory of files, published as its canonical tar).
for m in smollm2-135m-instruct smollm2-135m-instruct-q8 all-minilm-l6-v2; do
	"$BIN/lilypad" --key //Alice model publish "$PACKAGES/$m"
done
for m in modules/chat modules/embed; do
	"$BIN/lilypad" --key //Alice module publish "$m"
done

echo
echo '$ lilypad run cowsay -i Message="hello from lilypad"'
"$BIN/lilypad" run cowsay -i Message="hello from lilypad"

# The answer streams into the terminal token by token, then the job settles on chain.
QUESTION='[{"role":"user","content":"What is a frog? Answer in two sentences."}]'
echo
echo "\$ lilypad run chat -i messages='$QUESTION'"
"$BIN/lilypad" run chat -i messages="$QUESTION"

cat <<EOF

The dev network is up: node ws://127.0.0.1:$RPC_PORT, provider $provider.
Run more jobs (signing as //Alice; \`lilypad account new\` makes a key of your own):
  export PATH="$BIN:\$PATH"
  lilypad run cowsay -i Message="moo"
  lilypad run chat -i messages='[{"role":"user","content":"Name three ponds."}]' -i max_tokens=64
  lilypad run embed -i texts='["a frog sings", "a toad croaks"]' --json
  lilypad run numeric -i rounds=100000 --json$($docker_up && echo '
  lilypad run cowsay-docker -i Message="hello from a container"')
  lilypad job list; lilypad account balance; lilypad module list
Logs: scripts/dev.sh logs    Stop: scripts/dev.sh stop
EOF
