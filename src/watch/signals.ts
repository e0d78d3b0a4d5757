/**
 * What the watcher keeps of each object (pure): a pod, a workload or an event is reduced to the few
 * fields the trigger needs — the workload it belongs to, the signal class it shows and since when.
 * The informers store these projections, never the objects, so a namespace with thousands of pods
 * costs a few hundred bytes per pod.
 *
 * A signal is a status the rules diagnose (a container in CrashLoopBackOff or ImagePullBackOff, a
 * pod the scheduler cannot place, a rollout that stopped progressing, …). Its class, not its exact
 * reason, is part of the incident's identity, so ErrImagePull → ImagePullBackOff, or a crash loop
 * alternating between CrashLoopBackOff and a short run, stay one incident.
 */
import type { KubeObject } from '../cluster/gateway.js';
import { asArray, asNumber, asString, at } from '../domain/index.js';

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface Signal {
  /** The class: CrashLoop, ImagePull, ContainerConfig, Unschedulable, PodFailed, RolloutStuck, … */
  readonly signal: string;
  /** When it appeared, as the object says (epoch ms; the projection time when it says nothing). */
  readonly at: number;
  /** One line for the session's issue text. */
  readonly text: string;
}

/** A pod or a workload, as stored: its workload, and its signal when it shows one. */
export interface Projection {
  readonly workload: WorkloadRef;
  readonly signal?: Signal;
}

/** Signals that come from a status (they end when the status does); event signals do not. */
export const STATUS_SIGNALS = new Set([
  'CrashLoop',
  'ImagePull',
  'ContainerConfig',
  'ContainerStart',
  'Unschedulable',
  'PodFailed',
  'RolloutStuck',
  'ReplicaFailure',
]);

const WAITING_CLASS: Record<string, string> = {
  CrashLoopBackOff: 'CrashLoop',
  ErrImagePull: 'ImagePull',
  ImagePullBackOff: 'ImagePull',
  ErrImageNeverPull: 'ImagePull',
  InvalidImageName: 'ImagePull',
  CreateContainerConfigError: 'ContainerConfig',
  CreateContainerError: 'ContainerStart',
  RunContainerError: 'ContainerStart',
  StartError: 'ContainerStart',
  PreCreateHookError: 'ContainerStart',
  PostStartHookError: 'ContainerStart',
};

/** A restart within this long still counts as a crash loop (a crash-looping pod runs briefly). */
export const RECENT_RESTART_MS = 10 * 60_000;

function millis(value: unknown): number | undefined {
  const text = asString(value);
  if (!text) return undefined;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function condition(object: unknown, type: string): unknown {
  return asArray(at(object, 'status', 'conditions')).find((c) => at(c, 'type') === type);
}

/** The workload that owns a pod (Deployment through its ReplicaSet's name), else the pod. */
export function workloadOfPod(pod: KubeObject): WorkloadRef {
  const namespace = pod.metadata?.namespace ?? '';
  const owners = pod.metadata?.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  const kind = asString(owner?.kind);
  const name = asString(owner?.name);
  if (!kind || !name) return { kind: 'Pod', namespace, name: pod.metadata?.name ?? '' };
  if (kind === 'ReplicaSet')
    return replicaSetOwner(namespace, name, pod.metadata?.labels?.['pod-template-hash']);
  return { kind, namespace, name };
}

/** A ReplicaSet named `<deployment>-<pod-template-hash>` belongs to that Deployment. */
export function replicaSetOwner(namespace: string, name: string, hash?: string): WorkloadRef {
  const suffix = hash ? `-${hash}` : name.match(/-[a-z0-9]{5,10}$/)?.[0];
  return suffix && name.endsWith(suffix) && name.length > suffix.length
    ? { kind: 'Deployment', namespace, name: name.slice(0, -suffix.length) }
    : { kind: 'ReplicaSet', namespace, name };
}

/** A pod's projection: its workload and the signal its status shows now, if any. */
export function projectPod(pod: KubeObject, now: number): Projection {
  const workload = workloadOfPod(pod);
  const signal = podSignal(pod, now, workload.kind === 'Job');
  return signal ? { workload, signal } : { workload };
}

function podSignal(pod: KubeObject, now: number, ownedByJob: boolean): Signal | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const name = pod.metadata?.name ?? '';
  const created = millis(pod.metadata?.creationTimestamp) ?? now;
  const phase = asString(at(pod, 'status', 'phase'));
  if (phase === 'Succeeded') return undefined;
  if (phase === 'Failed')
    return ownedByJob
      ? undefined
      : {
          signal: 'PodFailed',
          at: created,
          text: `pod ${name} failed (${asString(at(pod, 'status', 'reason')) ?? 'Failed'}: ${asString(at(pod, 'status', 'message')) ?? ''})`,
        };
  const scheduled = condition(pod, 'PodScheduled');
  if (scheduled && at(scheduled, 'status') === 'False' && at(scheduled, 'reason') === 'Unschedulable')
    return {
      signal: 'Unschedulable',
      at: millis(at(scheduled, 'lastTransitionTime')) ?? created,
      text: `pod ${name} cannot be scheduled: ${asString(at(scheduled, 'message')) ?? ''}`.trim(),
    };
  const statuses = [
    ...asArray(at(pod, 'status', 'initContainerStatuses')),
    ...asArray(at(pod, 'status', 'containerStatuses')),
  ];
  for (const status of statuses) {
    const container = asString(at(status, 'name')) ?? '';
    const restarts = asNumber(at(status, 'restartCount')) ?? 0;
    const lastExit = millis(at(status, 'lastState', 'terminated', 'finishedAt'));
    const lastReason = asString(at(status, 'lastState', 'terminated', 'reason'));
    const waiting = asString(at(status, 'state', 'waiting', 'reason'));
    const waitingClass = waiting ? WAITING_CLASS[waiting] : undefined;
    if (waitingClass)
      return {
        signal: waitingClass,
        at: waitingClass === 'CrashLoop' ? (lastExit ?? created) : created,
        text:
          `pod ${name} container ${container}: ${waiting}` +
          (restarts > 0
            ? ` (restarted ${restarts} time(s)${lastReason ? `, last ${lastReason}` : ''})`
            : '') +
          messageOf(at(status, 'state', 'waiting', 'message')),
      };
    if (restarts > 0 && lastExit !== undefined && now - lastExit < RECENT_RESTART_MS)
      return {
        signal: 'CrashLoop',
        at: lastExit,
        text: `pod ${name} container ${container}: restarted ${restarts} time(s), last ${lastReason ?? 'exit'} (exit code ${asNumber(at(status, 'lastState', 'terminated', 'exitCode')) ?? '?'})`,
      };
  }
  return undefined;
}

