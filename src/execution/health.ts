/**
 * Verification: is the changed workload healthy, and is the triggering condition gone? A pure
 * assessment of a `HealthView` — the target and what its health depends on (a Deployment's
 * ReplicaSets and pods, a Service's Endpoints) — which verification keeps current from watches
 * (`verify.ts`), and the sources to watch per kind.
 */
import type { KubeObject, ObjectKey } from '../cluster/gateway.js';
import { selectorString } from '../domain/selectors.js';
import { asArray, asNumber, asObject, asString, at } from '../domain/index.js';

export interface HealthReport {
  readonly healthy: boolean;
  /** Why not (or what was checked), in words for the result message. */
  readonly detail: string;
  /** Restart counts of the workload's pods, to check stability over a window. */
  readonly restarts?: Readonly<Record<string, number>>;
  /** Running containers of the workload's pods: `pod/container` → container ID (or start time). */
  readonly running?: Readonly<Record<string, string>>;
  /** When those containers started, by the node's clock (`state.running.startedAt`). */
  readonly startedAt?: Readonly<Record<string, string>>;
  /** Pods created at these times (`pod` → creationTimestamp), to tell new pods from old. */
  readonly created?: Readonly<Record<string, string>>;
  /**
   * Since when every current pod has been Ready by the node's clock (the latest `Ready=True`
   * transition among them); absent when one of them does not say.
   */
  readonly readySince?: string;
  /** A failure that will not heal by waiting (e.g. CrashLoopBackOff, ImagePullBackOff). */
  readonly failing?: boolean;
}

/** What a target's health is judged on: the object, and for workloads their pods and ReplicaSets. */
export interface HealthView {
  readonly object: KubeObject | undefined;
  readonly pods?: readonly KubeObject[];
  readonly replicaSets?: readonly KubeObject[];
  readonly endpoints?: KubeObject;
}

/** A list (or watch) that feeds a `HealthView`. */
export interface HealthSource {
  readonly role: 'object' | 'pods' | 'replicaSets' | 'endpoints';
  readonly kind: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

const BAD_WAITING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'InvalidImageName',
]);

/** Workloads whose controller reports `observedGeneration` and rolls pods out. */
const ROLLOUT_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function selectorOf(object: KubeObject | undefined): string | undefined {
  return selectorString(at(object, 'spec', 'selector'));
}

/** What to list and watch to judge `key`'s health; the object itself decides the pod selector. */
export function healthSources(key: ObjectKey, object: KubeObject | undefined): HealthSource[] {
  const namespace = key.namespace;
  const byName = { namespace, fieldSelector: `metadata.name=${key.name}` };
  const sources: HealthSource[] = [{ role: 'object', kind: key.kind, ...byName }];
  const selector = selectorOf(object);
  if (ROLLOUT_KINDS.has(key.kind) && selector) {
    sources.push({ role: 'pods', kind: 'Pod', namespace, labelSelector: selector });
    if (key.kind === 'Deployment')
      sources.push({ role: 'replicaSets', kind: 'ReplicaSet', namespace, labelSelector: selector });
  }
  if (key.kind === 'Service') sources.push({ role: 'endpoints', kind: 'Endpoints', ...byName });
  return sources;
}

function podHealth(pods: readonly KubeObject[], templateHash?: string): HealthReport & { count: number } {
  const current = pods.filter(
    (pod) =>
      !pod.metadata?.deletionTimestamp &&
      (templateHash === undefined || pod.metadata?.labels?.['pod-template-hash'] === templateHash),
  );
  const restarts: Record<string, number> = {};
  const running: Record<string, string> = {};
  const started: Record<string, string> = {};
  const created: Record<string, string> = {};
  let readySince: string | undefined;
  let readyKnown = current.length > 0;
  for (const pod of current) {
    const name = String(pod.metadata?.name);
    const ready = asArray(at(pod, 'status', 'conditions')).find(
      (c) => at(c, 'type') === 'Ready' && at(c, 'status') === 'True',
    );
    const since = asString(at(ready, 'lastTransitionTime'));
    if (since === undefined) readyKnown = false;
    else if (readySince === undefined || Date.parse(since) > Date.parse(readySince)) readySince = since;
    const createdAt = asString(pod.metadata?.['creationTimestamp']);
    if (createdAt) created[name] = createdAt;
    for (const status of asArray(at(pod, 'status', 'containerStatuses'))) {
      const container = `${name}/${asString(at(status, 'name'))}`;
      restarts[container] = asNumber(at(status, 'restartCount')) ?? 0;
      const startedAt = asString(at(status, 'state', 'running', 'startedAt'));
      if (at(status, 'state', 'running') === undefined) continue;
      running[container] = asString(at(status, 'containerID')) ?? startedAt ?? 'running';
      if (startedAt) started[container] = startedAt;
    }
  }
  const facts = {
    restarts,
    running,
    startedAt: started,
    created,
    count: current.length,
    ...(readyKnown && readySince ? { readySince } : {}),
  };
  for (const pod of current) {
    for (const status of asArray(at(pod, 'status', 'containerStatuses'))) {
      const waiting = asString(at(status, 'state', 'waiting', 'reason'));
      if (waiting && BAD_WAITING.has(waiting))
        return {
          healthy: false,
          failing: true,
          detail: `pod ${pod.metadata?.name} container ${asString(at(status, 'name'))} is ${waiting}`,
          ...facts,
        };
      const terminated = asString(at(status, 'lastState', 'terminated', 'reason'));
      if (at(status, 'ready') !== true)
        return {
          healthy: false,
          detail: `pod ${pod.metadata?.name} is not ready${terminated ? ` (last termination: ${terminated})` : ''}`,
          ...facts,
        };
    }
    if (asString(at(pod, 'status', 'phase')) === 'Pending')
      return { healthy: false, detail: `pod ${pod.metadata?.name} is Pending`, ...facts };
  }
  return { healthy: true, detail: `${current.length} pod(s) ready`, ...facts };
}

