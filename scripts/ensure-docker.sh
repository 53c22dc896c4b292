#!/usr/bin/env bash
# Makes sure the Docker engine answers: starts `dockerd` when it is installed but not running
# (as root), and fails with a clear message when there is no engine at all.
set -euo pipefail
if docker info >/dev/null 2>&1; then
	exit 0
fi
if command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "[ensure-docker] starting dockerd (log: /tmp/lilypad-dockerd.log)"
	nohup dockerd >/tmp/lilypad-dockerd.log 2>&1 &
	for _ in $(seq 60); do
		docker info >/dev/null 2>&1 && exit 0
		sleep 1
	done
fi
echo "[ensure-docker] no Docker engine answers (docker info failed): the Docker tests need one" >&2
exit 1
