/**
 * OOMKilled: raise the memory limit of the killed container with ~50% headroom above the observed
 * peak, capped below the largest node. Bare pods, containers without a limit (node pressure) and
 * limits that cannot grow within node capacity get advice instead.
 */
import { formatMemory, parseMemoryBytes, roundMemoryUp, at } from '../../domain/index.js';
import type { WorkloadRef } from '../../context/owners.js';
import type { Facts } from '../../analysis/facts.js';
import { podTemplatePath } from '../drafts.js';
import {
  advise,
  type BuilderContext,
  builderOf,
  containerFix,
  describe,
  patchDraft,
  rolloutVerification,
  type Strategy,
  within,
} from './shared.js';

/** A memory limit kubemend can raise: the old limit and the new one, within node capacity. */
interface MemoryRaise extends BuilderContext {
  readonly workload: WorkloadRef;
  readonly limit: number;
  readonly newLimit: number;
  readonly notes: readonly string[];
}

function largestNodeMemory(facts: Facts): number | undefined {
  let best: number | undefined;
  for (const node of facts.objectsOfKind('Node')) {
    const value = parseMemoryBytes(at(node.raw, 'status', 'allocatable', 'memory'));
    if (value !== undefined) best = Math.max(best ?? 0, value);
  }
  return best;
}

function memoryRaise(context: BuilderContext): MemoryRaise | undefined {
  const { controlled, details: d, facts } = context;
  if (!controlled || d.memoryLimitBytes === undefined) return undefined;
  const peak = Math.max(d.observedMemoryBytes ?? 0, d.memoryLimitBytes);
  let newLimit = roundMemoryUp(peak * 1.5);
  const nodeCapacity = largestNodeMemory(facts);
  const notes: string[] = [];
  if (nodeCapacity !== undefined && newLimit > nodeCapacity * 0.9) {
    newLimit = roundMemoryUp(nodeCapacity * 0.8);
    notes.push(`capped below the largest node's allocatable memory (${formatMemory(nodeCapacity)})`);
  }
  if (newLimit <= d.memoryLimitBytes) return undefined;
  return { ...context, workload: controlled, limit: d.memoryLimitBytes, newLimit, notes };
}

function killedAt({ details: d, limit }: MemoryRaise): string {
  return `The container was OOMKilled at its ${formatMemory(limit)} limit${d.observedMemoryBytes ? `; its working set peaked at ${formatMemory(d.observedMemoryBytes)}` : ''}.`;
}

/** The killed container by name; a Guaranteed pod keeps its QoS (request = limit). */
const namedContainer: Strategy<MemoryRaise> = (raise) => {
  const { details: d, workload, limit, newLimit, notes, verifyTimeout } = raise;
  if (!d.container) return undefined;
  const resources: Record<string, unknown> = { limits: { memory: formatMemory(newLimit) } };
  if (d.memoryRequestBytes !== undefined && d.memoryRequestBytes >= limit) {
    resources.requests = { memory: formatMemory(newLimit) }; // keep Guaranteed QoS
  }
  return containerFix(
    workload,
    d.container,
    { resources },
    {
      description: `Raise the memory limit of container ${d.container} in ${describe(workload)} from ${formatMemory(limit)} to ${formatMemory(newLimit)}`,
      rationale: `${killedAt(raise)} The new limit leaves ~50% headroom above the observed peak${notes.length ? ` (${notes.join('; ')})` : ''}.`,
      verification: rolloutVerification(
        workload,
        verifyTimeout,
        `container ${d.container} is not OOMKilled again (restartCount stays put)`,
      ),
    },
  );
};

/**
 * The container's name is not in the context: address the first container of the template. Live,
 * the context carries the name; the server-side dry-run checks the path exists.
 */
const firstContainer: Strategy<MemoryRaise> = (raise) => {
  const { workload, limit, newLimit, verifyTimeout } = raise;
  const path = `/${podTemplatePath(workload.kind).join('/')}/containers/0/resources/limits/memory`;
  return patchDraft(
    workload,
    [{ op: 'replace', path, value: formatMemory(newLimit) }],
    {
      description: `Raise the memory limit of ${describe(workload)}'s first container from ${formatMemory(limit)} to ${formatMemory(newLimit)}`,
      rationale: `${killedAt(raise)} The new limit leaves ~50% headroom. The context does not name the container, so the patch addresses the first one: check it is the one that was killed.`,
      verification: rolloutVerification(workload, verifyTimeout, 'no container is OOMKilled again'),
    },
    'json',
  );
};

export const oomKilled = builderOf([within(memoryRaise, [namedContainer, firstContainer])], (context) => {
  const d = context.details;
  if (!context.controlled) {
    return advise(context, {
      description: 'Raise the memory limit of the container',
      instructions: `The pod has no controller that kubemend can patch. Recreate it with a higher resources.limits.memory for container ${d.container ?? '(the killed container)'}.`,
      rationale: "A bare pod's resources cannot be changed in place.",
    });
  }
  if (d.memoryLimitBytes === undefined) {
    return advise(context, {
      description: 'Set memory requests and a limit',
      instructions: `Container ${d.container} has no memory limit, yet it was OOM-killed: the node ran out of memory. Set resources.requests.memory to its real usage${d.observedMemoryBytes ? ` (${formatMemory(d.observedMemoryBytes)} observed)` : ''} so the scheduler accounts for it.`,
      rationale: 'Without a limit, the kill comes from node memory pressure, not a container limit.',
    });
  }
  return advise(context, {
    description: 'Give the workload more memory',
    instructions: `The limit cannot be raised within node capacity. Reduce the memory use of container ${d.container} or add larger nodes.`,
    rationale: 'Raising the limit above node allocatable would make the pods unschedulable.',
  });
});
