/**
 * The scan's inventory: every object of the kinds the rules read, in the scope, read in parallel
 * (one paginated LIST per kind and namespace set) and slimmed as each page arrives — managed fields,
 * last-applied annotations and ConfigMap values are dropped, and so are the routine events of pods
 * that start normally — so a 2,000-pod cluster fits in a few megabytes.
 */
import { asArray, asString, at } from '../domain/index.js';
import type { KubeObject } from '../cluster/gateway.js';
import type { NamespaceSet, ScanReader } from './reader.js';

/** Kinds read first, for every scan. */
export const INVENTORY_KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Service',
  'Endpoints',
  'PersistentVolumeClaim',
  'HorizontalPodAutoscaler',
  'ResourceQuota',
  'LimitRange',
  'Event',
  'Node',
  'StorageClass',
] as const;

/** Kinds a label selector narrows (kubectl -l): the ones a finding can be about. */
export const SELECTED_KINDS: ReadonlySet<string> = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Service',
  'PersistentVolumeClaim',
  'HorizontalPodAutoscaler',
]);

/**
 * Normal events every healthy pod and controller produces; no rule reads them. Everything else
 * (every Warning, and Normal events such as Killing, BackOff or WaitForFirstConsumer) is kept.
 */
const ROUTINE_EVENTS = new Set([
  'Scheduled',
  'Pulling',
  'Pulled',
  'Created',
  'Started',
  'SuccessfulCreate',
  'SuccessfulDelete',
  'ScalingReplicaSet',
  'SuccessfulAttachVolume',
  'ProvisioningSucceeded',
  'Completed',
  'SawCompletedJob',
  'RegisteredNode',
  'NodeReady',
  'Starting',
  'NodeHasSufficientMemory',
  'NodeHasNoDiskPressure',
  'NodeHasSufficientPID',
  'NodeAllocatableEnforced',
]);

/** The routine events, left on the server (`reason!=Scheduled,…`); `slim` drops any that come anyway. */
const ROUTINE_EVENTS_SELECTOR = [...ROUTINE_EVENTS].map((reason) => `reason!=${reason}`).join(',');

export class Inventory {
  private readonly byKind = new Map<string, KubeObject[]>();

  of(kind: string): readonly KubeObject[] {
    return this.byKind.get(kind) ?? [];
  }

  add(object: KubeObject): void {
    const kind = object.kind ?? 'Unknown';
    const list = this.byKind.get(kind);
    if (list) list.push(object);
    else this.byKind.set(kind, [object]);
  }

  /** Objects per kind, for the report (events and endpoints are not "checked" objects). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [kind, list] of this.byKind) if (!NOT_COUNTED.has(kind)) out[kind] = list.length;
    return out;
  }

  /** Drop a kind once it is no longer needed. */
  release(kind: string): void {
    this.byKind.delete(kind);
  }
}

const NOT_COUNTED = new Set([
  'Event',
  'Endpoints',
  'ReplicaSet',
  'ResourceQuota',
  'LimitRange',
  'StorageClass',
]);

/** Keep what the rules read; drop what only costs memory. Returns undefined for routine events. */
export function slim(object: KubeObject): KubeObject | undefined {
  if (object.kind === 'Event') return slimEvent(object);
  const metadata = object.metadata ? { ...object.metadata } : undefined;
  if (metadata) {
    delete metadata.managedFields;
    if (metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] !== undefined) {
      const { ['kubectl.kubernetes.io/last-applied-configuration']: _dropped, ...rest } =
        metadata.annotations;
      metadata.annotations = rest;
    }
  }
  const out: KubeObject = { ...object, ...(metadata ? { metadata } : {}) };
  if (object.kind === 'ConfigMap') {
    // Key names are what a rule compares; values stay in the cluster.
    out.data = keysOf(object.data);
    out.binaryData = keysOf(object.binaryData);
  }
  return out;
}

function keysOf(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.keys((value as Record<string, unknown> | undefined) ?? {}).map((k) => [k, '']),
  );
}

function slimEvent(event: KubeObject): KubeObject | undefined {
  const reason = asString(event.reason);
  if (event.type !== 'Warning' && reason && ROUTINE_EVENTS.has(reason)) return undefined;
  const fields = [
    'apiVersion',
    'kind',
    'involvedObject',
    'regarding',
    'reason',
    'message',
    'note',
    'type',
    'count',
    'firstTimestamp',
    'lastTimestamp',
    'eventTime',
    'series',
    'source',
    'reportingController',
  ];
  const out: KubeObject = {
    metadata: { name: event.metadata?.name, namespace: event.metadata?.namespace },
  };
  for (const field of fields) if (event[field] !== undefined) out[field] = event[field];
  return out;
}

/** `Kind/namespace/name` of the object an event is about. */
export function eventSubject(event: KubeObject): string {
  const regarding = (at(event, 'involvedObject') ?? at(event, 'regarding')) as
    Record<string, unknown> | undefined;
  const namespace = asString(regarding?.namespace) ?? event.metadata?.namespace ?? '';
  return `${asString(regarding?.kind) ?? ''}/${namespace}/${asString(regarding?.name) ?? ''}`;
}

/** `Kind/namespace/name` of an object (namespace empty for cluster-scoped ones). */
export function keyOf(object: KubeObject): string {
  return `${object.kind ?? ''}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * A pod with nothing wrong, reduced to what grouping, triage and relations read: identity, labels,
 * owners, node, claims and status. Its containers' specs (env, probes, resources, mounts) — most of
 * a pod's size — are only read for failing pods, which are kept whole.
 */
export function podSkeleton(pod: KubeObject): KubeObject {
  const metadata = pod.metadata ?? {};
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const claims = asArray(spec.volumes).filter((volume) => at(volume, 'persistentVolumeClaim') !== undefined);
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      labels: metadata.labels,
      ownerReferences: metadata.ownerReferences,
      creationTimestamp: metadata.creationTimestamp,
      deletionTimestamp: metadata.deletionTimestamp,
    },
    spec: { nodeName: spec.nodeName, ...(claims.length > 0 ? { volumes: claims } : {}) },
    status: pod.status,
  };
}

/**
 * Read every inventory kind in the scope, in parallel within the reader's bound; `reduce` may
 * shrink each object further as it arrives (the engine keeps healthy pods as skeletons).
 */
export async function readInventory(
  reader: ScanReader,
  namespaces: NamespaceSet,
  labelSelector: string | undefined,
  onKind?: (kind: string, count: number) => void,
  reduce: (object: KubeObject) => KubeObject = (object) => object,
): Promise<Inventory> {
  const inventory = new Inventory();
  await Promise.all(
    INVENTORY_KINDS.map(async (kind) => {
      let count = 0;
      const selectors =
        kind === 'Event'
          ? { fieldSelector: ROUTINE_EVENTS_SELECTOR }
          : { labelSelector: SELECTED_KINDS.has(kind) ? labelSelector : undefined };
      await reader.list(kind, namespaces, selectors, (item) => {
        const kept = slim(item);
        if (!kept) return;
        count++;
        inventory.add(reduce(kept));
      });
      onKind?.(kind, count);
    }),
  );
  return inventory;
}
