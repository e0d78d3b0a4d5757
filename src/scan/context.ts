/**
 * One candidate's context, cut from the inventory: what live gathering would have read for it — the
 * owner and its ReplicaSets or Jobs, its pods (failing first), their nodes, claims and ConfigMap key
 * names, the Services that select them and their Endpoints, the autoscaler that scales it, the
 * namespace's quotas and limit ranges, the events about all of these, and the logs read for it — in
 * the `LiveContext` shape the normaliser already takes. No request is made here.
 */
import {
  asArray,
  asString,
  at,
  parseCpuMillicores,
  parseMemoryBytes,
  selectorMatches,
} from '../domain/index.js';
import type { KubeObject } from '../cluster/gateway.js';
import type { LiveContext, LiveLog } from '../context/live.js';
import { eventSubject, type Inventory, keyOf } from './inventory.js';
import { claimNames, type Candidate } from './triage.js';

/** What the second round of reads brought for the candidates. */
export interface Extras {
  /** ConfigMaps (key names only) by `namespace/name`. */
  readonly configMaps: ReadonlyMap<string, KubeObject>;
  /** PodMetrics by `namespace/pod`. */
  readonly metrics: ReadonlyMap<string, KubeObject>;
  /** Log lines by pod key (`Pod/namespace/name`). */
  readonly logs: ReadonlyMap<string, readonly LiveLog[]>;
}

const MAX_PODS = 20;
/** Pods whose nodes, claims, ConfigMaps and metrics are added (as live gathering does). */
const DETAILED_PODS = 5;

export class Lookup {
  private readonly byKey = new Map<string, KubeObject>();
  private readonly podsByNamespace = new Map<string, KubeObject[]>();
  private readonly events = new Map<string, KubeObject[]>();

  constructor(private readonly inventory: Inventory) {
    for (const kind of [
      'Node',
      'PersistentVolumeClaim',
      'StorageClass',
      'Endpoints',
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'ReplicaSet',
    ])
      for (const object of inventory.of(kind)) this.byKey.set(keyOf(object), object);
    for (const pod of inventory.of('Pod')) push(this.podsByNamespace, pod.metadata?.namespace ?? '', pod);
    for (const event of inventory.of('Event')) push(this.events, eventSubject(event), event);
  }

  get(kind: string, namespace: string | undefined, name: string | undefined): KubeObject | undefined {
    return name ? this.byKey.get(`${kind}/${namespace ?? ''}/${name}`) : undefined;
  }

  pods(namespace: string | undefined): readonly KubeObject[] {
    return this.podsByNamespace.get(namespace ?? '') ?? [];
  }

  inNamespace(kind: string, namespace: string | undefined): KubeObject[] {
    return this.inventory.of(kind).filter((object) => object.metadata?.namespace === namespace);
  }

