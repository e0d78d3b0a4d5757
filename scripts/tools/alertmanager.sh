#!/usr/bin/env bash
# Builds Prometheus Alertmanager from the Go module proxy into .tools/bin/alertmanager (once per
# version and Go toolchain).
#   bash scripts/tools/alertmanager.sh   build if needed; prints the binary's path
#   KM_ALERTMANAGER_VERSION=v0.35.0
# `go install .../cmd/alertmanager@v0.35.0` fails: the module does not ship the web UI's built
# assets that ui/web.go embeds (`//go:embed app/dist`). So build from a writable copy of the
# module source with a placeholder page (the API and webhook receivers do not use the UI).
# ~1.5 min on an idle 2-core machine.
set -euo pipefail
# shellcheck source=scripts/tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VERSION="${KM_ALERTMANAGER_VERSION:-v0.35.0}"
MODULE=github.com/prometheus/alertmanager
km_tool_need_go
if ! km_tool_fresh alertmanager "$VERSION"; then
  mkdir -p "$KM_TOOLS_BIN"
  km_tool_log "building alertmanager $VERSION from the Go module proxy"
  start=$SECONDS
  dir="$(go mod download -json "$MODULE@$VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [ -d "$dir" ] || {
    km_tool_log "go mod download $MODULE@$VERSION gave no source directory"
    exit 1
  }
  src="$(mktemp -d)"
  trap 'rm -rf "$src"' EXIT
  cp -r "$dir"/. "$src"
  chmod -R u+w "$src"
  mkdir -p "$src/ui/app/dist"
  echo '<!doctype html><title>Alertmanager</title>' >"$src/ui/app/dist/index.html"
  # The output path is absolute and computed before the cd (inside the subshell, $PWD is $src).
  out="$KM_TOOLS_BIN/alertmanager.tmp"
  ldflags="-s -w -X github.com/prometheus/common/version.Version=${VERSION#v} -X github.com/prometheus/common/version.Branch=HEAD"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$out" ./cmd/alertmanager)
  mv -f "$out" "$KM_TOOLS_BIN/alertmanager"
  km_tool_done alertmanager "$VERSION" "$((SECONDS - start))"
fi
echo "$KM_TOOLS_BIN/alertmanager"
