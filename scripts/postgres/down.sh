#!/usr/bin/env bash
# Stops the PostgreSQL started by up.sh: `pg_ctl stop -m fast`, then SIGTERM / SIGKILL by the
# recorded PID (checked to be a postgres binary) if it does not go. Keeps the data directory so
# the next up.sh is quick; `down.sh --purge` removes .state/postgres entirely.
# Safe to run when nothing is running.
set -euo pipefail
# shellcheck source=scripts/postgres/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

km_pg_locate
purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  "") ;;
  *) km_pg_die "usage: $0 [--purge]" ;;
esac

if pid="$(km_pg_running_pid)"; then
  if PG_BIN="$(km_pg_find_bin)"; then
    km_pg_as_server "$PG_BIN/pg_ctl" -D "$KM_PG_DATA" -m fast -w -t "$KM_PG_TIMEOUT" stop >/dev/null 2>&1 || true
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  if kill -0 "$pid" 2>/dev/null; then
    km_pg_log "postgres (pid $pid) still running after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  km_pg_log "stopped postgres (pid $pid)"
else
  km_pg_log "postgres is not running"
fi
rm -f "$KM_PG_PIDFILE"

if ((purge)); then
  rm -rf "$KM_PG_STATE"
  [[ "$KM_PG_SOCKET_DIR" == "$KM_PG_STATE"/* ]] || rm -rf "$KM_PG_SOCKET_DIR"
  [[ "$KM_PG_DATA" == "$KM_PG_STATE"/* ]] || rm -rf "$(dirname "$KM_PG_DATA")"
  km_pg_log "removed ${KM_PG_STATE#"$KM_REPO_ROOT"/}"
fi