function messageOf(message: unknown): string {
  const text = asString(message);
  return text ? `: ${text.slice(0, 200)}` : '';
}

/** A Deployment, StatefulSet or DaemonSet: a rollout that stopped, or pods it cannot create. */
export function projectWorkload(workload: KubeObject): Projection {
  const ref = {
    kind: workload.kind ?? '',
    namespace: workload.metadata?.namespace ?? '',
    name: workload.metadata?.name ?? '',
  };
  for (const [type, status, signal, what] of [
    ['Progressing', 'False', 'RolloutStuck', 'rollout not progressing'],
    ['ReplicaFailure', 'True', 'ReplicaFailure', 'cannot create pods'],
  ] as const) {
    const found = condition(workload, type);
    if (found && at(found, 'status') === status)
      return {
        workload: ref,
        signal: {
          signal,
          at: millis(at(found, 'lastTransitionTime')) ?? Date.now(),
          text: `${ref.kind} ${ref.name}: ${what} (${asString(at(found, 'reason')) ?? ''}: ${asString(at(found, 'message')) ?? ''})`,
        },
      };
  }
  return { workload: ref };
}

/** Warning events that are signals before (or without) a status saying so. */
const EVENT_CLASS: Record<string, string> = {
  FailedScheduling: 'Unschedulable',
  FailedMount: 'FailedMount',
  FailedAttachVolume: 'FailedMount',
  FailedCreate: 'ReplicaFailure',
  FailedCreatePodSandBox: 'ContainerStart',
};

/** An event older than this is history, not a signal (a re-list replays the last hour of events). */
export const EVENT_FRESH_MS = 2 * 60_000;

export interface EventSignal extends Signal {
  /** The object the event is about (a Pod's workload is found through the pod store). */
  readonly involved: { readonly kind: string; readonly namespace: string; readonly name: string };
}

/** A fresh Warning event that is a signal, else undefined. */
export function eventSignal(event: KubeObject, now: number): EventSignal | undefined {
  if (asString(at(event, 'type')) !== 'Warning') return undefined;
  const reason = asString(at(event, 'reason')) ?? '';
  const message = asString(at(event, 'message')) ?? '';
  let signal = EVENT_CLASS[reason];
  if (!signal && reason === 'BackOff')
    signal = /pulling image/i.test(message)
      ? 'ImagePull'
      : /restarting failed container/i.test(message)
        ? 'CrashLoop'
        : undefined;
  if (!signal && reason === 'Failed' && /image/i.test(message)) signal = 'ImagePull';
  if (!signal) return undefined;
  const seen =
    millis(at(event, 'lastTimestamp')) ??
    millis(at(event, 'eventTime')) ??
    millis(at(event, 'series', 'lastObservedTime')) ??
    millis(at(event, 'firstTimestamp')) ??
    millis(event.metadata?.creationTimestamp);
  if (seen === undefined || now - seen > EVENT_FRESH_MS) return undefined;
  const involved = {
    kind: asString(at(event, 'involvedObject', 'kind')) ?? '',
    namespace: asString(at(event, 'involvedObject', 'namespace')) ?? event.metadata?.namespace ?? '',
    name: asString(at(event, 'involvedObject', 'name')) ?? '',
  };
  return {
    signal,
    at: millis(at(event, 'firstTimestamp')) ?? millis(at(event, 'eventTime')) ?? seen,
    text: `${involved.kind} ${involved.name}: ${reason}: ${message.slice(0, 200)}`,
    involved,
  };
}

export function workloadKey(ref: WorkloadRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
