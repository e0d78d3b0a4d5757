# shellcheck shell=bash
# Shared settings for scripts/postgres/*.sh. Sourced, never executed.
# Every value can be overridden from the environment before calling a script.

KM_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export KM_REPO_ROOT

# --- where the server keeps everything (git-ignored) ---
export KM_PG_STATE="${KM_PG_STATE:-$KM_REPO_ROOT/.state/postgres}"
export KM_PG_DATA="$KM_PG_STATE/data"
export KM_PG_LOGS="$KM_PG_STATE/log"
export KM_PG_PIDFILE="$KM_PG_STATE/postgres.pid"
export KM_PG_URL_FILE="$KM_PG_STATE/url"
export KM_PG_PASSWORD_FILE="$KM_PG_STATE/password"

# --- address (127.0.0.1 only), database and login ---
export KM_PG_HOST=127.0.0.1
export KM_PG_PORT="${KM_PG_PORT:-55432}"
export KM_PG_DATABASE="${KM_PG_DATABASE:-kubemend}"
export KM_PG_ROLE="${KM_PG_ROLE:-kubemend}"
# PostgreSQL refuses to run as root: as root, the server runs as this system user.
export KM_PG_OS_USER="${KM_PG_OS_USER:-postgres}"

# --- timeouts (seconds) ---
export KM_PG_TIMEOUT="${KM_PG_TIMEOUT:-60}"

# The Unix socket (superuser access for these scripts only) lives beside the data unless that
# path is too long for a socket address (108 bytes), then under /tmp.
if ((${#KM_PG_STATE} + 20 < 100)); then
  export KM_PG_SOCKET_DIR="${KM_PG_SOCKET_DIR:-$KM_PG_STATE/run}"
else
  export KM_PG_SOCKET_DIR="${KM_PG_SOCKET_DIR:-/tmp/kubemend-pg-$KM_PG_PORT}"
fi

# Run as root, the server's user must be able to reach .state/postgres. When the checkout lies
# under a private directory (e.g. /root), data, logs and socket move to /var/tmp instead (the URL,
# password and PID file stay in .state/postgres). Call after the server's user exists.
km_pg_locate() {
  [[ $(id -u) -eq 0 ]] || return 0
  id -u "$KM_PG_OS_USER" >/dev/null 2>&1 || return 0
  if ! runuser -u "$KM_PG_OS_USER" -- test -x "$KM_PG_STATE" 2>/dev/null; then
    local outside
    outside="/var/tmp/kubemend-postgres-$(printf '%s' "$KM_PG_STATE" | sha256sum | cut -c1-12)"
    KM_PG_DATA="$outside/data"
    KM_PG_LOGS="$outside/log"
    KM_PG_SOCKET_DIR="$outside/run"
    export KM_PG_DATA KM_PG_LOGS KM_PG_SOCKET_DIR
  fi
}

km_pg_log() { printf '[postgres %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
km_pg_die() { printf '[postgres] ERROR: %s\n' "$*" >&2; exit 1; }

# The newest /usr/lib/postgresql/<version>/bin with a server in it (KM_PG_BIN overrides).
km_pg_find_bin() {
  if [[ -n "${KM_PG_BIN:-}" ]]; then
    [[ -x "$KM_PG_BIN/postgres" ]] || return 1
    printf '%s' "$KM_PG_BIN"
    return 0
  fi
  local dir best
  # Highest version number (sort -V: 9 before 10), among directories that have a server.
  best="$(for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/postgres" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then printf '%s\n' "$dir"; fi
  done | sort -V | tail -n 1)"
  [[ -n "$best" ]] || return 1
  printf '%s' "$best"
}

# Runs a server command as the server's user (directly when not root).
km_pg_as_server() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$KM_PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

# The PID of the running postmaster of our data directory, if it is alive and a postgres binary.
km_pg_running_pid() {
  local pid exe
  [[ -f "$KM_PG_DATA/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$KM_PG_DATA/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  [[ "$exe" == */postgres || "$exe" == */postgres" (deleted)" ]] || return 1
  printf '%s' "$pid"
}
