#!/usr/bin/env bash
# Runs inside a started cluster (scripts/cluster/with-cluster.sh): the integration test project,
# then the scenario suite. Writes machine-readable results to the directory given as $1.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPORTS=${1:-.state/reports}
mkdir -p "$REPORTS"
status=0
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$REPORTS/integration.json" || status=1
if [ -f test/scenarios/run.ts ]; then
  npx tsx test/scenarios/run.ts --report "$REPORTS/scenarios.json" || status=1
fi
exit $status
