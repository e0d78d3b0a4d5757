/**
 * Revision history of a Deployment from its ReplicaSets (`deployment.kubernetes.io/revision`):
 * which revision the failing pods run, the revision before it, and what changed between them.
 * A rollback is proposed only when a previous revision exists and the failure started with the
 * current one.
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
  readonly previous?: RevisionInfo;
  /** Human-readable summary of what changed from previous to current. */
  readonly changes: readonly string[];
  readonly changedImage?: { readonly container: string; readonly from?: string; readonly to?: string };
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
      readyReplicas: asNumber(at(object.raw, 'status', 'readyReplicas')) ?? 0,
      replicas:
        asNumber(at(object.raw, 'status', 'replicas')) ?? asNumber(at(object.raw, 'spec', 'replicas')) ?? 0,
    });
  }
  return out.sort((a, b) => a.revision - b.revision);
}

/**
 * The revision the failing pod runs and the one before it. The pod's ReplicaSet is found from its
 * ownerReference or its `pod-template-hash` label; without a pod, the newest revision is current.
 */
export function revisionHistory(
  workload: WorkloadRef | undefined,
  pod: PodView | undefined,
  objects: readonly KubernetesObject[],
): RevisionHistory {
  if (!workload) return { changes: [] };
  const revisions = revisionsOf(workload, objects);
  if (revisions.length === 0) return { changes: [] };
  const podReplicaSet = pod?.ownerReferences.find((owner) => owner.kind === 'ReplicaSet')?.name;
  const podHash = pod?.labels['pod-template-hash'];
  const current =
    revisions.find((info) => info.replicaSet === podReplicaSet) ??
    revisions.find((info) => podHash !== undefined && info.podTemplateHash === podHash) ??
    revisions.at(-1);
  if (!current) return { changes: [] };
  // The last revision that was healthy: during a stuck rollout the old ReplicaSet that still has
  // ready pods is the one serving; otherwise the revision just before the current one.
  const older = revisions.filter((info) => info.revision < current.revision);
  const previous = older.filter((info) => info.readyReplicas > 0).at(-1) ?? older.at(-1);
  if (!previous) return { current, changes: [] };
  const { changes, changedImage } = diffTemplates(previous.template, current.template);
  return { current, previous, changes, changedImage };
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
    for (const field of [
      'command',
      'args',
      'env',
      'envFrom',
      'resources',
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
