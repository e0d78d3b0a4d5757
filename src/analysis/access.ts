/**
 * Namespaces kubemend may not read. When live reads were refused (403), the answer says so first —
 * which namespace, which reads, and what a person must run (opt the namespace in, or look
 * themselves when it is protected by policy) — and still reports what the given context shows.
 */
import type { AccessDenial } from '../context/model.js';

/** `--serviceaccount=ns:name` for kubemend's own identity, when it is a ServiceAccount. */
function serviceAccountFlag(identity: string | undefined): string {
  const match = /^system:serviceaccount:([^:]+):(.+)$/.exec(identity ?? '');
  return match ? `${match[1]}:${match[2]}` : '<kubemend-namespace>:<kubemend-serviceaccount>';
}

/** The exact commands a person runs to let kubemend read (and act in) the namespace. */
export function optInCommands(denial: AccessDenial): { check: string; grant: string; helm: string } {
  const as = denial.identity ?? `system:serviceaccount:${serviceAccountFlag(undefined)}`;
  return {
    check: `kubectl auth can-i list pods -n ${denial.namespace} --as=${as}`,
    grant: `kubectl create rolebinding kubemend -n ${denial.namespace} --clusterrole=kubemend-namespaced --serviceaccount=${serviceAccountFlag(denial.identity)}`,
    helm: `add ${denial.namespace} to the chart's rbac.namespaces (helm upgrade … --set 'rbac.namespaces={…,${denial.namespace}}')`,
  };
}

/** The sentence that opens the root cause, and the first factor. */
export function accessNotice(
  denials: readonly AccessDenial[],
): { opening: string; factor: string } | undefined {
  const denial = denials[0];
  if (!denial) return undefined;
  const reads = denial.reads.slice(0, 4).join(', ');
  if (denial.protectedByPolicy) {
    return {
      opening: `kubemend cannot read namespace ${denial.namespace}: it is protected by policy, so kubemend is not given access there and never changes it; a person must look at it directly (kubectl -n ${denial.namespace} describe / logs).`,
      factor: `cannot read namespace ${denial.namespace} (protected by policy): the API server refused ${reads}`,
    };
  }
  const commands = optInCommands(denial);
  return {
    opening: `kubemend cannot read namespace ${denial.namespace}: the API server refused its reads (${reads}: 403 Forbidden), because the namespace is not opted in. A person must opt it in: ${commands.grant} (or ${commands.helm}); ${commands.check} then answers yes.`,
    factor: `cannot read namespace ${denial.namespace} (not opted in): the API server refused ${reads}; to let kubemend read it: ${commands.grant}`,
  };
}
