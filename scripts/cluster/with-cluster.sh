#!/usr/bin/env bash
# Runs CMD against a fresh (or already running) control plane and always stops it afterwards.
#   scripts/cluster/with-cluster.sh npx vitest run --project integration test/cluster
# Exit status: CMD's, or up.sh's if the cluster could not start.
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

(($#)) || km_die "usage: $0 CMD [ARGS...]"
trap '"$KM_REPO_ROOT/scripts/cluster/down.sh" || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$KM_REPO_ROOT/scripts/cluster/up.sh"
export KUBECONFIG="$KM_ADMIN_KUBECONFIG"
set +e
"$@"
rc=$?
set -e
exit "$rc"
