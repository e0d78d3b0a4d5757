#!/usr/bin/env bash
# Shared by scripts/tools/*.sh: where Go-built test tools live and how a build is stamped.
#   KM_TOOLS_DIR   install root (default: <repo>/.tools; binaries in $KM_TOOLS_DIR/bin)
# A tool is rebuilt only when its stamp (tool version + Go version) is missing or differs.
set -euo pipefail
KM_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KM_TOOLS_DIR="${KM_TOOLS_DIR:-$KM_REPO_ROOT/.tools}"
KM_TOOLS_BIN="$KM_TOOLS_DIR/bin"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:-}"

km_tool_log() { printf '[tools] %s\n' "$*" >&2; }

km_tool_need_go() {
  command -v go >/dev/null 2>&1 || {
    [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
  }
  command -v go >/dev/null 2>&1 || {
    km_tool_log "go not found (Go >= 1.24 expected at /usr/local/go/bin/go)"
    exit 1
  }
}

# km_tool_stamp NAME VERSION -> the stamp file path for this tool, version and Go toolchain.
km_tool_stamp() {
  local go_version
  go_version="$(go env GOVERSION)"
  printf '%s/.stamp-%s-%s-%s' "$KM_TOOLS_BIN" "$1" "$2" "$go_version"
}

# km_tool_fresh NAME VERSION -> success when the binary exists and its stamp matches.
km_tool_fresh() {
  [ -x "$KM_TOOLS_BIN/$1" ] && [ -f "$(km_tool_stamp "$1" "$2")" ]
}

# km_tool_done NAME VERSION SECONDS: drop older stamps of NAME, write the new one.
km_tool_done() {
  rm -f "$KM_TOOLS_BIN/.stamp-$1-"*
  printf 'built in %ss\n' "$3" >"$(km_tool_stamp "$1" "$2")"
  km_tool_log "$1 $2 built in $3 s -> ${KM_TOOLS_BIN#"$KM_REPO_ROOT"/}/$1"
}
