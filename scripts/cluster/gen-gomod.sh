#!/usr/bin/env bash
# Regenerates test/k8s/cp/go.mod+go.sum and test/k8s/etcd/go.mod+go.sum for the versions in
# env.sh (KM_K8S_VERSION, KM_ETCD_VERSION). Only needed to change versions; CI uses the
# committed files and build.sh never edits them (-mod=readonly).
#
#   KM_K8S_VERSION=v1.36.3 KM_ETCD_VERSION=v3.6.16 scripts/cluster/gen-gomod.sh
#   KM_GOMOD_DIR=/tmp/x scripts/cluster/gen-gomod.sh    # write elsewhere (to compare)
#
# The staging replace list is derived from k8s.io/kubernetes's own go.mod: every
# "k8s.io/<m> => ./staging/..." line becomes "k8s.io/<m> => k8s.io/<m> v0.<minor>.<patch>".
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS=-mod=mod

out="${KM_GOMOD_DIR:-$KM_REPO_ROOT/test/k8s}"
k8s_ver="${KM_K8S_VERSION#v}"
staging_ver="v0.${k8s_ver#*.}"

# --- control plane ---
mkdir -p "$out/cp"
cd "$out/cp"
rm -f go.mod go.sum
go mod init kubemend.invalid/test/k8s/cp >/dev/null 2>&1
upstream_mod="$(go mod download -json "k8s.io/kubernetes@$KM_K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[[ -f "$upstream_mod" ]] || km_die "could not download k8s.io/kubernetes@$KM_K8S_VERSION"
mapfile -t staging < <(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$upstream_mod" | awk '{print $1}')
((${#staging[@]})) || km_die "no staging replace lines found in $upstream_mod"
for m in "${staging[@]}"; do go mod edit -replace "$m=$m@$staging_ver"; done
# Same go and godebug lines as k8s.io/kubernetes itself.
go_line="$(awk '$1 == "go" {print $2; exit}' "$upstream_mod")"
go mod edit -go="$go_line"
while read -r setting; do go mod edit -godebug="$setting"; done < <(awk '$1 == "godebug" {print $2}' "$upstream_mod")
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KM_K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$KM_K8S_VERSION" \
  "k8s.io/kubernetes/cmd/kube-scheduler@$KM_K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@$KM_K8S_VERSION" >/dev/null 2>&1
go mod tidy
km_log "cp: ${#staging[@]} staging replaces at $staging_ver, go $go_line"

# --- etcd (separate module, so its grpc/otel requirements do not move k8s's) ---
mkdir -p "$out/etcd"
cd "$out/etcd"
rm -f go.mod go.sum
go mod init kubemend.invalid/test/k8s/etcd >/dev/null 2>&1
etcd_mod="$(go mod download -json "go.etcd.io/etcd/server/v3@$KM_ETCD_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
go mod edit -go="$(awk '$1 == "go" {print $2; exit}' "$etcd_mod")"
go get -tool "go.etcd.io/etcd/server/v3@$KM_ETCD_VERSION" >/dev/null 2>&1
go mod tidy
km_log "etcd: go.etcd.io/etcd/server/v3 $KM_ETCD_VERSION"
