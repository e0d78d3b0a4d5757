/**
 * Live context: starting from the event's object, the target, the pod in the request, or names in
 * the issue, read (never write) what analysis needs from the cluster — the object and its owner
 * chain, its pods and their statuses, events, bounded logs, nodes, volumes, Services/Endpoints,
 * HPA, quotas and limit ranges, revision history. Concurrent, bounded in time and API calls;
 * partial context is fine and is reported. Secrets are never read.
 */
import {
  parseCpuMillicores,
  parseMemoryBytes,
  type RemediateInput,
  asArray,
  asObject,
  asString,
  at,
  WORKLOAD_KINDS,
} from '../domain/index.js';
import { selectorMatches, selectorString } from '../domain/selectors.js';
import type { ClusterGateway, KubeObject } from '../cluster/gateway.js';
import { anchorOf } from './anchor.js';

export interface LiveBudget {
  readonly timeoutMs: number;
  readonly maxApiCalls: number;
  /** Log lines read per container (current and previous). */
  readonly tailLines?: number;
}

export interface LiveContext {
  readonly objects: KubeObject[];
  readonly pods: KubeObject[];
  readonly events: KubeObject[];
  readonly logs: string[];
  readonly previousLogs: string[];
  readonly metrics: Record<string, number>;
  readonly report: { partial: boolean; notes: string[]; apiCalls: number; durationMs: number };
}

