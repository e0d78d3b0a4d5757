/**
 * Pods that cannot be scheduled. Insufficient resources: lower requests that far exceed real use.
 * Placement: correct a nodeSelector value, tolerate a dedicated-pool taint, or turn a hard
 * anti-affinity or spread constraint into a preference. Capacity and node labels stay a person's.
 */
import {
  formatCpu,
  formatMemory,
  roundMemoryUp,
  asArray,
  asObject,
  asString,
  at,
} from '../../domain/index.js';
import type { Facts } from '../../analysis/facts.js';
import {
  advise,
  builderOf,
  containerFix,
  describe,
  podSpecFix,
  podTemplateOf,
  rolloutVerification,
  type Strategy,
} from './shared.js';

/** Requests more than twice the observed use, resized to use plus 30%. */
const oversizedRequests: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  const fields: Record<string, string> = {};
  if (
    d.observedMemoryBytes !== undefined &&
    d.memoryRequestBytes !== undefined &&
    d.memoryRequestBytes > d.observedMemoryBytes * 2
  ) {
    fields.memory = formatMemory(roundMemoryUp(d.observedMemoryBytes * 1.3));
  }
  if (
    d.observedCpuMillicores !== undefined &&
    d.cpuRequestMillicores !== undefined &&
    d.cpuRequestMillicores > d.observedCpuMillicores * 2
  ) {
    fields.cpu = formatCpu(Math.ceil((d.observedCpuMillicores * 1.3) / 50) * 50);
  }
  const container = d.container ?? facts.primaryPod?.containers[0]?.name;
  if (!controlled || !container || Object.keys(fields).length === 0) return undefined;
  return containerFix(
    controlled,
    container,
    { resources: { requests: fields } },
    {
      description: `Lower the requests of container ${container} to ${Object.entries(fields)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      rationale:
        'The pod requests far more than it uses, so no node can fit it; requests sized to observed usage plus 30% let it schedule without starving it.',
      verification: rolloutVerification(
        controlled,
        verifyTimeout,
        'the pods are scheduled (no FailedScheduling)',
      ),
    },
  );
};

export const insufficientResources = builderOf([oversizedRequests], (context) =>
  advise(context, {
    description: 'Add capacity or free resources',
    instructions: `No node has enough free ${context.details.resource ?? 'resources'} for the pod's requests. Add nodes (or a larger node pool), or lower the requests if they exceed real usage. Check with: kubectl describe nodes | grep -A5 Allocated.`,
    rationale: 'Capacity is a cluster-level decision; the requests look justified by the evidence available.',
    command: 'kubectl describe nodes',
  }),
);

/** The nodeSelector value no node carries, replaced by the one the nodes carry. */
const selectorValue: Strategy = ({ details: d, controlled, verifyTimeout }) => {
  if (!controlled || !d.nodeSelectorKey || !d.suggestedSelectorValue) return undefined;
  return podSpecFix(
    controlled,
    { nodeSelector: { [d.nodeSelectorKey]: d.suggestedSelectorValue } },
    {
      description: `Set nodeSelector ${d.nodeSelectorKey}=${d.suggestedSelectorValue} on ${describe(controlled)}`,
      rationale: `No node carries ${d.nodeSelectorKey}=${d.nodeSelectorValue}; the nodes carry ${d.nodeSelectorKey}=${d.suggestedSelectorValue}, which the selector most likely meant.`,
      verification: rolloutVerification(controlled, verifyTimeout, 'the pods are scheduled'),
    },
  );
};

function taintEffect(facts: Facts, key: string): string | undefined {
  for (const node of facts.objectsOfKind('Node')) {
    for (const taint of asArray(at(node.raw, 'spec', 'taints'))) {
      if (asString(at(taint, 'key')) === key) return asString(at(taint, 'effect'));
    }
  }
  return undefined;
}

