#!/usr/bin/env bash
# Install the npm dependencies (and build) when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "kubemend needs Node.js 20+ and npm (see README)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "kubemend needs Node.js 20 or newer (found $(node --version))" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
# dist/bundle/kubemend.js is the build's last output (tsc, then scripts/bundle.mjs).
if [ ! -f dist/bundle/kubemend.js ] || [ -n "$(find src scripts/bundle.mjs -newer dist/bundle/kubemend.js -name '*.ts' -o -newer dist/bundle/kubemend.js -name 'bundle.mjs' | head -1)" ]; then
  echo "==> build" >&2
  npm run --silent build >&2
fi
