/**
 * Revision history of a Deployment from its ReplicaSets (`deployment.kubernetes.io/revision`):
 * which revision the failing pods run, the last earlier revision believed good and why (its
 * ReplicaSet has ready pods, or a pod of it is Ready in the context), and what changed between
 * them (image, command, args, env, resources, …). A rollback is proposed only to a revision
 * believed good: without that evidence, none (ADR 0025).
 */
import type { KubernetesObject, PodView } from '../context/model.js';
import type { WorkloadRef } from '../context/owners.js';
import { asArray, asNumber, asObject, asString, at, type JsonObject } from '../domain/index.js';

export interface RevisionInfo {
  readonly revision: number;
  readonly replicaSet: string;
  readonly template: JsonObject;
  readonly podTemplateHash?: string;
  readonly readyReplicas: number;
  readonly replicas: number;
}

export interface RevisionHistory {
  readonly current?: RevisionInfo;
  /** The revision to go back to: the newest earlier one believed good, else the one before. */
  readonly previous?: RevisionInfo;
  /** Why `previous` is believed good; absent when nothing in the context shows it ran well. */
  readonly goodBecause?: string;
  /** Human-readable summary of what changed from previous to current. */
  readonly changes: readonly string[];
  readonly changedImage?: { readonly container: string; readonly from?: string; readonly to?: string };
  /** The containers' commands (`command`, else `args`) in the previous revision, by container. */
  readonly previousCommands: ReadonlyMap<string, readonly string[]>;
}

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export function revisionsOf(workload: WorkloadRef, objects: readonly KubernetesObject[]): RevisionInfo[] {
  if (workload.kind !== 'Deployment') return [];
  const out: RevisionInfo[] = [];
  for (const object of objects) {
    if (object.kind !== 'ReplicaSet' || !object.name) continue;
    const ownedBy = object.ownerReferences.find((owner) => owner.kind === 'Deployment');
    const belongs = ownedBy ? ownedBy.name === workload.name : object.name.startsWith(`${workload.name}-`);
    if (!belongs) continue;
    const revision = Number(object.annotations[REVISION_ANNOTATION]);
    if (!Number.isInteger(revision) || revision < 1) continue;
    out.push({
      revision,
      replicaSet: object.name,
      template: asObject(at(object.raw, 'spec', 'template')) ?? {},
      podTemplateHash: object.labels['pod-template-hash'],
      readyReplicas:
        asNumber(at(object.raw, 'status', 'readyReplicas')) ??
        asNumber(at(object.raw, 'status', 'availableReplicas')) ??
        0,
      replicas:
        asNumber(at(object.raw, 'status', 'replicas')) ?? asNumber(at(object.raw, 'spec', 'replicas')) ?? 0,
    });
  }
  return out.sort((a, b) => a.revision - b.revision);
}

/** Evidence that a revision ran well: ready pods of its ReplicaSet, or a Ready pod of it in the context. */
function evidenceOfHealth(info: RevisionInfo, pods: readonly PodView[]): string | undefined {
  if (info.readyReplicas > 0)
    return `its ReplicaSet ${info.replicaSet} has ${info.readyReplicas}${info.replicas ? `/${info.replicas}` : ''} pod(s) ready`;
  const ready = pods.find(
    (pod) =>
      (pod.ownerReferences.some((owner) => owner.name === info.replicaSet) ||
        (info.podTemplateHash !== undefined && pod.labels['pod-template-hash'] === info.podTemplateHash)) &&
      pod.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return ready ? `its pod ${ready.name ?? ''} is Ready` : undefined;
}

/**
 * The revision the failing pod runs and the one to go back to. The pod's ReplicaSet is found from
 * its ownerReference or its `pod-template-hash` label; without a pod, the newest revision is current.
 */
export function revisionHistory(
  workload: WorkloadRef | undefined,
  pod: PodView | undefined,
  objects: readonly KubernetesObject[],
  pods: readonly PodView[] = [],
): RevisionHistory {
  const none: RevisionHistory = { changes: [], previousCommands: new Map() };
  if (!workload) return none;
  const revisions = revisionsOf(workload, objects);
  if (revisions.length === 0) return none;
  const podReplicaSet = pod?.ownerReferences.find((owner) => owner.kind === 'ReplicaSet')?.name;
  const podHash = pod?.labels['pod-template-hash'];
  const current =
    revisions.find((info) => info.replicaSet === podReplicaSet) ??
    revisions.find((info) => podHash !== undefined && info.podTemplateHash === podHash) ??
    revisions.at(-1);
  if (!current) return none;
  // The last revision that was healthy: during a stuck rollout the old ReplicaSet that still has
  // ready pods is the one serving; otherwise the revision just before the current one.
  const older = revisions.filter((info) => info.revision < current.revision);
  const good = older
    .map((info) => ({ info, why: evidenceOfHealth(info, pods) }))
    .filter((entry) => entry.why !== undefined)
    .at(-1);
  const previous = good?.info ?? older.at(-1);
  if (!previous) return { ...none, current };
  return {
    current,
    previous,
    ...(good ? { goodBecause: good.why } : {}),
    ...diffTemplates(previous.template, current.template),
    previousCommands: commandsOf(previous.template),
  };
}

function containerMap(template: JsonObject): Map<string, JsonObject> {
  const map = new Map<string, JsonObject>();
  for (const entry of asArray(at(template, 'spec', 'containers'))) {
    const container = asObject(entry);
    const name = asString(container?.name);
    if (container && name) map.set(name, container);
  }
  return map;
}

function words(value: unknown): string[] {
  return asArray(value)
    .map((part) => asString(part))
    .filter((part): part is string => part !== undefined);
}

function commandsOf(template: JsonObject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, container] of containerMap(template)) {
    const command = words(container.command);
    out.set(name, command.length > 0 ? command : words(container.args));
  }
  return out;
}

