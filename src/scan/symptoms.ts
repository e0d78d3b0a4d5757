/**
 * Symptoms: the cheap, pure test that decides which objects of a scan deserve an analysis. A
 * symptom is a status a person would call broken (a container waiting in CrashLoopBackOff, a pod the
 * scheduler cannot place, a failed Job, a Service with no ready endpoints, a Node not Ready); the
 * rules then say why. Objects still starting are `settling`, not judged: a pod in its first minute
 * that is not ready yet, or a readiness probe that failed once before the app listened, is not a
 * finding.
 */
import { asArray, asNumber, asString, at } from '../domain/index.js';
import type { KubeObject } from '../cluster/gateway.js';

/** A verdict on one object: nothing wrong, still starting, or what is wrong (for the issue text). */
export type Verdict = { readonly state: 'ok' } | { readonly state: 'settling' } | Symptom;
export interface Symptom {
  readonly state: 'failing';
  readonly text: string;
}

export interface Clock {
  /** Milliseconds since the epoch, now. */
  readonly now: number;
  /** An object younger than this (or a container started more recently) is still settling. */
  readonly settleMs: number;
  /** A restart more recent than this counts as a symptom of a running container. */
  readonly recentRestartMs: number;
}

const OK: Verdict = { state: 'ok' };
const SETTLING: Verdict = { state: 'settling' };
const failing = (text: string): Symptom => ({ state: 'failing', text });

/** Waiting reasons that are failures at once, whatever the pod's age. */
const HARD_WAITING = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreCreateHookError',
  'PostStartHookError',
  'StartError',
]);

