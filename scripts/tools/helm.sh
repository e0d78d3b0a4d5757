#!/usr/bin/env bash
# Builds Helm from the Go module proxy into .tools/bin/helm (once per version and Go toolchain).
#   bash scripts/tools/helm.sh          build if needed; prints the binary's path
#   KM_HELM_VERSION=v4.3.1              the version (helm.sh/helm/v4)
# ~4 min and ~115 MB on an idle 2-core machine.
set -euo pipefail
# shellcheck source=scripts/tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VERSION="${KM_HELM_VERSION:-v4.3.1}"
MAJOR="${VERSION%%.*}"
km_tool_need_go
if ! km_tool_fresh helm "$VERSION"; then
  mkdir -p "$KM_TOOLS_BIN"
  km_tool_log "building helm $VERSION from the Go module proxy (a few minutes)"
  start=$SECONDS
  # Into a temporary GOBIN, then moved: an interrupted build never leaves a half-written binary.
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags='-s -w' "helm.sh/helm/$MAJOR/cmd/helm@$VERSION"
  mv -f "$tmp/helm" "$KM_TOOLS_BIN/helm"
  km_tool_done helm "$VERSION" "$((SECONDS - start))"
fi
echo "$KM_TOOLS_BIN/helm"
