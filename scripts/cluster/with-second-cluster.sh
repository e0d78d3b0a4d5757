#!/usr/bin/env bash
# Runs CMD with a second control plane beside the first, and always stops the second afterwards.
#   source /work/wt/slot5.env && scripts/cluster/with-cluster.sh \
#     scripts/cluster/with-second-cluster.sh /work/wt/slot9.env npx vitest run --project integration test/cluster/two-clusters.integration.test.ts
# ENV_FILE gives the second control plane's ports (KM_*_PORT, like the slot files); its state lives
# in KM_SECOND_STATE (default .state/cluster-second). CMD sees KM_SECOND_STATE and
# KM_SECOND_KUBECONFIG (its admin kubeconfig); the first control plane's variables are untouched.
# Exit status: CMD's, or up.sh's if the second control plane could not start.
set -euo pipefail
# shellcheck source=scripts/cluster/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

(($# >= 2)) || km_die "usage: $0 ENV_FILE CMD [ARGS...]"
second_env="$1"
shift
[[ -f "$second_env" ]] || km_die "no such env file: $second_env"
export KM_SECOND_STATE="${KM_SECOND_STATE:-$KM_REPO_ROOT/.state/cluster-second}"
export KM_SECOND_KUBECONFIG="$KM_SECOND_STATE/admin.kubeconfig"
export KM_SECOND_ENV="$second_env"

# The second control plane's scripts, in a subshell: its ports from ENV_FILE, its own state.
second() { # second SCRIPT
  (
    # shellcheck disable=SC1090
    source "$second_env"
    export KM_STATE="$KM_SECOND_STATE"
    exec "$KM_REPO_ROOT/scripts/cluster/$1"
  )
}

trap 'second down.sh || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
second up.sh
set +e
"$@"
rc=$?
set -e
exit "$rc"
