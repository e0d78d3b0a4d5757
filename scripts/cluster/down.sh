#!/usr/bin/env bash
# Stops the control plane started by up.sh: by recorded PID only, SIGTERM first, SIGKILL
# after KM_STOP_GRACE seconds. Removes the PID files; keeps logs and PKI for debugging
# (up.sh recreates them). Safe to run when nothing is running.
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# True if PID is alive and is the binary we started (guards against PID reuse).
is_ours() {
  local pid="$1" name="$2" exe
  kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  [[ -z "$exe" || "$exe" == "$KM_BIN/$name" || "$exe" == "$KM_BIN/$name (deleted)" ]]
}

stopped_any=0

# The simulated kubelets first (they talk to the apiserver until they stop).
sim_pidfile="$(km_pidfile kubemend-sim)"
if [[ -f "$sim_pidfile" ]]; then
  pid="$(cat "$sim_pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && km_sim_is_ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + KM_STOP_GRACE))
    while km_sim_is_ours "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if km_sim_is_ours "$pid"; then
      km_log "kubemend-sim (pid $pid) still running after ${KM_STOP_GRACE}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    km_log "stopped kubemend-sim (pid $pid)"
    stopped_any=1
  fi
  rm -f "$sim_pidfile"
fi

for ((i = ${#KM_COMPONENTS[@]} - 1; i >= 0; i--)); do
  name="${KM_COMPONENTS[i]}"
  pidfile="$(km_pidfile "$name")"
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && is_ours "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + KM_STOP_GRACE))
    while is_ours "$pid" "$name" && ((SECONDS < deadline)); do sleep 0.2; done
    if is_ours "$pid" "$name"; then
      km_log "$name (pid $pid) still running after ${KM_STOP_GRACE}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while is_ours "$pid" "$name"; do sleep 0.1; done
    fi
    km_log "stopped $name (pid $pid)"
    stopped_any=1
  fi
  rm -f "$pidfile"
done
((stopped_any)) || km_log "nothing was running"
exit 0
