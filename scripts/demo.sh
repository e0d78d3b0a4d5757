#!/usr/bin/env bash
# The main job on the embedded defaults: analyse a bundled incident offline, with the built-in rules
# (no cluster, no AI key). Extra arguments go to `kubemend analyze`, e.g. `--json`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
exec node dist/bundle/kubemend.js analyze --input "${KUBEMEND_DEMO_INPUT:-examples/oom-killed.json}" --offline "$@"
