#!/usr/bin/env bash
# Starts a real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler. No nodes: simulated kubelets register their own.
#
#   scripts/cluster/up.sh        (idempotent: exits 0 if the cluster is already up and healthy)
#
# State (fresh PKI and etcd data on every start) lives in .state/cluster/:
#   admin.kubeconfig  pki/  logs/<component>.log  pids/<component>.pid  etcd-data/  cluster.env
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

KUBECTL="$KM_BIN/kubectl"

healthy() { # all components alive by PID and answering their health endpoints
  local c
  for c in "${KM_COMPONENTS[@]}"; do km_running_pid "$c" >/dev/null || return 1; done
  [[ -f "$KM_ADMIN_KUBECONFIG" && -f "$KM_PKI/ca.crt" ]] || return 1
  # A cluster started before the simulator existed lacks its certificate and flags: restart it.
  [[ "$KM_SIM" != "1" || -f "$KM_PKI/sim-metrics.crt" ]] || return 1
  check_etcd && check_apiserver && check_kcm && check_scheduler
}
check_etcd() { curl -fsS -m 3 "http://$KM_HOST:$KM_ETCD_CLIENT_PORT/readyz" >/dev/null 2>&1; }
check_apiserver() { curl -fsS -m 5 --cacert "$KM_PKI/ca.crt" "$KM_APISERVER_URL/readyz" >/dev/null 2>&1; }
# KCM and scheduler serve with self-signed certificates from their --cert-dir.
check_kcm() { curl -fsSk -m 3 "https://$KM_HOST:$KM_KCM_PORT/healthz" >/dev/null 2>&1; }
check_scheduler() { curl -fsSk -m 3 "https://$KM_HOST:$KM_SCHEDULER_PORT/healthz" >/dev/null 2>&1; }
check_default_sa() { "$KUBECTL" --kubeconfig "$KM_ADMIN_KUBECONFIG" -n default get serviceaccount default >/dev/null 2>&1; }
check_root_ca_cm() { "$KUBECTL" --kubeconfig "$KM_ADMIN_KUBECONFIG" -n default get configmap kube-root-ca.crt >/dev/null 2>&1; }

km_need_apt openssl openssl curl curl

# --- the simulated kubelets (test/sim/main.ts): started after the control plane, idempotent ---
sim_pid() { km_running_pid kubemend-sim; }
sim_ready() { # the running simulator has applied a world and reported itself in kubemend-sim/world-status
  local pid status
  pid="$(sim_pid)" || return 1
  status="$("$KUBECTL" --kubeconfig "$KM_ADMIN_KUBECONFIG" -n kubemend-sim get configmap world-status \
    -o jsonpath='{.data.pid} {.data.error}' 2>/dev/null)" || return 1
  [[ "$status" == "$pid " ]]
}
start_sim() {
  [[ -d "$KM_REPO_ROOT/node_modules/tsx" ]] || km_die "node_modules/tsx is missing: run npm ci first (the simulator runs with tsx)"
  local f
  f="$(km_pidfile kubemend-sim)"
  if [[ -f "$f" ]]; then
    local old
    old="$(cat "$f")"
    if [[ "$old" =~ ^[0-9]+$ ]] && km_sim_is_ours "$old"; then kill -TERM "$old" 2>/dev/null || true; fi
    rm -f "$f"
  fi
  mkdir -p "$KM_LOGS" "$KM_PIDS"
  (cd "$KM_REPO_ROOT" && exec setsid node --import tsx "$KM_REPO_ROOT/test/sim/main.ts" </dev/null >>"$KM_LOGS/kubemend-sim.log" 2>&1 9>&-) &
  echo $! >"$f"
  km_log "started kubemend-sim (pid $!)"
  local deadline=$((SECONDS + KM_TIMEOUT_SIM))
  until sim_ready; do
    if ! sim_pid >/dev/null; then
      tail -n 40 "$KM_LOGS/kubemend-sim.log" >&2 || true
      km_die "kubemend-sim exited while starting (log: ${KM_LOGS#"$KM_REPO_ROOT"/}/kubemend-sim.log)"
    fi
    ((SECONDS < deadline)) || km_die "timed out after ${KM_TIMEOUT_SIM}s waiting for kubemend-sim (log: ${KM_LOGS#"$KM_REPO_ROOT"/}/kubemend-sim.log)"
    sleep 0.3
  done
  km_log "kubemend-sim ready: world applied, nodes $("$KUBECTL" --kubeconfig "$KM_ADMIN_KUBECONFIG" get nodes -l kubemend.io/simulated=true -o name | tr '\n' ' ')"
}
ensure_sim() {
  [[ "$KM_SIM" == "1" ]] || return 0
  sim_ready || start_sim
}