/** Every candidate node carries a dedicated-pool taint (never a node-condition or role taint). */
const dedicatedTaint: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  const taint = d.taint;
  if (!controlled || !taint) return undefined;
  if (/^node\.kubernetes\.io\/|node-role\.kubernetes\.io\/|node\.cloudprovider/.test(taint.key))
    return undefined;
  const effect = taintEffect(facts, taint.key) ?? 'NoSchedule';
  const toleration = taint.value
    ? { key: taint.key, operator: 'Equal', value: taint.value, effect }
    : { key: taint.key, operator: 'Exists', effect };
  // Keep the template's own tolerations; drop the not-ready/unreachable ones admission adds to pods.
  const existing = asArray(podTemplateOf(controlled, facts)?.tolerations).filter(
    (t) =>
      !(
        /^node\.kubernetes\.io\/(?:not-ready|unreachable)$/.test(asString(at(t, 'key')) ?? '') &&
        at(t, 'tolerationSeconds') === 300
      ),
  );
  const shown = `${taint.key}${taint.value ? `=${taint.value}` : ''}`;
  return podSpecFix(
    controlled,
    { tolerations: [...existing, toleration] },
    {
      description: `Tolerate the dedicated-node taint ${shown} on ${describe(controlled)}`,
      rationale: `Every candidate node carries ${shown}:${effect}, a dedicated-pool taint the pods do not tolerate. Only this one taint is tolerated (tolerations are a list without a merge key, so the existing ones are kept in the patch).`,
      verification: rolloutVerification(controlled, verifyTimeout, 'the pods are scheduled'),
      minimumRisk: 'medium',
    },
  );
};

/** A required one-per-node anti-affinity with a replica on every node, made preferred. */
const hardAntiAffinity: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  if (!controlled || d.placementRule !== 'pod-anti-affinity') return undefined;
  const template = podTemplateOf(controlled, facts);
  const required = asArray(
    at(template, 'affinity', 'podAntiAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'),
  );
  if (required.length === 0) return undefined;
  const preferred = required.map((term) => ({ weight: 100, podAffinityTerm: term }));
  const podAntiAffinity = {
    requiredDuringSchedulingIgnoredDuringExecution: null,
    preferredDuringSchedulingIgnoredDuringExecution: preferred,
  };
  return podSpecFix(
    controlled,
    { affinity: { podAntiAffinity } },
    {
      description: `Make the pod anti-affinity of ${describe(controlled)} preferred instead of required`,
      rationale:
        'Every node already runs a replica, so a required one-per-node anti-affinity leaves the extra replicas Pending. As a preference, the scheduler still spreads replicas but may co-locate when it must.',
      verification: rolloutVerification(controlled, verifyTimeout, 'all replicas are scheduled'),
    },
  );
};

/** A DoNotSchedule spread constraint the nodes cannot meet, made ScheduleAnyway. */
const hardSpread: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  if (!controlled || d.placementRule !== 'topology-spread') return undefined;
  const constraints = asArray(podTemplateOf(controlled, facts)?.topologySpreadConstraints);
  if (!constraints.some((c) => asString(at(c, 'whenUnsatisfiable')) === 'DoNotSchedule')) return undefined;
  const relaxed = constraints.map((c) => ({ ...asObject(c), whenUnsatisfiable: 'ScheduleAnyway' }));
  return podSpecFix(
    controlled,
    { topologySpreadConstraints: relaxed },
    {
      description: `Relax the topology spread constraints of ${describe(controlled)} to ScheduleAnyway`,
      rationale:
        'The spread constraint cannot be met with the nodes available; ScheduleAnyway keeps spreading as a preference.',
      verification: rolloutVerification(controlled, verifyTimeout, 'all replicas are scheduled'),
    },
  );
};

export const schedulingConstraints = builderOf(
  [selectorValue, dedicatedTaint, hardAntiAffinity, hardSpread],
  (context) =>
    advise(context, {
      description: 'Relax the placement rules or label nodes',
      instructions: `${context.finding.rootCause} Fix the nodeSelector/affinity to labels that exist, or label/taint nodes as intended (a node change is for a person to decide).`,
      rationale: 'The intended placement is not evident from the context.',
    }),
);
