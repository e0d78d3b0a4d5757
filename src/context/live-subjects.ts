/**
 * Live reads that start from something other than a workload: a Node (a node-level event leads to
 * the pods on that node, and a victim process to the container that runs it), and a ServiceAccount
 * (the RoleBindings and ClusterRoleBindings that name it, the rules they grant, and the API
 * server's own answer, a SubjectAccessReview, for the request it was refused).
 */
import { asArray, asString, at } from '../domain/index.js';
import type { ClusterGateway, KubeObject, ObjectKey } from '../cluster/gateway.js';
import type { AccessRequestText } from './access-request.js';
import type { Budget } from './live-budget.js';
import { containerRunsProcess } from './node-processes.js';

export type Add = (object: KubeObject | undefined) => void;

/** How many namespaces are probed for pods on a node when kubemend may not list pods cluster-wide. */
const MAX_PROBED_NAMESPACES = 20;

function restarts(pod: KubeObject): number {
  return asArray(at(pod, 'status', 'containerStatuses')).reduce<number>(
    (sum, status) => sum + (Number(at(status, 'restartCount')) || 0),
    0,
  );
}

function unhealthy(pod: KubeObject): boolean {
  return (
    restarts(pod) > 0 ||
    asArray(at(pod, 'status', 'containerStatuses')).some((status) => at(status, 'ready') !== true)
  );
}

/**
 * The pods on a node, in the namespaces kubemend may read: one cluster-wide list when allowed,
 * else one list per namespace (field selector `spec.nodeName`), refusals expected and not reported.
 */
export async function podsOnNode(
  gateway: ClusterGateway,
  budget: Budget,
  node: string,
  preferred: readonly string[],
): Promise<KubeObject[]> {
  const options = { fieldSelector: `spec.nodeName=${node}`, limit: 200 };
  const all = await budget.read(`list pods on node ${node}`, () => gateway.list('Pod', undefined, options), {
    quiet: true,
  });
  if (all) return all;
  const namespaces = await budget.read('list namespaces', () =>
    gateway.list('Namespace', undefined, { limit: 500 }),
  );
  const names = [
    ...new Set([...preferred, ...(namespaces ?? []).map((n) => n.metadata?.name ?? '').filter(Boolean)]),
  ].slice(0, MAX_PROBED_NAMESPACES);
  const lists = await Promise.all(
    names.map((namespace) =>
      budget.read(
        `list pods on node ${node} in ${namespace}`,
        () => gateway.list('Pod', namespace, options),
        { quiet: true },
      ),
    ),
  );
  return lists.flatMap((list) => list ?? []);
}

/**
 * Where to continue from a node: the pod whose container runs the victim process (failing pods
 * first), else the pod on the node that restarts most. Undefined when no pod is known.
 */
export function podForNodeEvent(
  pods: readonly KubeObject[],
  victim: string | undefined,
): KubeObject | undefined {
  const ranked = [...pods].sort(
    (a, b) =>
      Number(unhealthy(b)) - Number(unhealthy(a)) ||
      restarts(b) - restarts(a) ||
      String(a.metadata?.name).localeCompare(String(b.metadata?.name)),
  );
  if (victim) {
    const runner = ranked.find((pod) =>
      asArray(at(pod, 'spec', 'containers')).some((container) => containerRunsProcess(container, victim)),
    );
    if (runner) return runner;
  }
  return ranked.find(unhealthy);
}

export function podKey(pod: KubeObject): ObjectKey {
  return { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '' };
}

function namesAccount(binding: KubeObject, account: { namespace: string; name: string }): boolean {
  return asArray(binding.subjects).some((subject) => {
    const kind = asString(at(subject, 'kind'));
    const name = asString(at(subject, 'name'));
    if (kind === 'ServiceAccount')
      return (
        name === account.name &&
        (asString(at(subject, 'namespace')) ?? binding.metadata?.namespace) === account.namespace
      );
    return (
      kind === 'Group' &&
      (name === 'system:serviceaccounts' || name === `system:serviceaccounts:${account.namespace}`)
    );
  });
}

/**
 * A ServiceAccount's RBAC: the bindings that name it (in its namespace, in the namespace of the
 * request, and cluster-wide), the Roles and ClusterRoles they grant, and — when the request is
 * known — the API server's SubjectAccessReview as that ServiceAccount.
 */
export async function investigateServiceAccount(
  gateway: ClusterGateway,
  budget: Budget,
  add: Add,
  account: { namespace: string; name: string },
  request: AccessRequestText | undefined,
): Promise<void> {
  add(
    await budget.read(
      `get serviceaccount ${account.name}`,
      () => gateway.get({ kind: 'ServiceAccount', namespace: account.namespace, name: account.name }),
      { namespace: account.namespace },
    ),
  );
  const namespaces = [...new Set([account.namespace, request?.namespace].filter((n): n is string => !!n))];
  const lists = await Promise.all([
    ...namespaces.map((namespace) =>
      budget.read(`list rolebindings in ${namespace}`, () => gateway.list('RoleBinding', namespace), {
        namespace,
      }),
    ),
    budget.read('list clusterrolebindings', () => gateway.list('ClusterRoleBinding')),
  ]);
  const bindings = lists.flatMap((list) => list ?? []).filter((b) => namesAccount(b, account));
  await Promise.all(
    bindings.map(async (binding) => {
      add(binding);
      const kind = asString(at(binding, 'roleRef', 'kind'));
      const name = asString(at(binding, 'roleRef', 'name'));
      if ((kind !== 'Role' && kind !== 'ClusterRole') || !name) return;
      const namespace = kind === 'Role' ? binding.metadata?.namespace : undefined;
      add(
        await budget.read(`get ${kind.toLowerCase()} ${name}`, () => gateway.get({ kind, namespace, name })),
      );
    }),
  );
  if (!request || !gateway.subjectAccessReview) return;
  const user = `system:serviceaccount:${account.namespace}:${account.name}`;
  const namespace = request.clusterScope ? undefined : (request.namespace ?? account.namespace);
  const review = await budget.read(`subjectaccessreview ${request.verb} ${request.resource}`, () =>
    gateway.subjectAccessReview!({
      user,
      groups: [
        'system:serviceaccounts',
        `system:serviceaccounts:${account.namespace}`,
        'system:authenticated',
      ],
      verb: request.verb,
      resource: request.resource,
      subresource: request.subresource,
      group: request.apiGroup,
      namespace,
    }),
  );
  if (review)
    add({
      ...review,
      metadata: { ...review.metadata, name: `${account.name}:${request.verb}:${request.resource}` },
    });
}
