#!/usr/bin/env bash
# Sets up the toolchain, builds lilypad-node and starts a dev chain in the background:
# one validator (Alice) producing a block every 2 s and finalizing it, JSON-RPC on port 9944,
# solving (matching jobs) as Alice.
#
#   scripts/dev.sh           start (or report the running one)
#   scripts/dev.sh stop      stop it
#   scripts/dev.sh logs      follow its log
#
# Environment: RPC_PORT (9944), P2P_PORT (30333), PROMETHEUS_PORT (9615).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

STATE_DIR="${LILYPAD_DEV_DIR:-$HOME/.cache/lilypad/dev}"
PID_FILE="$STATE_DIR/node.pid"
LOG="$STATE_DIR/node.log"
RPC_PORT="${RPC_PORT:-9944}"
mkdir -p "$STATE_DIR"

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

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

case "${1:-start}" in
stop)
	if running; then
		kill "$(cat "$PID_FILE")" && echo "stopped dev node $(cat "$PID_FILE")"
		rm -f "$PID_FILE"
	else
		echo "no dev node running"
	fi
	exit 0
	;;
logs)
	exec tail -f "$LOG"
	;;
start) ;;
*)
	echo "usage: $0 [start|stop|logs]" >&2
	exit 2
	;;
esac

if running; then
	echo "dev node already running (pid $(cat "$PID_FILE")), RPC on http://127.0.0.1:$RPC_PORT"
	exit 0
fi

bash scripts/setup-toolchain.sh
cargo build --workspace --bins

# --tmp: a dev chain starts from genesis every time. --solver: Alice's solver key, so the
# node's offchain worker matches jobs.
setsid "$NODE_BIN" --dev --tmp --solver \
	--rpc-port "$RPC_PORT" --port "${P2P_PORT:-30333}" \
	--prometheus-port "${PROMETHEUS_PORT:-9615}" >"$LOG" 2>&1 </dev/null &
echo $! >"$PID_FILE"
echo "started lilypad-node --dev (pid $!), log: $LOG"

for _ in $(seq 1 180); do
	if ! running; then
		echo "lilypad-node exited; last log lines:" >&2
		tail -n 40 "$LOG" >&2
		exit 1
	fi
	n=$(finalized_number 2>/dev/null || true)
	if [ -n "$n" ] && [ "$n" -ge 2 ]; then
		echo "dev chain is producing and finalizing blocks: finalized #$n"
		echo "try: curl -s -H 'Content-Type: application/json' -d '{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"chain_getHeader\",\"params\":[]}' http://127.0.0.1:$RPC_PORT"
		echo "stop with: scripts/dev.sh stop"
		exit 0
	fi
	sleep 1
done
echo "no finalized block after 180 s; last log lines:" >&2
tail -n 40 "$LOG" >&2
exit 1
