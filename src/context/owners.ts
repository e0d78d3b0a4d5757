/**
 * Owner resolution: which object a person would change for a pod. Live, from ownerReferences
 * (and the objects we were given or gathered); offline, from the `pod-template-hash` label and
 * ReplicaSet naming, StatefulSet/Job labels and CronJob job naming.
 */
import type { KubernetesObject, OwnerReference, PodView } from './model.js';
import { apiVersionOf } from '../domain/index.js';

export interface WorkloadRef {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace?: string;
  /** How the owner was found: `ownerReferences`, `objects`, or an offline naming inference. */
  readonly via: 'ownerReferences' | 'objects' | 'naming' | 'target' | 'labels';
  /** The intermediate ReplicaSet or Job when the workload is a Deployment or CronJob. */
  readonly intermediate?: { readonly kind: string; readonly name: string };
}

const RS_HASH_SUFFIX = /^(.+)-([a-z0-9]{6,10})$/;
const CRONJOB_JOB_SUFFIX = /^(.+)-(\d{8,})$/;

function controllerOf(owners: readonly OwnerReference[]): OwnerReference | undefined {
  return owners.find((owner) => owner.controller === true) ?? owners[0];
}

function findObject(
  objects: readonly KubernetesObject[],
  kind: string,
  name: string,
  namespace?: string,
): KubernetesObject | undefined {
  return objects.find(
    (object) =>
      object.kind === kind &&
      object.name === name &&
      (namespace === undefined || object.namespace === undefined || object.namespace === namespace),
  );
}

function ref(
  kind: string,
  name: string,
  namespace: string | undefined,
  via: WorkloadRef['via'],
  intermediate?: WorkloadRef['intermediate'],
): WorkloadRef {
  return { kind, apiVersion: apiVersionOf(kind), name, namespace, via, intermediate };
}

/** The Deployment a ReplicaSet belongs to, if we can tell. */
export function deploymentOfReplicaSet(
  replicaSetName: string,
  namespace: string | undefined,
  objects: readonly KubernetesObject[],
  podTemplateHash?: string,
): WorkloadRef | undefined {
  const replicaSet = findObject(objects, 'ReplicaSet', replicaSetName, namespace);
  const owner = replicaSet ? controllerOf(replicaSet.ownerReferences) : undefined;
  if (owner) {
    return ref(owner.kind, owner.name, namespace, 'objects', { kind: 'ReplicaSet', name: replicaSetName });
  }
  if (podTemplateHash && replicaSetName.endsWith(`-${podTemplateHash}`)) {
    const name = replicaSetName.slice(0, -(podTemplateHash.length + 1));
    return ref('Deployment', name, namespace, 'naming', { kind: 'ReplicaSet', name: replicaSetName });
  }
  const match = RS_HASH_SUFFIX.exec(replicaSetName);
  if (match?.[1] && findObject(objects, 'Deployment', match[1], namespace)) {
    return ref('Deployment', match[1], namespace, 'objects', { kind: 'ReplicaSet', name: replicaSetName });
  }
  if (match?.[1] && /\d/.test(match[2] ?? '')) {
    return ref('Deployment', match[1], namespace, 'naming', { kind: 'ReplicaSet', name: replicaSetName });
  }
  return undefined;
}

/** The CronJob a Job belongs to, if we can tell. */
export function cronJobOfJob(
  jobName: string,
  namespace: string | undefined,
  objects: readonly KubernetesObject[],
): WorkloadRef | undefined {
  const job = findObject(objects, 'Job', jobName, namespace);
  const owner = job ? controllerOf(job.ownerReferences) : undefined;
  if (owner?.kind === 'CronJob') {
    return ref('CronJob', owner.name, namespace, 'objects', { kind: 'Job', name: jobName });
  }
  const match = CRONJOB_JOB_SUFFIX.exec(jobName);
  if (match?.[1] && findObject(objects, 'CronJob', match[1], namespace)) {
    return ref('CronJob', match[1], namespace, 'objects', { kind: 'Job', name: jobName });
  }
  return undefined;
}

/**
 * The workload that owns a pod: the object to change so the controller does not overwrite the fix.
 * Returns undefined for a bare pod with no owner.
 */
export function resolvePodOwner(pod: PodView, objects: readonly KubernetesObject[]): WorkloadRef | undefined {
  const namespace = pod.namespace;
  const owner = controllerOf(pod.ownerReferences);
  const hash = pod.labels['pod-template-hash'];
  if (owner) {
    switch (owner.kind) {
      case 'ReplicaSet':
        return (
          deploymentOfReplicaSet(owner.name, namespace, objects, hash) ??
          ref('ReplicaSet', owner.name, namespace, 'ownerReferences')
        );
      case 'Job':
        return (
          cronJobOfJob(owner.name, namespace, objects) ?? ref('Job', owner.name, namespace, 'ownerReferences')
        );
      default:
        return ref(owner.kind, owner.name, namespace, 'ownerReferences');
    }
  }
  return inferOwnerFromLabels(pod, objects);
}

/** Offline inference from labels and naming conventions when ownerReferences are absent. */
function inferOwnerFromLabels(pod: PodView, objects: readonly KubernetesObject[]): WorkloadRef | undefined {
  const namespace = pod.namespace;
  const name = pod.name;
  const hash = pod.labels['pod-template-hash'];
  if (name && hash) {
    const marker = `-${hash}-`;
    const at = name.lastIndexOf(marker);
    if (at > 0) {
      const replicaSet = name.slice(0, at + marker.length - 1);
      return deploymentOfReplicaSet(replicaSet, namespace, objects, hash);
    }
  }
  if (pod.labels['pod-template-generation'] && name) {
    const match = /^(.+)-[a-z0-9]{5}$/.exec(name);
    if (match?.[1]) return ref('DaemonSet', match[1], namespace, 'labels');
  }
  const statefulSetPodName = pod.labels['statefulset.kubernetes.io/pod-name'];
  if (pod.labels['controller-revision-hash'] && (statefulSetPodName ?? name)) {
    const podName = statefulSetPodName ?? name ?? '';
    const match = /^(.+)-(\d+)$/.exec(podName);
    if (match?.[1]) {
      return ref('StatefulSet', match[1], namespace, 'labels');
    }
  }
  const jobName = pod.labels['batch.kubernetes.io/job-name'] ?? pod.labels['job-name'];
  if (jobName) return cronJobOfJob(jobName, namespace, objects) ?? ref('Job', jobName, namespace, 'labels');
  return undefined;
}

/** The workload for an object reference that is not a pod (e.g. an event about a ReplicaSet). */
export function resolveObjectOwner(
  kind: string,
  name: string,
  namespace: string | undefined,
  objects: readonly KubernetesObject[],
): WorkloadRef {
  if (kind === 'ReplicaSet') {
    return deploymentOfReplicaSet(name, namespace, objects) ?? ref('ReplicaSet', name, namespace, 'naming');
  }
  if (kind === 'Job') return cronJobOfJob(name, namespace, objects) ?? ref('Job', name, namespace, 'naming');
  return ref(kind, name, namespace, 'target');
}
