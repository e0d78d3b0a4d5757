#!/usr/bin/env bash
# Runs CMD with the test PostgreSQL up and always stops it afterwards.
#   scripts/postgres/with-postgres.sh npx vitest run --project integration test/storage
# CMD sees KUBEMEND_TEST_POSTGRES_URL (also in .state/postgres/url).
# Exit status: CMD's, or up.sh's if the server could not start.
set -euo pipefail
# shellcheck source=scripts/postgres/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

(($#)) || km_pg_die "usage: $0 CMD [ARGS...]"
trap '"$KM_REPO_ROOT/scripts/postgres/down.sh" || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$KM_REPO_ROOT/scripts/postgres/up.sh" >/dev/null
KUBEMEND_TEST_POSTGRES_URL="$(cat "$KM_PG_URL_FILE")"
export KUBEMEND_TEST_POSTGRES_URL
set +e
"$@"
rc=$?
set -e
exit "$rc"
