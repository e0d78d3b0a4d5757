/**
 * A limited HorizontalPodAutoscaler: give a container the request utilisation needs, or raise a
 * ceiling the autoscaler keeps hitting (a person approves more than doubling it). A broken metrics
 * pipeline is cluster infrastructure: advice only.
 */
import type { SubjectRef } from '../../analysis/finding.js';
import { builderOf, containerFix, manual, patchDraft, type Strategy } from './shared.js';

/** Utilisation needs a request on every container; this one has none. */
const missingRequest: Strategy = ({ details: d, controlled, verifyTimeout }) => {
  const hpa = d.hpa;
  if (!hpa || d.hpaProblem !== 'missing-request' || !d.resource || !d.container || !controlled)
    return undefined;
  return containerFix(
    controlled,
    d.container,
    { resources: { requests: { [d.resource]: d.resource === 'cpu' ? '100m' : '128Mi' } } },
    {
      description: `Give container ${d.container} a ${d.resource} request so the autoscaler can compute utilisation`,
      rationale: `HorizontalPodAutoscaler ${hpa.name} scales on ${d.resource} utilisation, which needs a request on every container; ${d.container} has none. The request is a conservative starting point.`,
      verification: `Within ${verifyTimeout}: HorizontalPodAutoscaler ${hpa.name} reports ScalingActive=True.`,
    },
  );
};

function hpaTarget(hpa: SubjectRef): { apiVersion: string; kind: string; name: string; namespace?: string } {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    name: hpa.name,
    namespace: hpa.namespace,
  };
}

/** The autoscaler wants more replicas than its ceiling: the ceiling grows by half (at least to what it wants). */
const atMax: Strategy = ({ details: d, verifyTimeout }) => {
  const hpa = d.hpa;
  if (!hpa || d.hpaProblem !== 'at-max' || d.maxReplicas === undefined) return undefined;
  const wanted = Math.min(
    Math.max(d.desiredReplicas ?? 0, Math.ceil(d.maxReplicas * 1.5)),
    Math.max(d.maxReplicas + 1, 50),
  );
  return patchDraft(
    hpaTarget(hpa),
    { spec: { maxReplicas: wanted } },
    {
      description: `Raise maxReplicas of HorizontalPodAutoscaler ${hpa.name} from ${d.maxReplicas} to ${wanted}`,
      rationale: `The autoscaler wants more replicas than its ceiling of ${d.maxReplicas}. Check quota and node capacity: each extra replica needs room.`,
      verification: `Within ${verifyTimeout}: HorizontalPodAutoscaler ${hpa.name} is no longer ScalingLimited (TooManyReplicas).`,
      // More than doubling the ceiling multiplies cost and load on dependencies: a person decides.
      ...(wanted > d.maxReplicas * 2 ? { minimumRisk: 'high' as const } : {}),
    },
    'merge',
  );
};

export const hpaLimited = builderOf([missingRequest, atMax], ({ details: d, facts, finding }) =>
  manual(d.hpa ?? finding.subject, facts, {
    description: "Restore the autoscaler's metrics",
    instructions: `${finding.rootCause} Check the metrics API (kubectl get apiservice v1beta1.metrics.k8s.io; kubectl top pods).`,
    rationale: 'The metrics pipeline is cluster infrastructure.',
  }),
);
