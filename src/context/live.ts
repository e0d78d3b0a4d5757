/**
 * Live context: starting from the event's object, the target, the pod in the request, or names in
 * the issue, read (never write) what analysis needs from the cluster — the object and its owner
 * chain, its pods and their statuses, events, each failing container's own logs, nodes, volumes,
 * Services/Endpoints, HPA, quotas and limit ranges, revision history. A node-level event leads to
 * the pods on that node; a ServiceAccount to its RBAC. Concurrent, bounded in time and API calls;
 * partial context is fine and is reported, and so are namespaces kubemend may not read. Secrets
 * are never read.
 */
import {
  type RemediateInput,
  asArray,
  asObject,
  asString,
  at,
  WORKLOAD_KINDS,
  CLUSTER_SCOPED_KINDS,
} from '../domain/index.js';
import { selectorMatches, selectorString } from '../domain/selectors.js';
import type { ClusterGateway, KubeObject, ObjectKey } from '../cluster/gateway.js';
import { parseAccessRequest, parseApiDenial, serviceAccountOf } from './access-request.js';
import { anchorOf } from './anchor.js';
import { Budget, type LiveBudget } from './live-budget.js';
import { type LiveLog, readPodDetails } from './live-pods.js';
import { investigateServiceAccount, podForNodeEvent, podKey, podsOnNode } from './live-subjects.js';
import type { AccessDenial } from './model.js';
import { victimProcess } from './node-processes.js';

export type { LiveBudget } from './live-budget.js';
export type { LiveLog } from './live-pods.js';

export interface LiveContext {
  readonly objects: KubeObject[];
  readonly pods: KubeObject[];
  readonly events: KubeObject[];
  /** Each container's output, current and previous instance apart. */
  readonly logs: LiveLog[];
  readonly metrics: Record<string, number>;
  readonly report: {
    partial: boolean;
    notes: string[];
    apiCalls: number;
    durationMs: number;
    /** Namespaces whose reads the API server refused (403). */
    denied: AccessDenial[];
  };
}

const WORKLOADS: ReadonlySet<string> = new Set(WORKLOAD_KINDS);

function failing(pod: KubeObject): boolean {
  const statuses = asArray(at(pod, 'status', 'containerStatuses'));
  return (
    at(pod, 'status', 'phase') !== 'Running' ||
    statuses.some((s) => at(s, 'ready') !== true || (at(s, 'restartCount') as number) > 0)
  );
}

/** The messages of the events in the request (the node-level event names its victim there). */
function inputEventMessages(input: RemediateInput): string[] {
  const events = [input.context?.event, ...(input.context?.relatedEvents ?? [])];
  return events
    .map((event) => asString(at(event, 'message')) ?? asString(at(event, 'note')))
    .filter((message): message is string => message !== undefined);
}

