#!/usr/bin/env bash
# The whole test suite, as CI runs it (`npm test`). Installs what it needs on a fresh machine:
# npm dependencies, the Kubernetes control plane (built from the Go module proxy) and Debian tools.
#   1. typecheck and lint
#   2. unit tests (vitest `unit` project) and the offline evaluation targets
#   3. integration tests against the real control plane (vitest `integration` project) and the
#      scenario suite, inside one cluster (and a second one for the several-clusters test), always
#      stopped afterwards
# Ends with one line: `tests: N passed, M failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
REPORTS=$ROOT/.state/reports
rm -rf "$REPORTS" && mkdir -p "$REPORTS"

bash scripts/ensure-deps.sh

echo "==> typecheck and lint"
npx tsc -p tsconfig.json --noEmit
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

status=0
bash scripts/install-test-tools.sh

echo "==> unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$REPORTS/unit.json" || status=1

echo "==> offline evaluation (corpus and holdout targets)"
npx tsx bench/eval-offline.ts || status=1

echo "==> AI evaluation harness (a real model when a key is set, else the loopback provider)"
npx tsx bench/ai/eval.ts || status=1

echo "==> integration tests and scenarios on the real control plane"
# A second control plane beside the first, for the several-clusters test (scripts/cluster/second.env).
bash scripts/cluster/with-cluster.sh \
  bash scripts/cluster/with-second-cluster.sh scripts/cluster/second.env \
  bash scripts/postgres/with-postgres.sh bash scripts/integration.sh "$REPORTS" || status=1

node scripts/summarize-tests.mjs "$REPORTS" || status=1
exit $status
