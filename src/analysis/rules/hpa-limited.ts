import { type Evidence, asNumber, asString, at } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { condition, conditionEvidence, eventEvidence } from '../facts.js';
import { finding, type Rule } from './rule.js';

export const hpaLimitedRule: Rule = {
  category: 'hpa-limited',
  evaluate(facts) {
    for (const hpa of facts.objectsOfKind('HorizontalPodAutoscaler')) {
      const evidence: Evidence[] = [];
      const factors: string[] = [];
      const max = asNumber(at(hpa.raw, 'spec', 'maxReplicas'));
      const current = asNumber(at(hpa.raw, 'status', 'currentReplicas'));
      const desired = asNumber(at(hpa.raw, 'status', 'desiredReplicas'));
      const limited = condition(hpa, 'ScalingLimited');
      const active = condition(hpa, 'ScalingActive');
      const targetKind = asString(at(hpa.raw, 'spec', 'scaleTargetRef', 'kind')) ?? 'Deployment';
      const targetName = asString(at(hpa.raw, 'spec', 'scaleTargetRef', 'name'));
      const hpaRef = {
        kind: 'HorizontalPodAutoscaler',
        apiVersion: 'autoscaling/v2',
        name: hpa.name ?? '',
        namespace: hpa.namespace ?? facts.namespace,
      };
      const workload = targetName
        ? {
            kind: targetKind,
            apiVersion: 'apps/v1',
            name: targetName,
            namespace: hpa.namespace ?? facts.namespace,
            via: 'objects' as const,
          }
        : facts.workload;
      if (active?.status === 'False') {
        evidence.push(conditionEvidence(hpa, active));
        const missingRequest = /missing request for (\w+)(?: in container (\S+))?/.exec(active.message ?? '');
        for (const event of facts.events
          .filter((e) => /^FailedGet\w*Metric|FailedComputeMetricsReplicas/.test(e.reason))
          .slice(0, 2))
          evidence.push(eventEvidence(event));
        if (missingRequest)
          factors.push(
            `container ${missingRequest[2] ?? ''} has no ${missingRequest[1]} request, so utilisation cannot be computed`.replace(
              'container  has',
              'a container has',
            ),
          );
        if (/metrics\.k8s\.io|resource metrics API|no metrics returned/.test(active.message ?? ''))
          factors.push('the resource metrics API (metrics-server) is not answering');
        return finding('hpa-limited', facts, {
          confidence: CONFIDENCE.strong,
          rootCause: `HorizontalPodAutoscaler ${hpa.name} cannot scale ${targetKind} ${targetName ?? ''}: it cannot compute the replica count (${active.reason ?? 'ScalingActive=False'})${missingRequest ? ` because container ${missingRequest[2] ?? ''} sets no ${missingRequest[1]} request` : ''}.`,
          factors,
          evidence,
          subject: hpaRef,
          details: {
            hpa: hpaRef,
            workload,
            maxReplicas: max,
            resource: missingRequest?.[1],
            container: missingRequest?.[2],
            hpaProblem: missingRequest ? 'missing-request' : 'metrics-unavailable',
          },
        });
      }
      const atMax =
        limited?.status === 'True' &&
        /TooManyReplicas|more than the maximum/.test(`${limited.reason} ${limited.message}`);
      if (
        atMax ||
        (max !== undefined &&
          current !== undefined &&
          current >= max &&
          (desired ?? 0) >= max &&
          facts.events.some((e) => e.object.kind === 'HorizontalPodAutoscaler'))
      ) {
        if (limited) evidence.push(conditionEvidence(hpa, limited));
        evidence.push({
          quote: `HorizontalPodAutoscaler ${hpa.name} status.currentReplicas: ${current ?? '?'} (spec.maxReplicas: ${max ?? '?'})`,
          kind: 'status',
          origin: hpa.origin,
        });
        for (const event of facts.events.filter((e) => e.reason === 'SuccessfulRescale').slice(-1))
          evidence.push(eventEvidence(event));
        const utilisation = asNumber(
          at(hpa.raw, 'status', 'currentMetrics', 0, 'resource', 'current', 'averageUtilization'),
        );
        const target = asNumber(
          at(hpa.raw, 'spec', 'metrics', 0, 'resource', 'target', 'averageUtilization'),
        );
        if (utilisation !== undefined)
          factors.push(`utilisation ${utilisation}% against a target of ${target ?? '?'}%`);
        const wanted =
          utilisation && target && current ? Math.ceil((current * utilisation) / target) : undefined;
        return finding('hpa-limited', facts, {
          confidence: atMax ? CONFIDENCE.strong : CONFIDENCE.good,
          rootCause: `HorizontalPodAutoscaler ${hpa.name} is at its maximum of ${max ?? '?'} replicas for ${targetKind} ${targetName ?? ''} and wants more${wanted ? ` (about ${wanted})` : ''}: load exceeds what the ceiling allows.`,
          factors,
          evidence,
          subject: hpaRef,
          details: { hpa: hpaRef, workload, maxReplicas: max, desiredReplicas: wanted, hpaProblem: 'at-max' },
        });
      }
    }
    return undefined;
  },
};
