/**
 * Grouping: every pod belongs to the object a person would change — Pod → ReplicaSet → Deployment,
 * Pod → Job → CronJob, Pod → StatefulSet/DaemonSet — found through `ownerReferences` (by uid, then
 * by name), with the ReplicaSet naming convention as the fallback when the ReplicaSet was not read.
 * One group per owner, so a Deployment with ten crashing pods is one finding, not ten.
 */
import { apiVersionOf, asString, at, objectLabel } from '../domain/index.js';
import type { KubeObject } from '../cluster/gateway.js';
import type { Inventory } from './inventory.js';

export interface OwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface Group {
  /** `Kind/namespace/name` of the owner (`objectLabel`). */
  readonly key: string;
  readonly owner: OwnerRef;
  /** The owner itself, when it was read (a bare pod's owner is the pod). */
  readonly object?: KubeObject;
  /** ReplicaSets of a Deployment, Jobs of a CronJob. */
  readonly intermediates: KubeObject[];
  readonly pods: KubeObject[];
}

/** Kinds that own pods and are the unit of a finding. */
const OWNER_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;

function controllerRef(object: KubeObject): Record<string, unknown> | undefined {
  const owners = object.metadata?.ownerReferences ?? [];
  return owners.find((owner) => owner.controller === true) ?? owners[0];
}

function refKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

class Index {
  private readonly byUid = new Map<string, KubeObject>();
  private readonly byKey = new Map<string, KubeObject>();

  constructor(objects: Iterable<KubeObject>) {
    for (const object of objects) {
      if (object.metadata?.uid) this.byUid.set(object.metadata.uid, object);
      this.byKey.set(
        refKey(object.kind ?? '', object.metadata?.namespace, object.metadata?.name ?? ''),
        object,
      );
    }
  }

  /** The object an owner reference points at, by uid, then by kind and name. */
  find(reference: Record<string, unknown>, namespace: string | undefined): KubeObject | undefined {
    const uid = asString(reference.uid);
    return (
      (uid ? this.byUid.get(uid) : undefined) ??
      this.byKey.get(refKey(asString(reference.kind) ?? '', namespace, asString(reference.name) ?? ''))
    );
  }
}

/** Group every pod under its owner; every owner kind gets a group, with or without pods. */
export function groupByOwner(inventory: Inventory): Map<string, Group> {
  const index = new Index(
    [...OWNER_KINDS, 'ReplicaSet'].flatMap((kind) => inventory.of(kind) as KubeObject[]),
  );
  const groups = new Map<string, Group>();
  const groupFor = (owner: OwnerRef, object: KubeObject | undefined): Group => {
    const key = objectLabel(owner);
    let group = groups.get(key);
    if (!group) {
      group = { key, owner, object, intermediates: [], pods: [] };
      groups.set(key, group);
    } else if (!group.object && object) {
      group = { ...group, object };
      groups.set(key, group);
    }
    return group;
  };
  const addIntermediate = (group: Group, object: KubeObject): void => {
    if (!group.intermediates.includes(object)) group.intermediates.push(object);
  };

  // Owners first, so that an owner without pods is a group too.
  for (const kind of OWNER_KINDS) {
    for (const object of inventory.of(kind)) {
      if (kind === 'Job' && controllerRef(object)?.kind === 'CronJob') continue;
      groupFor(ownerOf(object), object);
    }
  }
  for (const job of inventory.of('Job')) {
    const parent = controllerRef(job);
    if (parent?.kind !== 'CronJob') continue;
    const namespace = job.metadata?.namespace;
    const cronJob = index.find(parent, namespace);
    const owner = cronJob ? ownerOf(cronJob) : refOf('CronJob', namespace, asString(parent.name) ?? '');
    addIntermediate(groupFor(owner, cronJob), job);
  }
  for (const replicaSet of inventory.of('ReplicaSet')) {
    const parent = controllerRef(replicaSet);
    if (parent?.kind !== 'Deployment') continue;
    const namespace = replicaSet.metadata?.namespace;
    const deployment = index.find(parent, namespace);
    const owner = deployment
      ? ownerOf(deployment)
      : refOf('Deployment', namespace, asString(parent.name) ?? '');
    addIntermediate(groupFor(owner, deployment), replicaSet);
  }
  for (const pod of inventory.of('Pod')) {
    const { owner, object } = topOwner(pod, index);
    groupFor(owner, object).pods.push(pod);
  }
  return groups;
}

function ownerOf(object: KubeObject): OwnerRef {
  return refOf(object.kind ?? '', object.metadata?.namespace, object.metadata?.name ?? '');
}

function refOf(kind: string, namespace: string | undefined, name: string): OwnerRef {
  return { apiVersion: apiVersionOf(kind), kind, name, ...(namespace ? { namespace } : {}) };
}

/** The owner a person would change for this pod, and that owner's object when it was read. */
function topOwner(pod: KubeObject, index: Index): { owner: OwnerRef; object?: KubeObject } {
  const namespace = pod.metadata?.namespace;
  let reference = controllerRef(pod);
  if (!reference) return { owner: ownerOf(pod), object: pod };
  let object = index.find(reference, namespace);
  // ReplicaSet → Deployment, Job → CronJob.
  for (let depth = 0; depth < 2 && object; depth++) {
    const parent = controllerRef(object);
    if (!parent) break;
    const parentObject = index.find(parent, namespace);
    if (!parentObject) {
      reference = parent;
      object = undefined;
      break;
    }
    reference = parent;
    object = parentObject;
  }
  const kind = asString(reference.kind) ?? 'Pod';
  const name = asString(reference.name) ?? pod.metadata?.name ?? '';
  if (kind === 'ReplicaSet' && !object) {
    // The ReplicaSet was not read: its name is the Deployment's plus the pod-template-hash.
    const hash = asString(at(pod, 'metadata', 'labels', 'pod-template-hash'));
    if (hash && name.endsWith(`-${hash}`))
      return { owner: refOf('Deployment', namespace, name.slice(0, -hash.length - 1)) };
  }
  return { owner: refOf(kind, namespace, name), ...(object ? { object } : {}) };
}
