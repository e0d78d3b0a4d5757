#!/usr/bin/env bash
# Stops the running kube-apiserver (by its PID file: SIGTERM, SIGKILL after KM_STOP_GRACE s), waits
# DOWN_SECONDS (default 0), starts it again with the same command line and waits for /readyz.
# etcd and the other components keep running, as in an API server restart or upgrade.
#   scripts/cluster/restart-apiserver.sh [DOWN_SECONDS]
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

down_seconds="${1:-0}"
pid="$(km_running_pid kube-apiserver)" || km_die "kube-apiserver is not running (no live PID in $(km_pidfile kube-apiserver))"
exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
[[ "$exe" == "$KM_BIN/kube-apiserver" ]] || km_die "PID $pid is not $KM_BIN/kube-apiserver ($exe)"
mapfile -d '' args <"/proc/$pid/cmdline"

kill -TERM "$pid" 2>/dev/null || true
deadline=$((SECONDS + KM_STOP_GRACE))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  km_log "kube-apiserver (pid $pid) still running after ${KM_STOP_GRACE}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
km_log "stopped kube-apiserver (pid $pid)"
sleep "$down_seconds"

setsid "${args[@]}" </dev/null >>"$KM_LOGS/kube-apiserver.log" 2>&1 9>&- &
echo $! >"$(km_pidfile kube-apiserver)"
km_log "started kube-apiserver again (pid $!)"
deadline=$((SECONDS + KM_TIMEOUT_APISERVER))
until curl -fsS -m 5 --cacert "$KM_PKI/ca.crt" "$KM_APISERVER_URL/readyz" >/dev/null 2>&1; do
  kill -0 "$!" 2>/dev/null || km_die "kube-apiserver exited on restart (log: $KM_LOGS/kube-apiserver.log)"
  ((SECONDS < deadline)) || km_die "timed out after ${KM_TIMEOUT_APISERVER}s waiting for kube-apiserver /readyz"
  sleep 0.2
done
km_log "kube-apiserver ready again"
