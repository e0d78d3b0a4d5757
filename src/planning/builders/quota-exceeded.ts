/**
 * A ResourceQuota rejects the pods: lower a memory request far above real use so the pods fit.
 * The quota itself is a governance decision, never changed automatically.
 */
import {
  formatMemory,
  parseMemoryBytes,
  roundMemoryUp,
  asArray,
  asObject,
  asString,
  at,
} from '../../domain/index.js';
import {
  builderOf,
  containerFix,
  manual,
  podTemplateOf,
  rolloutVerification,
  type Strategy,
} from './shared.js';

/** The first container requests more than twice the memory it uses: requests sized to use plus 30%. */
const oversizedRequest: Strategy = ({ controlled, workload, facts, verifyTimeout }) => {
  const usage = facts.metric('memory_working_set_bytes', 'container_memory_working_set_bytes');
  const firstContainer = asObject(asArray(podTemplateOf(workload, facts)?.containers)[0]);
  const requested = parseMemoryBytes(at(firstContainer, 'resources', 'requests', 'memory'));
  const name = asString(firstContainer?.name);
  if (!controlled || usage?.max === undefined || requested === undefined || !name) return undefined;
  if (requested <= usage.max * 2) return undefined;
  const memory = formatMemory(roundMemoryUp(usage.max * 1.3));
  const limit = parseMemoryBytes(at(firstContainer, 'resources', 'limits', 'memory'));
  const resources: Record<string, unknown> = { requests: { memory } };
  if (limit !== undefined && limit > roundMemoryUp(usage.max * 1.3) * 2)
    resources.limits = { memory: formatMemory(roundMemoryUp(usage.max * 2)) };
  return containerFix(
    controlled,
    name,
    { resources },
    {
      description: `Lower the memory request of container ${name} to ${memory}`,
      rationale: `The pods request ${formatMemory(requested)} each but use about ${formatMemory(usage.max)}; the quota rejects them. Requests sized to real use fit within the quota.`,
      verification: rolloutVerification(
        controlled,
        verifyTimeout,
        'the controller creates the pods (no FailedCreate)',
      ),
    },
  );
};

export const quotaExceeded = builderOf(
  [oversizedRequest],
  ({ details: d, workload, facts, finding, namespace }) => {
    const quota = {
      kind: 'ResourceQuota',
      apiVersion: 'v1',
      name: d.quotaName ?? 'quota',
      namespace: workload?.namespace ?? facts.namespace,
    };
    return manual(quota, facts, {
      description: 'Raise the quota or reduce the requests',
      instructions: `${finding.rootCause} Either a namespace owner raises ResourceQuota ${d.quotaName ?? ''} (kubectl edit resourcequota ${d.quotaName ?? '<name>'} -n ${namespace}), or the workload's requests/replicas are reduced to fit.`,
      rationale: 'A quota is a governance decision, never changed automatically.',
      command: `kubectl describe resourcequota ${d.quotaName ?? ''} -n ${namespace}`,
    });
  },
);