# One up.sh at a time (two test runners may race to start the cluster).
mkdir -p "$KM_STATE"
exec 9>"$KM_STATE/up.lock"
flock -w 600 9 || km_die "another scripts/cluster/up.sh has held $KM_STATE/up.lock for 10 minutes"

if healthy; then
  km_log "cluster already up and healthy at $KM_APISERVER_URL (kubeconfig: ${KM_ADMIN_KUBECONFIG#"$KM_REPO_ROOT"/})"
  ensure_sim
  exit 0
fi

# Anything left from a previous run (dead or half-started) is stopped first.
for c in "${KM_COMPONENTS[@]}" kubemend-sim; do
  if [[ -f "$(km_pidfile "$c")" ]]; then
    km_log "found a stale or unhealthy cluster; stopping it first"
    "$KM_REPO_ROOT/scripts/cluster/down.sh"
    break
  fi
done

# --- ports: fail fast if taken ---
port_in_use() { (exec 3<>"/dev/tcp/$KM_HOST/$1") 2>/dev/null; }
taken=()
for p in etcd-client:$KM_ETCD_CLIENT_PORT etcd-peer:$KM_ETCD_PEER_PORT apiserver:$KM_APISERVER_PORT \
  kube-controller-manager:$KM_KCM_PORT kube-scheduler:$KM_SCHEDULER_PORT \
  kubemend-sim-metrics:$KM_SIM_METRICS_PORT kubemend-sim-kubelet:$KM_SIM_KUBELET_PORT; do
  if port_in_use "${p#*:}"; then taken+=("$p"); fi
