/**
 * Verification: is the changed workload healthy, and is the triggering condition gone? Read-only
 * checks through the ClusterGateway, per target kind.
 */
import type { ClusterGateway, KubeObject, ObjectKey } from '../cluster/gateway.js';
import { selectorString } from '../domain/selectors.js';
import { asArray, asNumber, asObject, asString, at } from '../domain/index.js';

export interface HealthReport {
  readonly healthy: boolean;
  /** Why not (or what was checked), in words for the result message. */
  readonly detail: string;
  /** Restart counts of the workload's pods, to check stability over a window. */
  readonly restarts?: Readonly<Record<string, number>>;
  /** A failure that will not heal by waiting (e.g. CrashLoopBackOff, ImagePullBackOff). */
  readonly failing?: boolean;
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

function selectorOf(object: KubeObject): string | undefined {
  return selectorString(at(object, 'spec', 'selector'));
}

async function podHealth(
  gateway: ClusterGateway,
  namespace: string,
  selector: string | undefined,
  templateHash?: string,
): Promise<HealthReport> {
  if (!selector) return { healthy: true, detail: 'no selector' };
  const pods = (await gateway.list('Pod', namespace, { labelSelector: selector })).filter(
    (pod) =>
      !pod.metadata?.deletionTimestamp &&
      (templateHash === undefined || pod.metadata?.labels?.['pod-template-hash'] === templateHash),
  );
  const restarts: Record<string, number> = {};
  for (const pod of pods) {
    for (const status of asArray(at(pod, 'status', 'containerStatuses'))) {
      restarts[`${pod.metadata?.name}/${asString(at(status, 'name'))}`] =
        asNumber(at(status, 'restartCount')) ?? 0;
    }
  }
  for (const pod of pods) {
    for (const status of asArray(at(pod, 'status', 'containerStatuses'))) {
      const waiting = asString(at(status, 'state', 'waiting', 'reason'));
      if (waiting && BAD_WAITING.has(waiting))
        return {
          healthy: false,
          failing: true,
          detail: `pod ${pod.metadata?.name} container ${asString(at(status, 'name'))} is ${waiting}`,
          restarts,
        };
      const terminated = asString(at(status, 'lastState', 'terminated', 'reason'));
      if (at(status, 'ready') !== true)
        return {
          healthy: false,
          detail: `pod ${pod.metadata?.name} is not ready${terminated ? ` (last termination: ${terminated})` : ''}`,
          restarts,
        };
    }
    if (asString(at(pod, 'status', 'phase')) === 'Pending')
      return { healthy: false, detail: `pod ${pod.metadata?.name} is Pending`, restarts };
  }
  return { healthy: true, detail: `${pods.length} pod(s) ready`, restarts };
}

async function currentTemplateHash(
  gateway: ClusterGateway,
  deployment: KubeObject,
): Promise<string | undefined> {
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const namespace = deployment.metadata?.namespace;
  const replicaSets = await gateway.list('ReplicaSet', namespace, { labelSelector: selectorOf(deployment) });
  const current = replicaSets.find(
    (rs) =>
      rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision &&
      (rs.metadata?.ownerReferences ?? []).some((o) => o.uid === deployment.metadata?.uid),
  );
  return current?.metadata?.labels?.['pod-template-hash'];
}

/** Workloads whose controller reports `observedGeneration` and rolls pods out. */
const ROLLOUT_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

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
  if (pods.failing) return pods;
  if (progressing) return { healthy: false, detail: progress, restarts: pods.restarts };
  return pods.healthy ? { healthy: true, detail: done, restarts: pods.restarts } : pods;
}

export async function checkHealth(gateway: ClusterGateway, key: ObjectKey): Promise<HealthReport> {
  const object = await gateway.get(key);
  if (!object) return { healthy: false, detail: `${key.kind} ${key.name} does not exist` };
  const spec = asObject(object.spec) ?? {};
  const status = asObject(object.status) ?? {};
  const generation = object.metadata?.generation ?? 0;
  const observed = asNumber(status.observedGeneration) ?? 0;
  const namespace = key.namespace ?? '';
  if (ROLLOUT_KINDS.has(key.kind) && observed < generation)
    return { healthy: false, detail: 'the controller has not observed the change yet' };
  switch (key.kind) {
    case 'Deployment': {
      const replicas = asNumber(spec.replicas) ?? 1;
      const updated = asNumber(status.updatedReplicas) ?? 0;
      const ready = asNumber(status.readyReplicas) ?? 0;
      const available = asNumber(status.availableReplicas) ?? 0;
      const total = asNumber(status.replicas) ?? 0;
      const pods = await podHealth(
        gateway,
        namespace,
        selectorOf(object),
        await currentTemplateHash(gateway, object),
      );
      return rolloutHealth(
        pods,
        updated < replicas || ready < replicas || available < replicas || total > replicas,
        `${ready}/${replicas} ready, ${updated} updated, ${available} available`,
        `${ready}/${replicas} replicas ready and available`,
      );
    }
    case 'StatefulSet': {
      const replicas = asNumber(spec.replicas) ?? 1;
      const ready = asNumber(status.readyReplicas) ?? 0;
      const updated = asNumber(status.updatedReplicas) ?? 0;
      const pods = await podHealth(gateway, namespace, selectorOf(object));
      return rolloutHealth(
        pods,
        ready < replicas || updated < replicas || status.currentRevision !== status.updateRevision,
        `${ready}/${replicas} ready, ${updated} updated`,
        `${ready}/${replicas} replicas ready`,
      );
    }
    case 'DaemonSet': {
      const desired = asNumber(status.desiredNumberScheduled) ?? 0;
      const ready = asNumber(status.numberReady) ?? 0;
      const updated = asNumber(status.updatedNumberScheduled) ?? 0;
      const pods = await podHealth(gateway, namespace, selectorOf(object));
      return rolloutHealth(
        pods,
        ready < desired || updated < desired,
        `${ready}/${desired} ready, ${updated} updated`,
        `${ready}/${desired} pods ready`,
      );
    }
    case 'Service': {
      const endpoints = await gateway.get({ kind: 'Endpoints', namespace, name: key.name });
      const ready = asArray(at(endpoints, 'subsets')).reduce<number>(
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
