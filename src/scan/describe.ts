/**
 * The issue of `kubemend analyze TYPE/NAME`, built from the live object: what its status shows now
 * (the same symptoms a scan looks for), in one line, for a person who typed only an address.
 */
import { KubemendError, objectLabel, selectorString, type Target, asString, at } from '../domain/index.js';
import type { ClusterGateway, KubeObject } from '../cluster/gateway.js';
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

/** At most this many symptoms in the issue text. */
const MAX_SYMPTOMS = 4;

export async function describeTarget(
  gateway: ClusterGateway,
  target: Target,
  now: number = Date.now(),
): Promise<string> {
  const object = await gateway.get(target);
  const label = objectLabel(target);
  if (!object)
    throw new KubemendError(
      'not-found',
      `${target.kind} ${target.name} not found${target.namespace ? ` in namespace ${target.namespace}` : ''}`,
    );
  const clock: Clock = { now, settleMs: 60_000, recentRestartMs: 10 * 60_000 };
  const verdicts = await verdictsOf(gateway, object, clock);
  const symptoms = verdicts.flatMap((verdict) => (verdict.state === 'failing' ? [verdict.text] : []));
  if (symptoms.length > 0) return `${label}: ${symptoms.slice(0, MAX_SYMPTOMS).join('; ')}`;
  if (verdicts.some((verdict) => verdict.state === 'settling'))
    return `${label}: still starting; asked to check what is wrong with it`;
  return `${label}: no failure shows in its status; asked to check what is wrong with it`;
}

async function verdictsOf(gateway: ClusterGateway, object: KubeObject, clock: Clock): Promise<Verdict[]> {
  const namespace = object.metadata?.namespace;
  switch (object.kind) {
    case 'Pod':
      return [
        podVerdict(object, clock, object.metadata?.ownerReferences?.some((o) => o.kind === 'Job') ?? false),
      ];
    case 'Service':
      return [
        serviceVerdict(
          object,
          await gateway.get({ kind: 'Endpoints', namespace, name: object.metadata?.name ?? '' }),
          clock,
        ),
      ];
    case 'PersistentVolumeClaim': {
      const className = asString(at(object, 'spec', 'storageClassName'));
      const storageClass = className
        ? await gateway.get({ kind: 'StorageClass', name: className })
        : undefined;
      return [claimVerdict(object, new Map(storageClass ? [[className!, storageClass]] : []), false, clock)];
    }
    case 'HorizontalPodAutoscaler':
      return [autoscalerVerdict(object, clock)];
    case 'Node':
      return [nodeVerdict(object)];
    case 'CronJob': {
      const jobs = (await gateway.list('Job', namespace, { limit: 50 })).filter((job) =>
        job.metadata?.ownerReferences?.some((owner) => owner.uid === object.metadata?.uid),
      );
      const latest = jobs.sort((a, b) =>
        String(b.metadata?.creationTimestamp ?? '').localeCompare(
          String(a.metadata?.creationTimestamp ?? ''),
        ),
      )[0];
      return latest ? [workloadVerdict(latest, clock, 0)] : [];
    }
    default: {
      const selector = selectorString(at(object, 'spec', 'selector'));
      const pods = selector
        ? await gateway.list('Pod', namespace, { labelSelector: selector, limit: 100 })
        : [];
      return [
        workloadVerdict(object, clock, pods.length),
        ...pods.map((pod) => podVerdict(pod, clock, object.kind === 'Job')),
      ];
    }
  }
}