/**
 * The pod-template-hash of the Deployment's current revision: undefined when the ReplicaSets show
 * none (no revision yet), `null` when the revision's ReplicaSet is not in view yet.
 */
function currentTemplateHash(
  deployment: KubeObject,
  replicaSets: readonly KubeObject[],
): string | null | undefined {
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const current = replicaSets.find(
    (rs) =>
      rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision &&
      (rs.metadata?.ownerReferences ?? []).some((o) => o.uid === deployment.metadata?.uid),
  );
  if (current) return current.metadata?.labels?.['pod-template-hash'];
  return revision !== undefined && replicaSets.length > 0 ? null : undefined;
}

/**
 * A rollout's health: a pod failing in a way waiting will not heal first, then the controller's
 * counters (`progressing`: not every replica is updated and ready yet), then the pods' readiness.
 */
function rolloutHealth(
  pods: HealthReport,
  progressing: boolean,
  progress: string,
  done: string,
): HealthReport {
  const { healthy: _h, detail: _d, failing: _f, ...facts } = pods;
  if (pods.failing) return pods;
  if (progressing) return { healthy: false, detail: progress, ...facts };
  return pods.healthy ? { healthy: true, detail: done, ...facts } : pods;
}

function deploymentHealth(object: KubeObject, view: HealthView): HealthReport {
  const spec = asObject(object.spec) ?? {};
  const status = asObject(object.status) ?? {};
  const replicas = asNumber(spec.replicas) ?? 1;
  const updated = asNumber(status.updatedReplicas) ?? 0;
  const ready = asNumber(status.readyReplicas) ?? 0;
  const available = asNumber(status.availableReplicas) ?? 0;
  const total = asNumber(status.replicas) ?? 0;
  const hash = currentTemplateHash(object, view.replicaSets ?? []);
  if (hash === null)
    return { healthy: false, detail: "the current revision's ReplicaSet is not in view yet" };
  const pods = podHealth(view.pods ?? [], hash);
  // Watched separately, the controller's counters may run ahead of the pods seen: with a current
  // ReplicaSet in view, every replica must be seen ready among its pods.
  const seen = pods.healthy && hash !== undefined && pods.count < replicas;
  return rolloutHealth(
    seen ? { ...pods, healthy: false, detail: `${pods.count}/${replicas} new pod(s) seen` } : pods,
    updated < replicas || ready < replicas || available < replicas || total > replicas,
    `${ready}/${replicas} ready, ${updated} updated, ${available} available`,
    `${ready}/${replicas} replicas ready and available`,
  );
}

/** Health of `key` from a view of it: pure, so a watch can re-judge it on every event. */
export function assessHealth(key: ObjectKey, view: HealthView): HealthReport {
  const object = view.object;
  if (!object) return { healthy: false, detail: `${key.kind} ${key.name} does not exist` };
  const status = asObject(object.status) ?? {};
  const generation = object.metadata?.generation ?? 0;
  const observed = asNumber(status.observedGeneration) ?? 0;
  if (ROLLOUT_KINDS.has(key.kind) && observed < generation)
    return { healthy: false, detail: 'the controller has not observed the change yet' };
  switch (key.kind) {
    case 'Deployment':
      return deploymentHealth(object, view);
    case 'StatefulSet': {
      const replicas = asNumber(at(object, 'spec', 'replicas')) ?? 1;
      const ready = asNumber(status.readyReplicas) ?? 0;
      const updated = asNumber(status.updatedReplicas) ?? 0;
      return rolloutHealth(
        podHealth(view.pods ?? []),
        ready < replicas || updated < replicas || status.currentRevision !== status.updateRevision,
        `${ready}/${replicas} ready, ${updated} updated`,
        `${ready}/${replicas} replicas ready`,
      );
    }
    case 'DaemonSet': {
      const desired = asNumber(status.desiredNumberScheduled) ?? 0;
      const ready = asNumber(status.numberReady) ?? 0;
      const updated = asNumber(status.updatedNumberScheduled) ?? 0;
      return rolloutHealth(
        podHealth(view.pods ?? []),
        ready < desired || updated < desired,
        `${ready}/${desired} ready, ${updated} updated`,
        `${ready}/${desired} pods ready`,
      );
    }
    case 'Service': {
      const ready = asArray(at(view.endpoints, 'subsets')).reduce<number>(
        (n, subset) => n + asArray(at(subset, 'addresses')).length,
        0,
      );
      return ready > 0
        ? { healthy: true, detail: `${ready} ready endpoint(s)` }
        : { healthy: false, detail: 'no ready endpoints' };
    }
    case 'HorizontalPodAutoscaler': {
      const conditions = asArray(status.conditions);
      const limited = conditions.find((c) => at(c, 'type') === 'ScalingLimited');
      const active = conditions.find((c) => at(c, 'type') === 'ScalingActive');
      if (at(active, 'status') === 'False')
        return { healthy: false, detail: `ScalingActive=False (${asString(at(active, 'reason'))})` };
      if (at(limited, 'status') === 'True' && at(limited, 'reason') === 'TooManyReplicas')
        return { healthy: false, detail: 'still limited by maxReplicas' };
      return { healthy: true, detail: 'the autoscaler is within range' };
    }
    case 'Node':
      return {
        healthy: true,
        detail: `spec.unschedulable=${String(at(object, 'spec', 'unschedulable') ?? false)}`,
      };
    default:
      // CronJobs, ConfigMaps, Roles…: the change is in place; effects show on the next run/use.
      return { healthy: true, detail: `${key.kind} ${key.name} updated` };
  }
}
