#!/usr/bin/env bash
# Runs the `--chain local` network on this machine: Alice, Bob, Charlie and Dave as validators,
# each with its own base path, node key, p2p/RPC/Prometheus ports, the others as bootnodes.
#
#   chain-spec/local-network.sh start     build lilypad-node if needed, start all four
#   chain-spec/local-network.sh stop      stop all four (their databases stay)
#   chain-spec/local-network.sh status    show who runs and their best/finalized blocks
#   chain-spec/local-network.sh purge     stop and delete the databases and keys
#
# Ports: validator i (0..3) uses p2p 30333+i, RPC 9944+i, Prometheus 9615+i.
# State (base paths, node keys, logs, pids): $LILYPAD_LOCAL_DIR (~/.cache/lilypad/local).
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"

DIR="${LILYPAD_LOCAL_DIR:-$HOME/.cache/lilypad/local}"
NAMES=(alice bob charlie dave)

pid_of() { cat "$DIR/$1/node.pid" 2>/dev/null || true; }
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

rpc() { # port method [params]
	curl -sf -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":[${3:-}]}" \
		"http://127.0.0.1:$1"
}
number_of() { sed -E 's/.*"number":"(0x[0-9a-f]+)".*/\1/' | xargs printf '%d' 2>/dev/null; }

stop_all() {
	for n in "${NAMES[@]}"; do
		if running "$n"; then
			kill "$(pid_of "$n")" && echo "stopped $n ($(pid_of "$n"))"
		fi
		rm -f "$DIR/$n/node.pid"
	done
}

case "${1:-}" in
start) ;;
stop)
	stop_all
	exit 0
	;;
purge)
	stop_all
	rm -rf "$DIR"
	echo "deleted $DIR"
	exit 0
	;;
status)
	for i in "${!NAMES[@]}"; do
		n=${NAMES[$i]}
		if running "$n"; then
			best=$(rpc $((9944 + i)) chain_getHeader | number_of || echo '?')
			fin_hash=$(rpc $((9944 + i)) chain_getFinalizedHead | sed -E 's/.*"result":"([^"]+)".*/\1/')
			fin=$(rpc $((9944 + i)) chain_getHeader "\"$fin_hash\"" | number_of || echo '?')
			echo "$n: running (pid $(pid_of "$n")), RPC :$((9944 + i)), best #$best, finalized #$fin"
		else
			echo "$n: stopped"
		fi
	done
	exit 0
	;;
*)
	echo "usage: $0 start|stop|status|purge" >&2
	exit 2
	;;
esac

bash scripts/setup-toolchain.sh >/dev/null
cargo build --workspace --bins

# A node key per validator, kept across restarts so that its peer id (and so the bootnode
# addresses the others use) does not change.
declare -A PEER
for n in "${NAMES[@]}"; do
	mkdir -p "$DIR/$n"
	[ -f "$DIR/$n/node-key" ] || "$NODE_BIN" key generate-node-key --file "$DIR/$n/node-key" 2>/dev/null
	PEER[$n]=$("$NODE_BIN" key inspect-node-key --file "$DIR/$n/node-key")
done

for i in "${!NAMES[@]}"; do
	n=${NAMES[$i]}
	if running "$n"; then
		echo "$n already running (pid $(pid_of "$n"))"
		continue
	fi
	bootnodes=()
	for j in "${!NAMES[@]}"; do
		[ "$j" == "$i" ] && continue
		bootnodes+=(--bootnodes "/ip4/127.0.0.1/tcp/$((30333 + j))/p2p/${PEER[${NAMES[$j]}]}")
	done
	# --alice etc. put the validator's well-known dev session keys into its keystore.
	setsid "$NODE_BIN" --chain local --validator "--$n" --name "$n" \
		--base-path "$DIR/$n" --node-key-file "$DIR/$n/node-key" \
		--port $((30333 + i)) --rpc-port $((9944 + i)) --prometheus-port $((9615 + i)) \
		"${bootnodes[@]}" >"$DIR/$n/node.log" 2>&1 </dev/null &
	echo $! >"$DIR/$n/node.pid"
	echo "started $n (pid $!): RPC :$((9944 + i)), p2p :$((30333 + i)), log $DIR/$n/node.log"
done
echo "check progress with: $0 status"
