#!/usr/bin/env bash
# Creates kubemend's least-privilege identity on the running test cluster and writes
# .state/cluster/kubemend.kubeconfig (bearer token from the TokenRequest API, CA embedded).
#
#   scripts/cluster/kubemend-identity.sh [NAMESPACE...]
#
# Applies deploy/rbac/kubemend-rbac.yaml as admin, then opts each NAMESPACE in by binding the
# ClusterRole kubemend-namespaced there with a RoleBinding named "kubemend" (the namespace is
# created if missing). kubemend-sim, the simulator's namespace, is refused.
# Env: KM_TOKEN_DURATION (default 2h).
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

KUBECTL="$KM_BIN/kubectl"
K=("$KUBECTL" --kubeconfig "$KM_ADMIN_KUBECONFIG")
FORBIDDEN_NAMESPACES=(kubemend-sim)

[[ -x "$KUBECTL" ]] || km_die "kubectl not built; run scripts/cluster/up.sh first"
[[ -f "$KM_ADMIN_KUBECONFIG" ]] || km_die "no admin kubeconfig at $KM_ADMIN_KUBECONFIG; run scripts/cluster/up.sh first"
"${K[@]}" get --raw /readyz >/dev/null 2>&1 || km_die "cluster at $KM_APISERVER_URL is not ready; run scripts/cluster/up.sh"

for ns in "$@"; do
  for bad in "${FORBIDDEN_NAMESPACES[@]}"; do
    [[ "$ns" != "$bad" ]] || km_die "refusing to bind kubemend in $ns: the simulator's namespace must stay invisible to kubemend"
  done
done

"${K[@]}" apply -f "$KM_REPO_ROOT/deploy/rbac/kubemend-rbac.yaml" >/dev/null
km_log "applied deploy/rbac/kubemend-rbac.yaml"

for ns in "$@"; do
  "${K[@]}" create namespace "$ns" --dry-run=client -o yaml | "${K[@]}" apply -f - >/dev/null
  "${K[@]}" apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: kubemend
  namespace: $ns
  labels:
    app.kubernetes.io/name: kubemend
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubemend-namespaced
subjects:
  - kind: ServiceAccount
    name: kubemend
    namespace: kubemend-system
YAML
  km_log "opted in namespace $ns (RoleBinding $ns/kubemend → ClusterRole kubemend-namespaced)"
done

token="$("${K[@]}" create token kubemend -n kubemend-system --duration="${KM_TOKEN_DURATION:-2h}")"
[[ -n "$token" ]] || km_die "TokenRequest returned an empty token"

tmp="$(mktemp "$KM_STATE/kubemend.kubeconfig.XXXXXX")"
cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubemend-test
  cluster:
    server: $KM_APISERVER_URL
    certificate-authority-data: $(base64 -w0 <"$KM_PKI/ca.crt")
users:
- name: kubemend
  user:
    token: $token
contexts:
- name: kubemend@kubemend-test
  context:
    cluster: kubemend-test
    user: kubemend
    namespace: default
current-context: kubemend@kubemend-test
EOF
chmod 600 "$tmp"
mv "$tmp" "$KM_KUBEMEND_KUBECONFIG"
km_log "wrote ${KM_KUBEMEND_KUBECONFIG#"$KM_REPO_ROOT"/} (ServiceAccount kubemend-system/kubemend, token valid ${KM_TOKEN_DURATION:-2h})"
