#!/usr/bin/env bash
# Starts a real PostgreSQL for kubemend's tests on 127.0.0.1:$KM_PG_PORT (default 55432).
#
#   scripts/postgres/up.sh      (idempotent: if it is already up, prints the URL and exits 0)
#
# Installs Debian's `postgresql` package when no server binaries are found (as root), creates a
# cluster in .state/postgres/data on first use (as the `postgres` system user when run as root:
# PostgreSQL refuses root), starts it, waits until it accepts connections, and ensures a role and
# a database `kubemend` (password login over TCP). Prints the connection URL and writes it to
# .state/postgres/url. The PID of the server is in .state/postgres/postgres.pid; logs in log/.
set -euo pipefail
# shellcheck source=scripts/postgres/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# --- server binaries: install Debian's package if missing -------------------------------------
install_postgresql() {
  [[ $(id -u) -eq 0 ]] || km_pg_die "PostgreSQL is not installed (run as root, or: apt-get install -y postgresql)"
  local before after cluster
  before="$(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }' || true)"
  km_pg_log "installing postgresql with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # The package may create and start a cluster of its own on 5432: stop any it started, so that
  # nothing but our server is left running.
  after="$(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }' || true)"
  for cluster in $after; do
    if ! grep -qx "$cluster" <<<"$before"; then
      km_pg_log "stopping the cluster $cluster that the package started"
      pg_ctlcluster "${cluster%%/*}" "${cluster#*/}" stop || true
    fi
  done
}

PG_BIN="$(km_pg_find_bin)" || { install_postgresql; PG_BIN="$(km_pg_find_bin)" || km_pg_die "no PostgreSQL server found under /usr/lib/postgresql/*/bin after installing"; }
export PATH="$PG_BIN:$PATH"

# --- the user the server runs as ---------------------------------------------------------------
if [[ $(id -u) -eq 0 ]]; then
  if ! id -u "$KM_PG_OS_USER" >/dev/null 2>&1; then
    km_pg_log "creating system user $KM_PG_OS_USER"
    useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$KM_PG_OS_USER"
  fi
  SERVER_USER="$KM_PG_OS_USER"
else
  SERVER_USER="$(id -un)"
fi

# One up.sh at a time (two test runners may race to start the server).
mkdir -p "$KM_PG_STATE"
km_pg_locate
exec 9>"$KM_PG_STATE/up.lock"
flock -w 300 9 || km_pg_die "another scripts/postgres/up.sh has held $KM_PG_STATE/up.lock for 5 minutes"

superuser_psql() { # runs psql as the superuser over the Unix socket
  psql -X -q -v ON_ERROR_STOP=1 -h "$KM_PG_SOCKET_DIR" -p "$KM_PG_PORT" -U postgres -d postgres "$@"
}
url() { printf 'postgres://%s:%s@%s:%s/%s' "$KM_PG_ROLE" "$(cat "$KM_PG_PASSWORD_FILE")" "$KM_PG_HOST" "$KM_PG_PORT" "$KM_PG_DATABASE"; }
accepting() { pg_isready -q -h "$KM_PG_HOST" -p "$KM_PG_PORT" -t 2; }

ensure_database() {
  if [[ ! -s "$KM_PG_PASSWORD_FILE" ]]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$KM_PG_PASSWORD_FILE")
  fi
  superuser_psql -v role="$KM_PG_ROLE" -v database="$KM_PG_DATABASE" -v password="$(cat "$KM_PG_PASSWORD_FILE")" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SQL
  (umask 077 && url >"$KM_PG_URL_FILE")
}

report() {
  km_pg_log "PostgreSQL $(postgres --version | awk '{ print $3 }') up at $KM_PG_HOST:$KM_PG_PORT (pid $(cat "$KM_PG_PIDFILE"); URL in ${KM_PG_URL_FILE#"$KM_REPO_ROOT"/})"
  url
  printf '\n'
}

# --- already up? ------------------------------------------------------------------------------
if pid="$(km_pg_running_pid)" && accepting; then
  echo "$pid" >"$KM_PG_PIDFILE"
  ensure_database
  report
  exit 0
fi
if accepting; then
  km_pg_die "something else already answers on $KM_PG_HOST:$KM_PG_PORT: stop it or set KM_PG_PORT"
fi

# --- a cluster of our own ---------------------------------------------------------------------
mkdir -p "$KM_PG_LOGS" "$KM_PG_SOCKET_DIR" "$(dirname "$KM_PG_DATA")"
chown "$SERVER_USER" "$KM_PG_LOGS" "$KM_PG_SOCKET_DIR"
chmod 700 "$KM_PG_SOCKET_DIR"
if ! km_pg_as_server test -w "$KM_PG_LOGS"; then
  km_pg_die "$SERVER_USER cannot write $KM_PG_LOGS: set KM_PG_STATE to a directory it can reach"
fi

if [[ ! -s "$KM_PG_DATA/PG_VERSION" ]]; then
  rm -rf "$KM_PG_DATA"
  mkdir -p "$KM_PG_DATA"
  chown "$SERVER_USER" "$KM_PG_DATA"
  chmod 700 "$KM_PG_DATA"
  km_pg_log "initdb into ${KM_PG_DATA#"$KM_REPO_ROOT"/} (as $SERVER_USER)"
  # Superuser `postgres` over the Unix socket only (trust: the socket directory is private);
  # every TCP login needs a password.
  km_pg_as_server initdb -D "$KM_PG_DATA" --username=postgres --encoding=UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$KM_PG_LOGS/initdb.log" 2>&1 ||
    { tail -n 20 "$KM_PG_LOGS/initdb.log" >&2; km_pg_die "initdb failed (log: ${KM_PG_LOGS#"$KM_REPO_ROOT"/}/initdb.log)"; }
  echo "include_if_exists = 'kubemend.conf'" >>"$KM_PG_DATA/postgresql.conf"
fi

# Address, port and socket are rewritten on every start (KM_PG_PORT may change between runs).
cat >"$KM_PG_DATA/kubemend.conf" <<CONF
# Written by scripts/postgres/up.sh on every start.
listen_addresses = '$KM_PG_HOST'
port = $KM_PG_PORT
unix_socket_directories = '$KM_PG_SOCKET_DIR'
max_connections = 200
shared_buffers = 128MB
CONF
chown "$SERVER_USER" "$KM_PG_DATA/kubemend.conf"

rm -f "$KM_PG_PIDFILE"
# The server must not inherit the lock (fd 9), or it would hold it for as long as it runs.
km_pg_log "starting postgres on $KM_PG_HOST:$KM_PG_PORT"
if ! km_pg_as_server pg_ctl -D "$KM_PG_DATA" -l "$KM_PG_LOGS/postgres.log" -w -t "$KM_PG_TIMEOUT" start >/dev/null 9>&-; then
  tail -n 30 "$KM_PG_LOGS/postgres.log" >&2 || true
  km_pg_die "postgres did not start (log: ${KM_PG_LOGS#"$KM_REPO_ROOT"/}/postgres.log)"
fi

deadline=$((SECONDS + KM_PG_TIMEOUT))
until accepting; do
  ((SECONDS < deadline)) || km_pg_die "timed out after ${KM_PG_TIMEOUT}s waiting for postgres to accept connections"
  sleep 0.2
done
pid="$(km_pg_running_pid)" || km_pg_die "postgres started but its postmaster.pid names no live server"
echo "$pid" >"$KM_PG_PIDFILE"
ensure_database
report
