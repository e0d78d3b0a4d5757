#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl
# from the Go module proxy into .k8s/bin/. A no-op when the binaries exist and the
# stamp (hash of both go.mod/go.sum pairs, the Go version and the build flags) matches.
#
#   scripts/cluster/build.sh            build if needed
#   KM_FORCE_BUILD=1 scripts/cluster/build.sh   rebuild even if the stamp matches
#
# Timings and peak RSS of each step (GNU time -v) go to .k8s/build-stats/.
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

CP_MOD="$KM_REPO_ROOT/test/k8s/cp"
ETCD_MOD="$KM_REPO_ROOT/test/k8s/etcd"
STATS="$KM_K8S_DIR/build-stats"
STAMP="$KM_BIN/.build-stamp"

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
ALL_BINARIES=(etcd "${K8S_BINARIES[@]}")

command -v go >/dev/null 2>&1 || km_die "go not found (expected /usr/local/go/bin/go, Go >= 1.26)"

# k8s version metadata, as k8s's hack/lib/version.sh sets it: both client-go and component-base.
k8s_ver="${KM_K8S_VERSION#v}"
k8s_major="${k8s_ver%%.*}"
k8s_minor="${k8s_ver#*.}"
k8s_minor="${k8s_minor%%.*}"
# buildDate is pinned to the release's publication time, so the binaries are reproducible.
K8S_BUILD_DATE="2026-07-22T18:07:38Z"
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  K8S_LDFLAGS+=" -X $pkg.gitVersion=$KM_K8S_VERSION -X $pkg.gitMajor=$k8s_major -X $pkg.gitMinor=$k8s_minor"
  K8S_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$K8S_BUILD_DATE"
done
ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$KM_ETCD_VERSION"
GO_FLAGS=(-trimpath -mod=readonly)
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

stamp_value() {
  {
    go version
    printf 'CGO_ENABLED=%s\nflags=%s\nk8s=%s\netcd=%s\n' "$CGO_ENABLED" "${GO_FLAGS[*]}" "$K8S_LDFLAGS" "$ETCD_LDFLAGS"
    cat "$CP_MOD/go.mod" "$CP_MOD/go.sum" "$ETCD_MOD/go.mod" "$ETCD_MOD/go.sum"
  } | sha256sum | cut -d' ' -f1
}

all_binaries_present() {
  local b
  for b in "${ALL_BINARIES[@]}"; do [[ -x "$KM_BIN/$b" ]] || return 1; done
}

want="$(stamp_value)"
if [[ -z "${KM_FORCE_BUILD:-}" ]] && all_binaries_present && [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]]; then
  km_log "binaries up to date in ${KM_BIN#"$KM_REPO_ROOT"/} (stamp ${want:0:12})"
  exit 0
fi

# GNU time for the measurements (apt package "time").
km_need_apt /usr/bin/time time

mkdir -p "$KM_BIN" "$STATS"
rm -f "$STAMP"

# Runs a step under GNU time -v; its report goes to $STATS/<name>.txt.
timed() {
  local name="$1"
  shift
  km_log "$name: $*"
  if ! /usr/bin/time -v -o "$STATS/$name.txt" "$@"; then
    km_log "$name failed; resource report: $STATS/$name.txt"
    return 1
  fi
  km_log "$name done in $(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$STATS/$name.txt"), peak RSS $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$STATS/$name.txt") KiB"
}

started=$SECONDS
modcache="$(go env GOMODCACHE)"
before_kib="$(du -sk "$modcache" 2>/dev/null | cut -f1 || echo 0)"

# 1. downloads only (go.sum is committed; -mod=readonly refuses to change go.mod)
(cd "$ETCD_MOD" && timed download-etcd go mod download)
(cd "$CP_MOD" && timed download-cp go mod download)
after_kib="$(du -sk "$modcache" 2>/dev/null | cut -f1 || echo 0)"
echo "module cache grew by $(((after_kib - before_kib) / 1024)) MiB (now $((after_kib / 1024)) MiB at $modcache)" >"$STATS/download-size.txt"

# 2. compile. etcd first (small), then the four k8s binaries in one go build (shared packages).
(cd "$ETCD_MOD" && timed build-etcd go build "${GO_FLAGS[@]}" -ldflags "$ETCD_LDFLAGS" -o "$KM_BIN/etcd" go.etcd.io/etcd/server/v3)
k8s_pkgs=()
for b in "${K8S_BINARIES[@]}"; do k8s_pkgs+=("k8s.io/kubernetes/cmd/$b"); done
(cd "$CP_MOD" && timed build-k8s go build "${GO_FLAGS[@]}" -ldflags "$K8S_LDFLAGS" -o "$KM_BIN/" "${k8s_pkgs[@]}")

all_binaries_present || km_die "build finished but binaries are missing from $KM_BIN"
"$KM_BIN/kube-apiserver" --version
# sed reads all of it: `head -1` closes the pipe early and etcd's SIGPIPE fails the build under pipefail.
"$KM_BIN/etcd" --version | sed -n 1p
printf '%s\n' "$want" >"$STAMP"
echo "total $((SECONDS - started))s" >"$STATS/total.txt"
km_log "build complete in $((SECONDS - started))s; stats in ${STATS#"$KM_REPO_ROOT"/}/"
