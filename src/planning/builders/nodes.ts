/**
 * Nodes. NotReady: advice for a person who can reach the node. Eviction under pressure: raise the
 * memory request to real use, or the ephemeral-storage limit a container outgrew; else advice.
 */
import { formatMemory, parseMemoryBytes, roundMemoryUp } from '../../domain/index.js';
import { advise, builderOf, containerFix, manual, rolloutVerification, type Strategy } from './shared.js';

export const nodeNotReady = builderOf([], ({ finding, facts }) => {
  const node = finding.details.nodeName;
  return manual(node ? { kind: 'Node', apiVersion: 'v1', name: node } : finding.subject, facts, {
    description: `Restore node ${node ?? ''}`,
    instructions: `Node ${node ?? ''} is NotReady. Check the kubelet and container runtime on the node (systemctl status kubelet containerd; journalctl -u kubelet), and the CNI plugin. If it cannot be recovered quickly, cordon and drain it (kubectl cordon ${node ?? '<node>'}; kubectl drain ${node ?? '<node>'} --ignore-daemonsets --delete-emptydir-data) and replace it.`,
    rationale: 'Node operations are high risk and need a person who can reach the node.',
    command: `kubectl describe node ${node ?? ''}`,
  });
});

/** Evicted for using more memory than requested: the request is raised to the use the kubelet quoted. */
const memoryRequest: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  const message = facts.primaryPod?.message ?? '';
  const usage =
    /was using (\S+?), request is (\S+?)[,.]/.exec(message) ??
    /was using (\S+?), which exceeds its request of (\S+?)[,.\s]/.exec(message);
  const used = usage ? parseMemoryBytes(usage[1]) : undefined;
  if (!controlled || !d.container || d.resource !== 'memory' || used === undefined) return undefined;
  const request = formatMemory(roundMemoryUp(used * 1.2));
  return containerFix(
    controlled,
    d.container,
    { resources: { requests: { memory: request } } },
    {
      description: `Raise the memory request of container ${d.container} to ${request}`,
      rationale: `Container ${d.container} used ${usage![1]} against a request of ${usage![2]}: pods using more than they request are evicted first under memory pressure. A request matching real use lets the scheduler account for it.`,
      verification: rolloutVerification(controlled, verifyTimeout, 'no new evictions'),
    },
  );
};

/** Evicted for writing more than its ephemeral-storage limit: the limit is doubled. */
const storageLimit: Strategy = ({ details: d, controlled, verifyTimeout }) => {
  if (!controlled || !d.container || d.resource !== 'ephemeral-storage' || !d.storageLimit) return undefined;
  const bytes = parseMemoryBytes(d.storageLimit);
  if (bytes === undefined) return undefined;
  const limit = formatMemory(roundMemoryUp(bytes * 2));
  return containerFix(
    controlled,
    d.container,
    { resources: { limits: { 'ephemeral-storage': limit } } },
    {
      description: `Raise the ephemeral-storage limit of container ${d.container} from ${d.storageLimit} to ${limit}`,
      rationale: `The kubelet evicted the pod because container ${d.container} wrote more than its ${d.storageLimit} ephemeral-storage limit (temporary files). A larger limit stops the evictions; cleaning up temporary files in the application is the lasting fix.`,
      verification: rolloutVerification(controlled, verifyTimeout, 'no new evictions'),
    },
  );
};

export const nodePressure = builderOf([memoryRequest, storageLimit], (context) => {
  const d = context.details;
  return advise(context, {
    description: 'Relieve the node pressure',
    instructions: `${context.finding.rootCause} Free ${d.resource ?? 'resources'} on node ${d.nodeName ?? ''} (e.g. clean images/logs for disk pressure), set requests (and ephemeral-storage limits) to real usage, and move caches off node disk.`,
    rationale: 'Node cleanup is an operator task.',
  });
});
