/**
 * Triage: which groups and objects show a symptom, and so get an analysis. A Service without
 * endpoints whose pods belong to a failing workload, or a pending claim that a failing workload
 * waits for, is explained by that workload's finding (listed as related), not reported twice.
 */
import { asArray, asString, at, objectLabel, selectorMatches } from '../domain/index.js';
import type { KubeObject } from '../cluster/gateway.js';
import type { Group, OwnerRef } from './groups.js';
import { type Inventory, keyOf } from './inventory.js';
import {
  autoscalerVerdict,
  claimVerdict,
  type Clock,
  nodeVerdict,
  podVerdict,
  serviceVerdict,
  type Verdict,
  workloadVerdict,
} from './symptoms.js';

export interface Candidate {
  /** `Kind/namespace/name` of the object the finding will be about. */
  readonly key: string;
  readonly owner: OwnerRef;
  /** The pods' owner group (workloads and bare pods); absent for a Service, claim, HPA or Node. */
  readonly group?: Group;
  /** The object itself, for a Service, claim, HPA or Node. */
  readonly object?: KubeObject;
  readonly symptoms: string[];
  /** Objects whose symptom this candidate explains (`Kind/namespace/name`). */
  readonly related: string[];
  readonly failingPods: KubeObject[];
}

export interface Triage {
  readonly candidates: Candidate[];
  /** Objects still starting, not judged. */
  readonly settling: number;
}

export interface TriageOptions {
  /** Judge Nodes too (only in an all-namespaces scan without a label selector). */
  readonly nodes: boolean;
}

function refOf(object: KubeObject): OwnerRef {
  return {
    apiVersion: object.apiVersion ?? 'v1',
    kind: object.kind ?? '',
    name: object.metadata?.name ?? '',
    ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}

function newest(objects: readonly KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const object of objects) {
    const created = asString(object.metadata?.creationTimestamp) ?? '';
    if (!best || created > (asString(best.metadata?.creationTimestamp) ?? '')) best = object;
  }
  return best;
}

/** The verdict on a group's owner itself (a failed Job, a stuck rollout, replicas without pods). */
function ownerVerdict(group: Group, clock: Clock): Verdict {
  if (group.owner.kind === 'CronJob') {
    const latest = newest(group.intermediates);
    return latest ? workloadVerdict(latest, clock, 0) : { state: 'ok' };
  }
  if (!group.object || group.object.kind === 'Pod') return { state: 'ok' };
  return workloadVerdict(group.object, clock, group.pods.length);
}

export function claimNames(pod: KubeObject): string[] {
  return asArray(at(pod, 'spec', 'volumes'))
    .map((volume) => asString(at(volume, 'persistentVolumeClaim', 'claimName')))
    .filter((name): name is string => name !== undefined);
}

export function triage(
  inventory: Inventory,
  groups: Map<string, Group>,
  clock: Clock,
  options: TriageOptions,
): Triage {
  const candidates: Candidate[] = [];
  const byPod = new Map<KubeObject, Candidate>();
  let settling = 0;

  for (const group of groups.values()) {
    const symptoms: string[] = [];
    const failingPods: KubeObject[] = [];
    let starting = false;
    const ownedByJob = group.owner.kind === 'Job' || group.owner.kind === 'CronJob';
    const own = ownerVerdict(group, clock);
    if (own.state === 'failing') symptoms.push(own.text);
    if (own.state === 'settling') starting = true;
    for (const pod of group.pods) {
      const verdict = podVerdict(pod, clock, ownedByJob);
      if (verdict.state === 'failing') {
        failingPods.push(pod);
        if (symptoms.length < 5) symptoms.push(verdict.text);
      } else if (verdict.state === 'settling') starting = true;
    }
    if (symptoms.length === 0) {
      if (starting) settling++;
      continue;
    }
    const candidate: Candidate = {
      key: group.key,
      owner: group.owner,
      group,
      symptoms,
      related: [],
      failingPods,
    };
    candidates.push(candidate);
    for (const pod of group.pods) byPod.set(pod, candidate);
  }

  const podsByNamespace = new Map<string, KubeObject[]>();
  for (const pod of inventory.of('Pod')) {
    const namespace = pod.metadata?.namespace ?? '';
    const list = podsByNamespace.get(namespace);
    if (list) list.push(pod);
    else podsByNamespace.set(namespace, [pod]);
  }
  const podsIn = (namespace: string | undefined) => podsByNamespace.get(namespace ?? '') ?? [];
  const standalone = (
    object: KubeObject,
    verdict: Verdict,
    explainedBy: (pod: KubeObject) => boolean,
  ): void => {
    if (verdict.state === 'settling') settling++;
    if (verdict.state !== 'failing') return;
    const owners = new Set<Candidate>();
    for (const pod of podsIn(object.metadata?.namespace))
      if (explainedBy(pod)) {
        const owner = byPod.get(pod);
        if (owner) owners.add(owner);
      }
    if (owners.size > 0) {
      for (const owner of owners) owner.related.push(objectLabel(refOf(object)));
      return;
    }
    candidates.push({
      key: objectLabel(refOf(object)),
      owner: refOf(object),
      object,
      symptoms: [verdict.text],
      related: [],
      failingPods: [],
    });
  };

  const endpoints = new Map(
    inventory.of('Endpoints').map((e) => [keyOf(e).replace(/^Endpoints/, 'Service'), e]),
  );
  for (const service of inventory.of('Service')) {
    const selector = at(service, 'spec', 'selector');
    standalone(service, serviceVerdict(service, endpoints.get(keyOf(service)), clock), (pod) =>
      selectorMatches(selector, pod.metadata?.labels),
    );
  }
  const storageClasses = new Map(inventory.of('StorageClass').map((sc) => [sc.metadata?.name ?? '', sc]));
  for (const claim of inventory.of('PersistentVolumeClaim')) {
    const name = claim.metadata?.name ?? '';
    const uses = (pod: KubeObject) => claimNames(pod).includes(name);
    const consumed = podsIn(claim.metadata?.namespace).some(uses);
    standalone(claim, claimVerdict(claim, storageClasses, consumed, clock), uses);
  }
  for (const hpa of inventory.of('HorizontalPodAutoscaler'))
    standalone(hpa, autoscalerVerdict(hpa, clock), () => false);
  if (options.nodes)
    for (const node of inventory.of('Node')) standalone(node, nodeVerdict(node), () => false);
  return { candidates, settling };
}
