#!/usr/bin/env bash
# Debian's chromium for the approvals page's browser tests (test/ui/*.integration.test.ts drive it
# through playwright-core; Playwright's own browser download cannot reach its servers here).
#   bash scripts/tools/chromium.sh      install with apt-get if missing (as root); prints its path
#   KUBEMEND_CHROMIUM=/path             use this browser instead (nothing is installed)
# Idempotent: a no-op once the browser is there.
set -euo pipefail
# shellcheck source=scripts/tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHROMIUM="${KUBEMEND_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ -n "${KUBEMEND_CHROMIUM:-}" ]; then
    km_tool_log "KUBEMEND_CHROMIUM=$CHROMIUM is not an executable"
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    km_tool_log "chromium is missing: run as root, or: apt-get install -y chromium"
    exit 1
  fi
  km_tool_log "installing chromium with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "$CHROMIUM"