done
if ((${#taken[@]})); then
  km_die "port(s) already in use on $KM_HOST: ${taken[*]}. Stop whatever holds them or override
  KM_ETCD_CLIENT_PORT / KM_ETCD_PEER_PORT / KM_APISERVER_PORT / KM_KCM_PORT / KM_SCHEDULER_PORT /
  KM_SIM_METRICS_PORT / KM_SIM_KUBELET_PORT."
fi

"$KM_REPO_ROOT/scripts/cluster/build.sh"

T0=$EPOCHREALTIME
rm -rf "$KM_PKI" "$KM_STATE/etcd-data" "$KM_LOGS" "$KM_PIDS" "$KM_STATE"/kcm-certs "$KM_STATE"/scheduler-certs "$KM_STATE"/kcm-flexvolume "$KM_STATE"/apiserver-certs
mkdir -p "$KM_PKI" "$KM_LOGS" "$KM_PIDS" "$KM_STATE/etcd-data" "$KM_STATE/kcm-certs" "$KM_STATE/scheduler-certs"
chmod 700 "$KM_STATE/etcd-data" "$KM_PKI"

# --- on failure: show logs, stop what was started ---
STARTED_OK=0
on_exit() {
  local rc=$?
  if ((STARTED_OK == 0)); then
    km_log "cluster start FAILED (exit $rc); last lines of every component log:"
    local f
    for f in "$KM_LOGS"/*.log; do
      [[ -f "$f" ]] || continue
      printf '\n===== %s (last 40 lines) =====\n' "${f#"$KM_REPO_ROOT"/}" >&2
      tail -n 40 "$f" >&2 || true
    done
    "$KM_REPO_ROOT/scripts/cluster/down.sh" || true
    ((rc != 0)) || rc=1
  fi
  exit "$rc"
}
trap on_exit EXIT

# --- PKI (ECDSA P-256: ~10x faster to generate than RSA-2048; the SA key stays RSA) ---
km_log "generating PKI in ${KM_PKI#"$KM_REPO_ROOT"/}"
P="$KM_PKI"
new_ca() { # new_ca NAME CN
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 -sha256 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -keyout "$P/$1.key" -out "$P/$1.crt" 2>/dev/null
}
# new_cert NAME SUBJECT CA EXTFILE-LINES...
new_cert() {
  local name="$1" subj="$2" ca="$3"
  shift 3
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "$@" >"$P/$name.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" -keyout "$P/$name.key" -out "$P/$name.csr" 2>/dev/null
  openssl x509 -req -in "$P/$name.csr" -CA "$P/$ca.crt" -CAkey "$P/$ca.key" -CAcreateserial -days 2 -sha256 \
    -extfile "$P/$name.ext" -out "$P/$name.crt" 2>/dev/null
  rm -f "$P/$name.csr" "$P/$name.ext"
}
SERVER_EXT="extendedKeyUsage=serverAuth"
CLIENT_EXT="extendedKeyUsage=clientAuth"
KU="keyUsage=critical,digitalSignature,keyEncipherment"
new_ca ca kubemend-test-ca
new_ca front-proxy-ca kubemend-test-front-proxy-ca
new_cert apiserver "/CN=kube-apiserver" ca "$KU" "$SERVER_EXT" \
  "subjectAltName=IP:127.0.0.1,IP:$KM_FIRST_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
new_cert admin "/O=system:masters/CN=kubemend-test-admin" ca "$KU" "$CLIENT_EXT"
new_cert controller-manager "/CN=system:kube-controller-manager" ca "$KU" "$CLIENT_EXT"
new_cert scheduler "/CN=system:kube-scheduler" ca "$KU" "$CLIENT_EXT"
new_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" ca "$KU" "$CLIENT_EXT"
new_cert kubelet-serving "/CN=kubemend-sim-kubelet" ca "$KU" "$SERVER_EXT" "subjectAltName=IP:127.0.0.1,DNS:localhost"
# The simulator's metrics.k8s.io server: the aggregator verifies it as <service>.<namespace>.svc.
new_cert sim-metrics "/CN=kubemend-sim-metrics" ca "$KU" "$SERVER_EXT" \
  "subjectAltName=DNS:kubemend-sim-metrics.kubemend-sim.svc,DNS:localhost,IP:127.0.0.1"
new_cert front-proxy-client "/CN=front-proxy-client" front-proxy-ca "$KU" "$CLIENT_EXT"
openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
chmod 600 "$P"/*.key

# --- kubeconfigs (CA and client certs embedded) ---
b64() { base64 -w0 <"$1"; }
write_kubeconfig() { # write_kubeconfig FILE CERT-NAME USER
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubemend-test
  cluster:
    server: $KM_APISERVER_URL
    certificate-authority-data: $(b64 "$P/ca.crt")
users:
- name: $3
  user:
    client-certificate-data: $(b64 "$P/$2.crt")
    client-key-data: $(b64 "$P/$2.key")
contexts:
- name: $3@kubemend-test
  context:
    cluster: kubemend-test
    user: $3
current-context: $3@kubemend-test
EOF
  chmod 600 "$1"
}
write_kubeconfig "$KM_ADMIN_KUBECONFIG" admin kubemend-test-admin
write_kubeconfig "$KM_STATE/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
write_kubeconfig "$KM_STATE/scheduler.kubeconfig" scheduler system:kube-scheduler

# --- processes ---
start() { # start NAME ARGS... : detached (own session), PID file, log file
  local name="$1"
  shift
  setsid "$KM_BIN/$name" "$@" </dev/null >"$KM_LOGS/$name.log" 2>&1 9>&- &
  echo $! >"$(km_pidfile "$name")"
  km_log "started $name (pid $!)"
}
wait_for() { # wait_for WHAT TIMEOUT COMPONENT CHECK-FUNCTION
  local what="$1" timeout="$2" comp="$3" check="$4" deadline=$((SECONDS + $2))
  until "$check"; do
    if [[ -n "$comp" ]] && ! km_running_pid "$comp" >/dev/null; then
      km_die "$comp exited while waiting for $what (log: ${KM_LOGS#"$KM_REPO_ROOT"/}/$comp.log)"
    fi
    ((SECONDS < deadline)) || km_die "timed out after ${timeout}s waiting for $what"
    sleep 0.5
  done
  km_log "$what ready (+$(elapsed)s)"
}
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

ETCD_URL="http://$KM_HOST:$KM_ETCD_CLIENT_PORT"
start etcd \
  --name=kubemend-test \
  --data-dir="$KM_STATE/etcd-data" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://$KM_HOST:$KM_ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://$KM_HOST:$KM_ETCD_PEER_PORT" \
  --initial-cluster="kubemend-test=http://$KM_HOST:$KM_ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --unsafe-no-fsync \
  --auto-compaction-mode=periodic --auto-compaction-retention=5m \
  --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) \
  --log-level=warn
wait_for "etcd /readyz" "$KM_TIMEOUT_ETCD" etcd check_etcd

# --enable-aggregator-routing=false: the simulator's metrics.k8s.io APIService points at an
# ExternalName Service (localhost). With routing=true the aggregator resolves only Endpoints
# ("unsupported service type ExternalName"), and Endpoints may not hold loopback addresses.
start kube-apiserver \
  --etcd-servers="$ETCD_URL" \
  --bind-address="$KM_HOST" --advertise-address="$KM_HOST" --secure-port="$KM_APISERVER_PORT" \
  --cert-dir="$KM_STATE/apiserver-certs" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" \
  --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$KM_SERVICE_CIDR" \
  --endpoint-reconciler-type=none \
  --allow-privileged=true \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$P/ca.crt" \
  --kubelet-preferred-address-types=InternalIP \
  --requestheader-client-ca-file="$P/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --requestheader-uid-headers=X-Remote-Uid \
  --proxy-client-cert-file="$P/front-proxy-client.crt" \
  --proxy-client-key-file="$P/front-proxy-client.key" \
  --enable-aggregator-routing=false \
  --profiling=false
wait_for "kube-apiserver /readyz" "$KM_TIMEOUT_APISERVER" kube-apiserver check_apiserver

start kube-controller-manager \
  --kubeconfig="$KM_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$KM_STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$KM_STATE/controller-manager.kubeconfig" \
  --bind-address="$KM_HOST" --secure-port="$KM_KCM_PORT" \
  --cert-dir="$KM_STATE/kcm-certs" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --leader-elect=false \
  --controllers='*,bootstrap-signer-controller,token-cleaner-controller,selinux-warning-controller' \
  --allocate-node-cidrs=true --cluster-cidr="$KM_POD_CIDR" --node-cidr-mask-size=24 \
  --use-service-account-credentials=true \
  --root-ca-file="$P/ca.crt" \
  --service-account-private-key-file="$P/sa.key" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --service-cluster-ip-range="$KM_SERVICE_CIDR" \
  --flex-volume-plugin-dir="$KM_STATE/kcm-flexvolume" \
  --profiling=false
start kube-scheduler \
  --kubeconfig="$KM_STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig="$KM_STATE/scheduler.kubeconfig" \
  --authorization-kubeconfig="$KM_STATE/scheduler.kubeconfig" \
  --bind-address="$KM_HOST" --secure-port="$KM_SCHEDULER_PORT" \
  --cert-dir="$KM_STATE/scheduler-certs" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --leader-elect=false \
  --profiling=false
wait_for "kube-controller-manager /healthz" "$KM_TIMEOUT_COMPONENT" kube-controller-manager check_kcm
wait_for "kube-scheduler /healthz" "$KM_TIMEOUT_COMPONENT" kube-scheduler check_scheduler
wait_for "ServiceAccount default/default" "$KM_TIMEOUT_OBJECTS" kube-controller-manager check_default_sa
wait_for "ConfigMap default/kube-root-ca.crt" "$KM_TIMEOUT_OBJECTS" kube-controller-manager check_root_ca_cm

# Facts for other tools (TypeScript harness, simulated kubelets).
cat >"$KM_STATE/cluster.env" <<EOF
KM_APISERVER_URL=$KM_APISERVER_URL
KM_ADMIN_KUBECONFIG=$KM_ADMIN_KUBECONFIG
KM_CA_CERT=$P/ca.crt
KM_KUBELET_SERVING_CERT=$P/kubelet-serving.crt
KM_KUBELET_SERVING_KEY=$P/kubelet-serving.key
KM_ETCD_URL=$ETCD_URL
KM_KCM_PORT=$KM_KCM_PORT
KM_SCHEDULER_PORT=$KM_SCHEDULER_PORT
KM_KUBECTL=$KUBECTL
EOF

ensure_sim

STARTED_OK=1
took="$(elapsed)"
echo "$took" >"$KM_STATE/start-seconds"
km_log "cluster ready in ${took}s (fresh PKI + etcd + apiserver + KCM + scheduler → default ServiceAccount and kube-root-ca.crt present)"
km_log "  export KUBECONFIG=$KM_ADMIN_KUBECONFIG; $KUBECTL get --raw /readyz"