  eventsAbout(object: KubeObject): readonly KubeObject[] {
    return this.events.get(keyOf(object)) ?? [];
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Pods of a candidate: the failing ones first, at most MAX_PODS. */
function podsOf(candidate: Candidate): KubeObject[] {
  const pods = candidate.group?.pods ?? [];
  const failing = new Set(candidate.failingPods);
  return [...candidate.failingPods, ...pods.filter((pod) => !failing.has(pod))].slice(0, MAX_PODS);
}

/** Names of the ConfigMaps a pod reads (volumes, env, envFrom). */
export function configMapNames(pod: KubeObject): string[] {
  const names = new Set<string>();
  for (const volume of asArray(at(pod, 'spec', 'volumes'))) {
    const name = asString(at(volume, 'configMap', 'name'));
    if (name) names.add(name);
    for (const source of asArray(at(volume, 'projected', 'sources'))) {
      const projected = asString(at(source, 'configMap', 'name'));
      if (projected) names.add(projected);
    }
  }
  for (const container of [
    ...asArray(at(pod, 'spec', 'containers')),
    ...asArray(at(pod, 'spec', 'initContainers')),
  ]) {
    for (const env of asArray(at(container, 'env'))) {
      const name = asString(at(env, 'valueFrom', 'configMapKeyRef', 'name'));
      if (name) names.add(name);
    }
    for (const source of asArray(at(container, 'envFrom'))) {
      const name = asString(at(source, 'configMapRef', 'name'));
      if (name) names.add(name);
    }
  }
  names.delete('kube-root-ca.crt');
  return [...names];
}

export function candidateContext(candidate: Candidate, lookup: Lookup, extras: Extras): LiveContext {
  const objects = new Map<string, KubeObject>();
  const add = (object: KubeObject | undefined): void => {
    if (object?.metadata?.name) objects.set(keyOf(object), object);
  };
  const namespace = candidate.owner.namespace;
  let pods = podsOf(candidate);
  const subject = candidate.object;

  if (candidate.group) {
    if (candidate.group.object && candidate.group.object.kind !== 'Pod') add(candidate.group.object);
    for (const intermediate of candidate.group.intermediates) add(intermediate);
  } else if (subject?.kind === 'Service') {
    add(subject);
    add(lookup.get('Endpoints', namespace, subject.metadata?.name));
    // What a Service selector should point at: the namespace's workloads, and the pods it selects.
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'])
      for (const workload of lookup.inNamespace(kind, namespace).slice(0, 50)) add(workload);
    const selector = at(subject, 'spec', 'selector');
    pods = lookup
      .pods(namespace)
      .filter((pod) => selectorMatches(selector, pod.metadata?.labels))
      .slice(0, 10);
  } else if (subject?.kind === 'PersistentVolumeClaim') {
    add(subject);
    pods = lookup
      .pods(namespace)
      .filter((pod) => claimNames(pod).includes(subject.metadata?.name ?? ''))
      .slice(0, 5);
  } else if (subject?.kind === 'HorizontalPodAutoscaler') {
    add(subject);
    const targetKind = asString(at(subject, 'spec', 'scaleTargetRef', 'kind')) ?? 'Deployment';
    const target = lookup.get(targetKind, namespace, asString(at(subject, 'spec', 'scaleTargetRef', 'name')));
    add(target);
    const selector = at(target, 'spec', 'selector');
    pods = target
      ? lookup
          .pods(namespace)
          .filter((pod) => selectorMatches(selector, pod.metadata?.labels))
          .slice(0, 5)
      : [];
  } else if (subject?.kind === 'Node') {
    add(subject);
    pods = [];
  }

  const detailed = pods.slice(0, DETAILED_PODS);
  for (const pod of detailed) {
    add(lookup.get('Node', undefined, asString(at(pod, 'spec', 'nodeName'))));
    for (const claim of claimNames(pod)) add(lookup.get('PersistentVolumeClaim', namespace, claim));
    for (const name of configMapNames(pod)) add(extras.configMaps.get(`${namespace ?? ''}/${name}`));
  }
  for (const claim of [...objects.values()].filter((o) => o.kind === 'PersistentVolumeClaim'))
    add(lookup.get('StorageClass', undefined, asString(at(claim, 'spec', 'storageClassName'))));

  if (candidate.group) {
    const labelSets = [
      at(candidate.group.object, 'spec', 'template', 'metadata', 'labels') as
        Record<string, string> | undefined,
      ...pods.map((pod) => pod.metadata?.labels),
    ].filter((labels): labels is Record<string, string> => labels !== undefined);
    for (const service of lookup.inNamespace('Service', namespace)) {
      if (!labelSets.some((labels) => selectorMatches(at(service, 'spec', 'selector'), labels))) continue;
      add(service);
      add(lookup.get('Endpoints', namespace, service.metadata?.name));
    }
    for (const hpa of lookup.inNamespace('HorizontalPodAutoscaler', namespace)) {
      const target = at(hpa, 'spec', 'scaleTargetRef');
      if (
        asString(at(target, 'kind')) === candidate.owner.kind &&
        asString(at(target, 'name')) === candidate.owner.name
      )
        add(hpa);
    }
  }
  if (namespace) {
    for (const quota of lookup.inNamespace('ResourceQuota', namespace)) add(quota);
    for (const limitRange of lookup.inNamespace('LimitRange', namespace)) add(limitRange);
  }

  const events = [...objects.values(), ...pods].flatMap((object) => [...lookup.eventsAbout(object)]);
  const logs = pods.flatMap((pod) => extras.logs.get(keyOf(pod)) ?? []);
  return {
    objects: [...objects.values()],
    pods,
    events,
    logs,
    metrics: metricsOf(detailed, extras),
    report: { partial: false, notes: [], apiCalls: 0, durationMs: 0, denied: [] },
  };
}

/** The highest memory working set and CPU usage among the pods' containers. */
function metricsOf(pods: readonly KubeObject[], extras: Extras): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const pod of pods) {
    const podMetrics = extras.metrics.get(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
    for (const container of asArray(at(podMetrics, 'containers'))) {
      const memory = parseMemoryBytes(asString(at(container, 'usage', 'memory')));
      const cpu = parseCpuMillicores(asString(at(container, 'usage', 'cpu')));
      if (memory !== undefined)
        metrics.memory_working_set_bytes = Math.max(metrics.memory_working_set_bytes ?? 0, memory);
      if (cpu !== undefined) metrics.cpu_usage_millicores = Math.max(metrics.cpu_usage_millicores ?? 0, cpu);
    }
  }
  return metrics;
}