function millis(value: unknown): number | undefined {
  const text = asString(value);
  if (!text) return undefined;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function conditionOf(object: unknown, type: string): Record<string, unknown> | undefined {
  return asArray(at(object, 'status', 'conditions')).find((c) => at(c, 'type') === type) as
    Record<string, unknown> | undefined;
}

function age(object: KubeObject, clock: Clock): number {
  const created = millis(object.metadata?.creationTimestamp);
  return created === undefined ? Number.POSITIVE_INFINITY : clock.now - created;
}

function podName(pod: KubeObject): string {
  return pod.metadata?.name ?? '';
}

/** One pod. Pods of Jobs are judged by their Job (a failed attempt of a Job that then succeeded is fine). */
export function podVerdict(pod: KubeObject, clock: Clock, ownedByJob: boolean): Verdict {
  if (pod.metadata?.deletionTimestamp) return OK;
  const phase = asString(at(pod, 'status', 'phase'));
  if (phase === 'Succeeded') return OK;
  if (phase === 'Failed') {
    if (ownedByJob) return OK;
    const reason = asString(at(pod, 'status', 'reason')) ?? 'Failed';
    return failing(`pod ${podName(pod)}: ${reason} ${asString(at(pod, 'status', 'message')) ?? ''}`.trim());
  }
  const scheduled = conditionOf(pod, 'PodScheduled');
  if (scheduled && at(scheduled, 'status') === 'False')
    return failing(
      `pod ${podName(pod)}: not scheduled (${asString(at(scheduled, 'reason')) ?? 'Pending'}: ${asString(at(scheduled, 'message')) ?? ''})`,
    );
  const statuses = [
    ...asArray(at(pod, 'status', 'initContainerStatuses')),
    ...asArray(at(pod, 'status', 'containerStatuses')),
  ];
  let lastStart = millis(pod.metadata?.creationTimestamp) ?? 0;
  for (const status of statuses) {
    const name = asString(at(status, 'name')) ?? '';
    const waiting = asString(at(status, 'state', 'waiting', 'reason'));
    if (waiting && HARD_WAITING.has(waiting))
      return failing(
        `pod ${podName(pod)} container ${name}: ${waiting}${restartsText(status)}${messageText(at(status, 'state', 'waiting', 'message'))}`,
      );
    const restarts = asNumber(at(status, 'restartCount')) ?? 0;
    const lastExit = millis(at(status, 'lastState', 'terminated', 'finishedAt'));
    if (restarts > 0 && lastExit !== undefined && clock.now - lastExit < clock.recentRestartMs)
      return failing(
        `pod ${podName(pod)} container ${name}: restarted ${restarts} time(s), last ${asString(at(status, 'lastState', 'terminated', 'reason')) ?? 'exit'} at ${asString(at(status, 'lastState', 'terminated', 'finishedAt'))}`,
      );
    const started = millis(at(status, 'state', 'running', 'startedAt'));
    if (started !== undefined) lastStart = Math.max(lastStart, started);
  }
  const settled = clock.now - lastStart >= clock.settleMs;
  if (phase === 'Pending') {
    return settled ? failing(`pod ${podName(pod)}: Pending for more than ${seconds(clock)}`) : SETTLING;
  }
  const ready = conditionOf(pod, 'Ready');
  if (phase === 'Running' && ready && at(ready, 'status') !== 'True') {
    return settled
      ? failing(
          `pod ${podName(pod)}: Running but not Ready (${asString(at(ready, 'message')) ?? 'not ready'})`,
        )
      : SETTLING;
  }
  return OK;
}

function restartsText(status: unknown): string {
  const restarts = asNumber(at(status, 'restartCount')) ?? 0;
  return restarts > 0 ? ` (restarted ${restarts} time(s))` : '';
}

function messageText(message: unknown): string {
  const text = asString(message);
  return text ? `: ${text.slice(0, 160)}` : '';
}

function seconds(clock: Clock): string {
  return `${Math.round(clock.settleMs / 1000)} s`;
}

/**
 * A workload's own status, beyond its pods: a rollout that stopped progressing, a controller that
 * cannot create pods (quota, admission), or replicas wanted but no pod at all.
 */
export function workloadVerdict(workload: KubeObject, clock: Clock, podCount: number): Verdict {
  const kind = workload.kind ?? '';
  const name = workload.metadata?.name ?? '';
  if (kind === 'Job') {
    const failed = conditionOf(workload, 'Failed') ?? conditionOf(workload, 'FailureTarget');
    if (failed && at(failed, 'status') === 'True')
      return failing(
        `Job ${name} failed (${asString(at(failed, 'reason')) ?? 'Failed'}: ${asString(at(failed, 'message')) ?? ''})`,
      );
    return OK;
  }
  if (kind === 'CronJob') return OK;
  const progressing = conditionOf(workload, 'Progressing');
  if (progressing && at(progressing, 'status') === 'False')
    return failing(
      `${kind} ${name}: rollout not progressing (${asString(at(progressing, 'reason')) ?? ''}: ${asString(at(progressing, 'message')) ?? ''})`,
    );
  const replicaFailure = conditionOf(workload, 'ReplicaFailure');
  if (replicaFailure && at(replicaFailure, 'status') === 'True')
    return failing(
      `${kind} ${name}: cannot create pods (${asString(at(replicaFailure, 'reason')) ?? ''}: ${asString(at(replicaFailure, 'message')) ?? ''})`,
    );
  const wanted =
    kind === 'DaemonSet'
      ? (asNumber(at(workload, 'status', 'desiredNumberScheduled')) ?? 0)
      : (asNumber(at(workload, 'spec', 'replicas')) ?? 1);
  if (wanted > 0 && podCount === 0) {
    return age(workload, clock) >= clock.settleMs
      ? failing(`${kind} ${name}: ${wanted} replica(s) wanted, no pod exists`)
      : SETTLING;
  }
  return OK;
}

/** A Service with a selector whose Endpoints have no ready address. */
export function serviceVerdict(
  service: KubeObject,
  endpoints: KubeObject | undefined,
  clock: Clock,
): Verdict {
  const selector = at(service, 'spec', 'selector');
  const type = asString(at(service, 'spec', 'type'));
  if (type === 'ExternalName' || !selector || Object.keys(selector).length === 0) return OK;
  const subsets = asArray(at(endpoints, 'subsets'));
  if (subsets.some((subset) => asArray(at(subset, 'addresses')).length > 0)) return OK;
  if (age(service, clock) < clock.settleMs) return SETTLING;
  const notReady = subsets.some((subset) => asArray(at(subset, 'notReadyAddresses')).length > 0);
  return failing(
    `Service ${service.metadata?.name ?? ''}: no ready endpoints${notReady ? ' (only not-ready addresses)' : ''}`,
  );
}

/** A claim that stays Pending (unless it waits, by design, for its first consumer) or is Lost. */
export function claimVerdict(
  claim: KubeObject,
  storageClasses: ReadonlyMap<string, KubeObject>,
  consumed: boolean,
  clock: Clock,
): Verdict {
  const phase = asString(at(claim, 'status', 'phase'));
  const name = claim.metadata?.name ?? '';
  if (phase === 'Lost') return failing(`PersistentVolumeClaim ${name}: Lost`);
  if (phase !== 'Pending') return OK;
  const className = asString(at(claim, 'spec', 'storageClassName'));
  const storageClass = className ? storageClasses.get(className) : undefined;
  if (asString(at(storageClass, 'volumeBindingMode')) === 'WaitForFirstConsumer' && !consumed) return OK;
  if (age(claim, clock) < clock.settleMs) return SETTLING;
  return failing(`PersistentVolumeClaim ${name}: Pending for more than ${seconds(clock)}`);
}

/** An autoscaler that cannot compute replicas, or wants more than its maximum. */
export function autoscalerVerdict(hpa: KubeObject, clock: Clock): Verdict {
  const name = hpa.metadata?.name ?? '';
  if (age(hpa, clock) < clock.settleMs) return SETTLING;
  const active = conditionOf(hpa, 'ScalingActive');
  if (active && at(active, 'status') === 'False' && at(active, 'reason') !== 'ScalingDisabled')
    return failing(
      `HorizontalPodAutoscaler ${name}: ScalingActive=False (${asString(at(active, 'reason')) ?? ''}: ${asString(at(active, 'message')) ?? ''})`,
    );
  const limited = conditionOf(hpa, 'ScalingLimited');
  const max = asNumber(at(hpa, 'spec', 'maxReplicas'));
  const current = asNumber(at(hpa, 'status', 'currentReplicas'));
  if (
    limited &&
    at(limited, 'status') === 'True' &&
    at(limited, 'reason') === 'TooManyReplicas' &&
    max !== undefined &&
    current !== undefined &&
    current >= max
  )
    return failing(`HorizontalPodAutoscaler ${name}: at maxReplicas ${max} and wants more`);
  return OK;
}

const NODE_PROBLEMS = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

/** A Node that is not Ready or reports pressure. A cordoned node is a decision, not a symptom. */
export function nodeVerdict(node: KubeObject): Verdict {
  const name = node.metadata?.name ?? '';
  const ready = conditionOf(node, 'Ready');
  if (!ready || at(ready, 'status') !== 'True')
    return failing(
      `Node ${name}: Ready=${asString(at(ready, 'status')) ?? 'missing'}${ready ? ` (${asString(at(ready, 'reason')) ?? ''})` : ''}`,
    );
  for (const type of NODE_PROBLEMS) {
    const condition = conditionOf(node, type);
    if (condition && at(condition, 'status') === 'True')
      return failing(`Node ${name}: ${type}=True (${asString(at(condition, 'message')) ?? ''})`);
  }
  return OK;
}