const WORKLOADS: ReadonlySet<string> = new Set(WORKLOAD_KINDS);
class Budget {
  calls = 0;
  readonly notes: string[] = [];
  partial = false;
  private readonly deadline: number;
  constructor(private readonly limits: LiveBudget) {
    this.deadline = Date.now() + limits.timeoutMs;
  }
  get exhausted(): boolean {
    return this.calls >= this.limits.maxApiCalls || Date.now() >= this.deadline;
  }
  /** Runs one read within the budget; a failure or an exhausted budget yields undefined and a note. */
  async read<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    if (this.exhausted) {
      this.partial = true;
      if (!this.notes.includes('budget exhausted')) this.notes.push('budget exhausted');
      return undefined;
    }
    this.calls++;
    const remaining = Math.max(1, this.deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), remaining);
        }),
      ]);
    } catch (error) {
      this.partial = true;
      this.notes.push(`${what}: ${(error as Error).message.split('\n')[0]!.slice(0, 160)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

function failing(pod: KubeObject): boolean {
  const statuses = asArray(at(pod, 'status', 'containerStatuses'));
  return (
    at(pod, 'status', 'phase') !== 'Running' ||
    statuses.some((s) => at(s, 'ready') !== true || (at(s, 'restartCount') as number) > 0)
  );
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
  const logs: string[] = [];
  const previousLogs: string[] = [];
  const metrics: Record<string, number> = {};
  let events: KubeObject[] = [];

  const anchor = anchorOf(input);
  if (!anchor) {
    return {
      objects: [],
      pods: [],
      events: [],
      logs,
      previousLogs,
      metrics,
      report: {
        partial: true,
        notes: ['no object to start from: give a target, an event or a pod'],
        apiCalls: 0,
        durationMs: 0,
      },
    };
  }
  const namespace = anchor.namespace;
  const root = await budget.read(`get ${anchor.kind}/${anchor.name}`, () => gateway.get(anchor));
  if (!root) {
    budget.notes.push(`${anchor.kind} ${namespace ?? ''}/${anchor.name} was not found`);
    budget.partial = true;
  }
  add(root);

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
    const parent = await budget.read(`get ${kind}/${name}`, () =>
      gateway.get({ kind, namespace: current?.metadata?.namespace ?? namespace, name }),
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

  // Pods of the workload, events, services, HPAs, quotas, limit ranges: one list each, in parallel.
  const selector = workload ? selectorString(at(workload, 'spec', 'selector')) : undefined;
  const [podList, eventList, services, endpoints, hpas, quotas, limitRanges, replicaSets, jobs] =
    await Promise.all([
      selector && workload?.kind !== 'CronJob'
        ? budget.read('list pods', () => gateway.list('Pod', ns, { labelSelector: selector, limit: 50 }))
        : Promise.resolve(undefined),
      budget.read('list events', () => gateway.list('Event', ns, { limit: 500 })),
      budget.read('list services', () => gateway.list('Service', ns, { limit: 200 })),
      budget.read('list endpoints', () => gateway.list('Endpoints', ns, { limit: 200 })),
      budget.read('list horizontalpodautoscalers', () =>
        gateway.list('HorizontalPodAutoscaler', ns, { limit: 100 }),
      ),
      budget.read('list resourcequotas', () => gateway.list('ResourceQuota', ns)),
      budget.read('list limitranges', () => gateway.list('LimitRange', ns)),
      workload?.kind === 'Deployment' && selector
        ? budget.read('list replicasets', () => gateway.list('ReplicaSet', ns, { labelSelector: selector }))
        : Promise.resolve(undefined),
      workload?.kind === 'CronJob'
        ? budget.read('list jobs', () => gateway.list('Job', ns, { limit: 100 }))
        : Promise.resolve(undefined),
    ]);
  for (const pod of podList ?? []) add(pod);
  if (!workload) {
    // No workload to start from (e.g. the issue is about a Service): the namespace's workloads are
    // what a Service selector or an HPA should point at.
    const lists = await Promise.all(
      ['Deployment', 'StatefulSet', 'DaemonSet'].map((kind) =>
        budget.read(`list ${kind}`, () => gateway.list(kind, ns, { limit: 50 })),
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
    const endpoint = (endpoints ?? []).find((e) => e.metadata?.name === svc.metadata?.name);
    add(endpoint);
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
  const nodeNames = new Set(
    chosen.map((p) => asString(at(p, 'spec', 'nodeName'))).filter((n): n is string => Boolean(n)),
  );
  const claims = new Set<string>();
  const configMaps = new Set<string>();
  for (const pod of chosen) {
    for (const volume of asArray(at(pod, 'spec', 'volumes'))) {
      const claim = asString(at(volume, 'persistentVolumeClaim', 'claimName'));
      if (claim) claims.add(claim);
      const configMap = asString(at(volume, 'configMap', 'name'));
      if (configMap) configMaps.add(configMap);
    }
    for (const container of asArray(at(pod, 'spec', 'containers'))) {
      for (const env of asArray(at(container, 'env'))) {
        const ref = asString(at(env, 'valueFrom', 'configMapKeyRef', 'name'));
        if (ref) configMaps.add(ref);
      }
      for (const source of asArray(at(container, 'envFrom'))) {
        const ref = asString(at(source, 'configMapRef', 'name'));
        if (ref) configMaps.add(ref);
      }
    }
  }
  const tail = limits.tailLines ?? 300;
  const failingContainers = chosen
    .flatMap((pod) =>
      asArray(at(pod, 'status', 'containerStatuses'))
        .filter((status) => at(status, 'ready') !== true || (at(status, 'restartCount') as number) > 0)
        .map((status) => ({
          pod,
          container: asString(at(status, 'name')) ?? '',
          restarts: (at(status, 'restartCount') as number) ?? 0,
          running: at(status, 'state', 'running') !== undefined,
        })),
    )
    .slice(0, 2);
  const firstPod = chosen[0];
  const logTarget =
    failingContainers.length > 0
      ? failingContainers
      : firstPod
        ? [
            {
              pod: firstPod,
              container: asString(at(firstPod, 'spec', 'containers', 0, 'name')) ?? '',
              restarts: 0,
              running: true,
            },
          ]
        : [];

  const reads: Array<Promise<unknown>> = [];
  for (const node of [...nodeNames].slice(0, 3))
    reads.push(budget.read(`get node ${node}`, () => gateway.get({ kind: 'Node', name: node })).then(add));
  for (const claim of [...claims].slice(0, 5)) {
    reads.push(
      budget
        .read(`get pvc ${claim}`, () =>
          gateway.get({ kind: 'PersistentVolumeClaim', namespace: ns, name: claim }),
        )
        .then(async (pvc) => {
          add(pvc);
          const storageClass = asString(at(pvc, 'spec', 'storageClassName'));
          if (storageClass)
            add(
              await budget.read(`get storageclass ${storageClass}`, () =>
                gateway.get({ kind: 'StorageClass', name: storageClass }),
              ),
            );
        }),
    );
  }
  for (const name of [...configMaps].slice(0, 5)) {
    reads.push(
      budget
        .read(`get configmap ${name}`, () => gateway.get({ kind: 'ConfigMap', namespace: ns, name }))
        .then((cm) => add(cm ? keysOnly(cm) : undefined)),
    );
  }
  for (const entry of logTarget) {
    const podName = entry.pod.metadata?.name ?? '';
    if (entry.running || entry.restarts === 0) {
      reads.push(
        budget
          .read(`logs ${podName}/${entry.container}`, () =>
            gateway.logs(ns, podName, entry.container, { tailLines: tail, limitBytes: 512 * 1024 }),
          )
          .then((text) => logs.push(...splitLines(text))),
      );
    }
    if (entry.restarts > 0) {
      reads.push(
        budget
          .read(`previous logs ${podName}/${entry.container}`, () =>
            gateway.logs(ns, podName, entry.container, {
              previous: true,
              tailLines: tail,
              limitBytes: 512 * 1024,
            }),
          )
          .then((text) => previousLogs.push(...splitLines(text))),
      );
    }
  }
  for (const pod of chosen.slice(0, 2)) {
    reads.push(
      budget
        .read(`metrics ${pod.metadata?.name}`, () =>
          gateway.get({ kind: 'PodMetrics', namespace: ns, name: pod.metadata?.name ?? '' }),
        )
        .then((podMetrics) => {
          for (const container of asArray(at(podMetrics, 'containers'))) {
            const memory = parseMemoryBytes(asString(at(container, 'usage', 'memory')));
            const cpu = parseCpuMillicores(asString(at(container, 'usage', 'cpu')));
            if (memory !== undefined)
              metrics.memory_working_set_bytes = Math.max(metrics.memory_working_set_bytes ?? 0, memory);
            if (cpu !== undefined)
              metrics.cpu_usage_millicores = Math.max(metrics.cpu_usage_millicores ?? 0, cpu);
          }
        }),
    );
  }
  await Promise.all(reads);

  // Events about the objects we look at, deduplicated later by the normaliser.
  const names = new Set([...pods.values(), ...objects.values()].map((o) => o.metadata?.name));
  names.add(anchor.name);
  events = (eventList ?? []).filter((event) =>
    names.has(asString(at(event, 'involvedObject', 'name')) ?? asString(at(event, 'regarding', 'name'))),
  );
  return finish();

  function finish(): LiveContext {
    return {
      objects: [...objects.values()],
      pods: [...pods.values()],
      events,
      logs,
      previousLogs,
      metrics,
      report: {
        partial: budget.partial,
        notes: budget.notes,
        apiCalls: budget.calls,
        durationMs: Date.now() - started,
      },
    };
  }
}

/** ConfigMaps: keep names of keys (what analysis needs), drop the values. */
function keysOnly(configMap: KubeObject): KubeObject {
  const data = asObject(configMap.data) ?? {};
  const binary = asObject(configMap.binaryData) ?? {};
  return {
    ...configMap,
    data: Object.fromEntries(Object.keys(data).map((key) => [key, ''])),
    binaryData: Object.fromEntries(Object.keys(binary).map((key) => [key, ''])),
  };
}

function splitLines(text: string | undefined): string[] {
  if (!text) return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