const shown = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));

/** `env: added A, removed B, changed C` — names only (values may be secrets). */
function envChange(before: unknown, after: unknown): string | undefined {
  const index = (list: unknown) =>
    new Map(asArray(list).map((entry) => [asString(at(entry, 'name')) ?? '', JSON.stringify(entry)]));
  const old = index(before);
  const now = index(after);
  const added = [...now.keys()].filter((name) => !old.has(name));
  const removed = [...old.keys()].filter((name) => !now.has(name));
  const changed = [...now.keys()].filter((name) => old.has(name) && old.get(name) !== now.get(name));
  const parts = [
    added.length ? `added ${added.join(', ')}` : '',
    removed.length ? `removed ${removed.join(', ')}` : '',
    changed.length ? `changed ${changed.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? `env ${parts.join('; ')}` : undefined;
}

function diffTemplates(
  before: JsonObject,
  after: JsonObject,
): { changes: string[]; changedImage?: RevisionHistory['changedImage'] } {
  const changes: string[] = [];
  let changedImage: RevisionHistory['changedImage'];
  const old = containerMap(before);
  const now = containerMap(after);
  for (const [name, container] of now) {
    const previous = old.get(name);
    if (!previous) {
      changes.push(`container ${name} added`);
      continue;
    }
    const fromImage = asString(previous.image);
    const toImage = asString(container.image);
    if (fromImage !== toImage) {
      changes.push(`container ${name} image ${fromImage ?? '(none)'} → ${toImage ?? '(none)'}`);
      changedImage ??= { container: name, from: fromImage, to: toImage };
    }
    for (const field of ['command', 'args', 'resources']) {
      if (JSON.stringify(previous[field] ?? null) !== JSON.stringify(container[field] ?? null))
        changes.push(`container ${name} ${field} ${shown(previous[field])} → ${shown(container[field])}`);
    }
    const env = envChange(previous.env, container.env);
    if (env) changes.push(`container ${name} ${env}`);
    for (const field of [
      'envFrom',
      'livenessProbe',
      'readinessProbe',
      'ports',
      'volumeMounts',
      'securityContext',
    ]) {
      if (JSON.stringify(previous[field] ?? null) !== JSON.stringify(container[field] ?? null)) {
        changes.push(`container ${name} ${field} changed`);
      }
    }
  }
  for (const name of old.keys()) if (!now.has(name)) changes.push(`container ${name} removed`);
  for (const field of [
    'volumes',
    'serviceAccountName',
    'nodeSelector',
    'affinity',
    'tolerations',
    'securityContext',
    'imagePullSecrets',
  ]) {
    if (
      JSON.stringify(at(before, 'spec', field) ?? null) !== JSON.stringify(at(after, 'spec', field) ?? null)
    ) {
      changes.push(`pod ${field} changed`);
    }
  }
  return { changes, changedImage };
}
