# shellcheck shell=bash
# Shared settings for scripts/cluster/*.sh. Sourced, never executed.
# Every value can be overridden from the environment before calling a script.

KM_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export KM_REPO_ROOT

# --- versions (must match test/k8s/*/go.mod) ---
export KM_K8S_VERSION="${KM_K8S_VERSION:-v1.36.3}"
export KM_ETCD_VERSION="${KM_ETCD_VERSION:-v3.6.16}"

# --- directories ---
export KM_K8S_DIR="${KM_K8S_DIR:-$KM_REPO_ROOT/.k8s}"
export KM_BIN="${KM_BIN:-$KM_K8S_DIR/bin}"
export KM_STATE="${KM_STATE:-$KM_REPO_ROOT/.state/cluster}"
export KM_PKI="$KM_STATE/pki"
export KM_LOGS="$KM_STATE/logs"
export KM_PIDS="$KM_STATE/pids"
export KM_ADMIN_KUBECONFIG="$KM_STATE/admin.kubeconfig"
export KM_KUBEMEND_KUBECONFIG="$KM_STATE/kubemend.kubeconfig"

# --- addresses and ports (127.0.0.1 only) ---
export KM_HOST=127.0.0.1
export KM_ETCD_CLIENT_PORT="${KM_ETCD_CLIENT_PORT:-23790}"
export KM_ETCD_PEER_PORT="${KM_ETCD_PEER_PORT:-23800}"
export KM_APISERVER_PORT="${KM_APISERVER_PORT:-16443}"
export KM_KCM_PORT="${KM_KCM_PORT:-10257}"
export KM_SCHEDULER_PORT="${KM_SCHEDULER_PORT:-10259}"
export KM_SERVICE_CIDR="${KM_SERVICE_CIDR:-10.96.0.0/16}"
export KM_POD_CIDR="${KM_POD_CIDR:-10.244.0.0/16}"
export KM_FIRST_SERVICE_IP="${KM_FIRST_SERVICE_IP:-10.96.0.1}"
# Simulated kubelets (test/sim): one HTTPS kubelet API per world node from this port upwards,
# and the metrics.k8s.io aggregated API. KM_SIM=0 starts the control plane without them.
export KM_SIM="${KM_SIM:-1}"
export KM_SIM_KUBELET_PORT="${KM_SIM_KUBELET_PORT:-10360}"
export KM_SIM_METRICS_PORT="${KM_SIM_METRICS_PORT:-10350}"
export KM_TIMEOUT_SIM="${KM_TIMEOUT_SIM:-90}"
export KM_APISERVER_URL="https://$KM_HOST:$KM_APISERVER_PORT"

# --- timeouts (seconds) ---
export KM_TIMEOUT_ETCD="${KM_TIMEOUT_ETCD:-60}"
export KM_TIMEOUT_APISERVER="${KM_TIMEOUT_APISERVER:-180}"
export KM_TIMEOUT_COMPONENT="${KM_TIMEOUT_COMPONENT:-120}"
export KM_TIMEOUT_OBJECTS="${KM_TIMEOUT_OBJECTS:-120}"
export KM_STOP_GRACE="${KM_STOP_GRACE:-15}"

# Start order; down.sh stops in reverse.
KM_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)

# Go toolchain: the machine's Go lives in /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi

km_log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
km_die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# Install Debian packages when the named commands are missing (root only; CI runs as root).
km_need_apt() { # km_need_apt COMMAND PACKAGE [COMMAND PACKAGE ...]
  local missing=()
  while (($#)); do
    if ! command -v "$1" >/dev/null 2>&1 && [[ ! -x "$1" ]]; then missing+=("$2"); fi
    shift 2
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    km_die "missing packages: ${missing[*]} (run as root or install them: apt-get install -y ${missing[*]})"
  fi
  km_log "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

km_pidfile() { printf '%s/%s.pid' "$KM_PIDS" "$1"; }

# The simulator is a Node.js process: ours if its command line runs test/sim/main.ts.
km_sim_is_ours() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'test/sim/main.ts'
}

# Prints the PID of a component if its PID file names a live process, else nothing.
km_running_pid() {
  local f pid
  f="$(km_pidfile "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  printf '%s' "$pid"
}
