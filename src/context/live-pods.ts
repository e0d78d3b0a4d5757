/**
 * Per-pod live reads: the nodes the pods run on, their PersistentVolumeClaims (and StorageClasses),
 * the key names of the ConfigMaps they reference, each failing container's own logs (current and
 * previous instance, kept apart so that a container's last error comes from its own output), and
 * usage from metrics.k8s.io.
 */
import { asArray, asObject, asString, at, parseCpuMillicores, parseMemoryBytes } from '../domain/index.js';
import type { ClusterGateway, KubeObject } from '../cluster/gateway.js';
import type { Budget } from './live-budget.js';
import type { Add } from './live-subjects.js';

/** One container's output as read from the cluster. */
export interface LiveLog {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** The previous (terminated) instance's output, `kubectl logs --previous`. */
  readonly previous: boolean;
  readonly lines: readonly string[];
}

/** At most this many containers have their logs read. */
const MAX_LOG_CONTAINERS = 3;

function restartsOf(status: unknown): number {
  return Number(at(status, 'restartCount')) || 0;
}

/** The containers whose output explains the incident: failing ones first, else the first container. */
function logTargets(pods: readonly KubeObject[]) {
  const failing = pods.flatMap((pod) =>
    asArray(at(pod, 'status', 'containerStatuses'))
      .filter((status) => at(status, 'ready') !== true || restartsOf(status) > 0)
      .map((status) => ({
        pod,
        container: asString(at(status, 'name')) ?? '',
        restarts: restartsOf(status),
        running: at(status, 'state', 'running') !== undefined,
      })),
  );
  if (failing.length > 0) return failing.slice(0, MAX_LOG_CONTAINERS);
  const first = pods[0];
  if (!first) return [];
  return [
    {
      pod: first,
      container: asString(at(first, 'spec', 'containers', 0, 'name')) ?? '',
      restarts: 0,
      running: true,
    },
  ];
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

export function splitLines(text: string | undefined): string[] {
  if (!text) return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function referencedConfigMaps(pods: readonly KubeObject[]): { claims: Set<string>; configMaps: Set<string> } {
  const claims = new Set<string>();
  const configMaps = new Set<string>();
  for (const pod of pods) {
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
  return { claims, configMaps };
}

export async function readPodDetails(
  gateway: ClusterGateway,
  budget: Budget,
  add: Add,
  namespace: string,
  chosen: readonly KubeObject[],
  tail: number,
): Promise<{ logs: LiveLog[]; metrics: Record<string, number> }> {
  const logs: LiveLog[] = [];
  const metrics: Record<string, number> = {};
  const nodeNames = new Set(
    chosen.map((p) => asString(at(p, 'spec', 'nodeName'))).filter((n): n is string => Boolean(n)),
  );
  const { claims, configMaps } = referencedConfigMaps(chosen);
  const ns = { namespace };
  const reads: Array<Promise<unknown>> = [];
  for (const node of [...nodeNames].slice(0, 3))
    reads.push(budget.read(`get node ${node}`, () => gateway.get({ kind: 'Node', name: node })).then(add));
  for (const claim of [...claims].slice(0, 5)) {
    reads.push(
      budget
        .read(
          `get pvc ${claim}`,
          () => gateway.get({ kind: 'PersistentVolumeClaim', namespace, name: claim }),
          ns,
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
        .read(`get configmap ${name}`, () => gateway.get({ kind: 'ConfigMap', namespace, name }), ns)
        .then((cm) => add(cm ? keysOnly(cm) : undefined)),
    );
  }
  for (const entry of logTargets(chosen)) {
    const pod = entry.pod.metadata?.name ?? '';
    const read = (previous: boolean) =>
      budget
        .read(
          `${previous ? 'previous logs' : 'logs'} ${pod}/${entry.container}`,
          () =>
            gateway.logs(namespace, pod, entry.container, {
              ...(previous ? { previous: true } : {}),
              tailLines: tail,
              limitBytes: 512 * 1024,
            }),
          ns,
        )
        .then((text) => {
          const lines = splitLines(text);
          if (lines.length > 0) logs.push({ namespace, pod, container: entry.container, previous, lines });
        });
    if (entry.running || entry.restarts === 0) reads.push(read(false));
    if (entry.restarts > 0) reads.push(read(true));
  }
  for (const pod of chosen.slice(0, 2)) {
    reads.push(
      budget
        .read(
          `metrics ${pod.metadata?.name}`,
          () => gateway.get({ kind: 'PodMetrics', namespace, name: pod.metadata?.name ?? '' }),
          { quiet: true },
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
  // Deterministic order whatever the order the reads finished in.
  logs.sort(
    (a, b) =>
      a.pod.localeCompare(b.pod) ||
      a.container.localeCompare(b.container) ||
      Number(b.previous) - Number(a.previous),
  );
  return { logs, metrics };
}