export async function gatherLiveContext(
  gateway: ClusterGateway,
  input: RemediateInput,
  limits: LiveBudget,
): Promise<LiveContext> {
  const started = Date.now();
  const budget = new Budget(limits);
  const objects = new Map<string, KubeObject>();
  const pods = new Map<string, KubeObject>();
  const add = (object: KubeObject | undefined): void => {
    if (!object?.metadata?.name) return;
    const key = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (object.kind === 'Pod') pods.set(key, object);
    else objects.set(key, object);
  };
  let logs: LiveLog[] = [];
  let metrics: Record<string, number> = {};
  let events: KubeObject[] = [];
  let identity: string | undefined;

  let anchor: ObjectKey | undefined = anchorOf(input);
  if (!anchor) {
    budget.notes.push('no object to start from: give a target, an event or a pod');
    budget.partial = true;
    return finish();
  }
  // Cluster-scoped objects are read cluster-wide, whatever namespace the event was filed in.
  if (CLUSTER_SCOPED_KINDS.has(anchor.kind)) anchor = { kind: anchor.kind, name: anchor.name };

  if (anchor.kind === 'Node') {
    const node = await budget.read(`get node ${anchor.name}`, () =>
      gateway.get({ kind: 'Node', name: anchor!.name }),
    );
    add(node);
    if (!node) budget.notes.push(`Node ${anchor.name} was not found`);
    const victim = inputEventMessages(input).map(victimProcess).find(Boolean);
    const onNode = await podsOnNode(
      gateway,
      budget,
      anchor.name,
      input.target?.namespace ? [input.target.namespace] : [],
    );
    const pod = podForNodeEvent(onNode, victim);
    budget.notes.push(
      `${onNode.length} pod(s) on node ${anchor.name} in the namespaces kubemend may read${victim ? `; victim process ${victim}${pod ? ` runs in pod ${pod.metadata?.namespace}/${pod.metadata?.name}` : ' matches no container there'}` : ''}`,
    );
    if (!pod) {
      for (const other of onNode.filter(failing).slice(0, 5)) add(other);
      return finish();
    }
    anchor = podKey(pod);
  }

  const namespace = anchor.namespace;
  const nsOption = { namespace };
  const anchorKey = anchor;
  const root = await budget.read(`get ${anchor.kind}/${anchor.name}`, () => gateway.get(anchorKey), nsOption);
  if (!root && !budget.anyDenied) {
    budget.notes.push(`${anchor.kind} ${namespace ? `${namespace}/` : ''}${anchor.name} was not found`);
    budget.partial = true;
  }
  add(root);
  if (namespace && budget.denials().some((d) => d.namespace === namespace)) {
    // Everything else in that namespace would be refused as well: say who kubemend is and stop.
    identity = await whoAmI(gateway, budget);
    return finish();
  }

  if (anchor.kind === 'ServiceAccount' && namespace) {
    const request = parseAccessRequest(input.issue);
    await investigateServiceAccount(gateway, budget, add, { namespace, name: anchor.name }, request);
  }

  // Owner chain: Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet/DaemonSet.
  let workload: KubeObject | undefined = root && WORKLOADS.has(String(root.kind)) ? root : undefined;
  let current = root;
  for (let depth = 0; current && depth < 3; depth++) {
    const owner =
      (current.metadata?.ownerReferences ?? []).find((o) => o.controller === true) ??
      current.metadata?.ownerReferences?.[0];
    const kind = asString(owner?.kind);
    const name = asString(owner?.name);
    if (!kind || !name || !WORKLOADS.has(kind)) break;
    const ownerNamespace = current.metadata?.namespace ?? namespace;
    const parent = await budget.read(
      `get ${kind}/${name}`,
      () => gateway.get({ kind, namespace: ownerNamespace, name }),
      { namespace: ownerNamespace },
    );
    add(parent);
    if (parent) workload = parent;
    current = parent;
  }

  const ns = workload?.metadata?.namespace ?? root?.metadata?.namespace ?? namespace;
  if (!ns) {
    budget.notes.push('namespace unknown: only the object itself was read');
    return finish();
  }
  const inNs = { namespace: ns };

  // Pods of the workload, events, services, HPAs, quotas, limit ranges: one list each, in parallel.
  const selector = workload ? selectorString(at(workload, 'spec', 'selector')) : undefined;
  const [podList, eventList, services, endpoints, hpas, quotas, limitRanges, replicaSets, jobs] =
    await Promise.all([
      selector && workload?.kind !== 'CronJob'
        ? budget.read(
            'list pods',
            () => gateway.list('Pod', ns, { labelSelector: selector, limit: 50 }),
            inNs,
          )
        : Promise.resolve(undefined),
      budget.read('list events', () => gateway.list('Event', ns, { limit: 500 }), inNs),
      budget.read('list services', () => gateway.list('Service', ns, { limit: 200 }), inNs),
      budget.read('list endpoints', () => gateway.list('Endpoints', ns, { limit: 200 }), inNs),
      budget.read(
        'list horizontalpodautoscalers',
        () => gateway.list('HorizontalPodAutoscaler', ns, { limit: 100 }),
        inNs,
      ),
      budget.read('list resourcequotas', () => gateway.list('ResourceQuota', ns), inNs),
      budget.read('list limitranges', () => gateway.list('LimitRange', ns), inNs),
      workload?.kind === 'Deployment' && selector
        ? budget.read(
            'list replicasets',
            () => gateway.list('ReplicaSet', ns, { labelSelector: selector }),
            inNs,
          )
        : Promise.resolve(undefined),
      workload?.kind === 'CronJob'
        ? budget.read('list jobs', () => gateway.list('Job', ns, { limit: 100 }), inNs)
        : Promise.resolve(undefined),
    ]);
  for (const pod of podList ?? []) add(pod);
  if (!workload && anchor.kind !== 'ServiceAccount') {
    // No workload to start from (e.g. the issue is about a Service): the namespace's workloads are
    // what a Service selector or an HPA should point at.
    const lists = await Promise.all(
      ['Deployment', 'StatefulSet', 'DaemonSet'].map((kind) =>
        budget.read(`list ${kind}`, () => gateway.list(kind, ns, { limit: 50 }), inNs),
      ),
    );
    for (const object of lists.flat()) add(object);
  }
  for (const rs of replicaSets ?? []) {
    if ((rs.metadata?.ownerReferences ?? []).some((o) => o.uid === workload?.metadata?.uid)) add(rs);
  }
  for (const job of jobs ?? []) {
    if ((job.metadata?.ownerReferences ?? []).some((o) => o.uid === workload?.metadata?.uid)) add(job);
  }

  const podObjects = [...pods.values()];
  const templateLabels = asObject(at(workload, 'spec', 'template', 'metadata', 'labels')) as
    Record<string, string> | undefined;
  const labelSets = [templateLabels, ...podObjects.map((p) => p.metadata?.labels)].filter(Boolean) as Array<
    Record<string, string>
  >;
  const workloadName = workload?.metadata?.name;
  const relevantServices = (services ?? []).filter((svc) => {
    const sel = at(svc, 'spec', 'selector');
    return (
      labelSets.some((labels) => selectorMatches(sel, labels)) ||
      (anchor.kind === 'Service' && svc.metadata?.name === anchor.name)
    );
  });
  // A Service that selects nothing is worth seeing too when the anchor is that Service.
  for (const svc of relevantServices) {
    add(svc);
    add((endpoints ?? []).find((e) => e.metadata?.name === svc.metadata?.name));
  }
  for (const hpa of hpas ?? []) {
    if (
      asString(at(hpa, 'spec', 'scaleTargetRef', 'name')) === workloadName ||
      anchor.kind === 'HorizontalPodAutoscaler'
    )
      add(hpa);
  }
  for (const quota of quotas ?? []) add(quota);
  for (const limitRange of limitRanges ?? []) add(limitRange);

  // Per pod (at most 5, failing ones first): node, PVCs, ConfigMap key names, logs, metrics.
  const chosen = podObjects.sort((a, b) => Number(failing(b)) - Number(failing(a))).slice(0, 5);
  ({ logs, metrics } = await readPodDetails(gateway, budget, add, ns, chosen, limits.tailLines ?? 300));

  // A workload refused by the API server: the ServiceAccount named in the denial, and its RBAC.
  if (anchor.kind !== 'ServiceAccount') {
    const lines = [...(input.context?.logs ?? []), ...logs.flatMap((log) => log.lines)];
    const denial = lines.map(parseApiDenial).find((d) => serviceAccountOf(d?.user) !== undefined);
    const account = serviceAccountOf(denial?.user);
    if (denial && account) await investigateServiceAccount(gateway, budget, add, account, denial);
  }

  // Events about the objects we look at, deduplicated later by the normaliser.
  const names = new Set([...pods.values(), ...objects.values()].map((o) => o.metadata?.name));
  names.add(anchor.name);
  events = (eventList ?? []).filter((event) =>
    names.has(asString(at(event, 'involvedObject', 'name')) ?? asString(at(event, 'regarding', 'name'))),
  );
  if (budget.anyDenied) identity = await whoAmI(gateway, budget);
  return finish();

  function finish(): LiveContext {
    return {
      objects: [...objects.values()],
      pods: [...pods.values()],
      events,
      logs,
      metrics,
      report: {
        partial: budget.partial,
        notes: budget.notes,
        apiCalls: budget.calls,
        durationMs: Date.now() - started,
        denied: budget.denials(identity),
      },
    };
  }
}

/** kubemend's user name as the API server sees it (for the RBAC a person must add). */
async function whoAmI(gateway: ClusterGateway, budget: Budget): Promise<string | undefined> {
  if (!gateway.whoAmI) return undefined;
  return (await budget.read('selfsubjectreview', () => gateway.whoAmI!(), { quiet: true }))?.username;
}
