/** Scheduler failures: capacity (insufficient-resources) versus placement rules (scheduling-constraints). */
import {
  type Evidence,
  asObject,
  asString,
  parseCpuMillicores,
  parseMemoryBytes,
} from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { eventEvidence, type Facts, mebibytes, statusEvidence } from '../facts.js';
import { schedulingFailures, type SchedulingFailure } from '../signals.js';
import { closestName } from '../near-miss.js';
import { cpuUsageMillicores } from './cpu-throttling.js';
import { observedMemory } from './oom-killed.js';
import { finding, type Rule } from './rule.js';

const INSUFFICIENT = /^Insufficient (\S+)|^Too many pods/;
const NODE_HEALTH_TAINT =
  /node\.kubernetes\.io\/(?:not-ready|unreachable|memory-pressure|disk-pressure|pid-pressure|network-unavailable)|node\.cloudprovider\.kubernetes\.io\/uninitialized/;
const CONTROL_PLANE_TAINT = /node-role\.kubernetes\.io\/(?:control-plane|master)/;
const CONSTRAINT =
  /untolerated taint|didn't match Pod's node affinity|didn't match pod affinity|didn't match pod anti-affinity|didn't satisfy existing pods anti-affinity|didn't match pod topology spread|were unschedulable|didn't have free ports|didn't match the requested node name|node\(s\) had taint/;
export const VOLUME_SCHEDULING =
  /unbound immediate PersistentVolumeClaims|persistentvolumeclaim "[^"]+" not found|persistentvolumeclaim "[^"]+" is being deleted|bound to non-existent persistentvolume|didn't find available persistent volumes|volume node affinity conflict|didn't match PersistentVolume's node affinity|did not have enough free storage|pvc\(s\) bound to non-existent pv|VolumeBinding/;

interface Classified {
  failure: SchedulingFailure;
  insufficient: Array<{ count: number; text: string }>;
  constraints: Array<{ count: number; text: string }>;
  healthTaints: Array<{ count: number; text: string }>;
  controlPlane: number;
  volume: boolean;
}

function classify(failure: SchedulingFailure): Classified {
  const out: Classified = {
    failure,
    insufficient: [],
    constraints: [],
    healthTaints: [],
    controlPlane: 0,
    volume: VOLUME_SCHEDULING.test(failure.message),
  };
  for (const reason of failure.reasons) {
    if (INSUFFICIENT.test(reason.text)) out.insufficient.push(reason);
    else if (NODE_HEALTH_TAINT.test(reason.text)) out.healthTaints.push(reason);
    else if (CONTROL_PLANE_TAINT.test(reason.text)) out.controlPlane += reason.count;
    else if (CONSTRAINT.test(reason.text)) out.constraints.push(reason);
  }
  return out;
}

export function classifiedSchedulingFailures(facts: Facts): Classified[] {
  return schedulingFailures(facts).map(classify);
}

function failureEvidence(failure: SchedulingFailure): Evidence {
  if (failure.event) return eventEvidence(failure.event);
  if (failure.pod)
    return statusEvidence(
      failure.pod,
      'status.conditions[PodScheduled]',
      `False (Unschedulable): ${failure.message}`,
    );
  return { quote: failure.message, kind: 'event', origin: 'input' };
}

function sum(reasons: Array<{ count: number }>): number {
  return reasons.reduce((total, reason) => total + reason.count, 0);
}

export const insufficientResourcesRule: Rule = {
  category: 'insufficient-resources',
  evaluate(facts) {
    const all = classifiedSchedulingFailures(facts).filter((c) => c.insufficient.length > 0 && !c.volume);
    const latest = all.at(-1);
    if (!latest) return undefined;
    const insufficientNodes = sum(latest.insufficient);
    const constraintNodes = sum(latest.constraints);
    const resources = latest.insufficient.map((r) => /^Insufficient (\S+)/.exec(r.text)?.[1] ?? 'pods');
    const factors: string[] = [];
    let confidence: number = CONFIDENCE.strong;
    if (constraintNodes > 0) {
      // The placement rules narrow the pool; the nodes that pass them are full: capacity is what blocks.
      factors.push(
        `placement rules exclude ${constraintNodes} node(s); the ${insufficientNodes} node(s) that pass them lack ${resources.join(', ')}`,
      );
      confidence = CONFIDENCE.good + 0.05;
    }
    if (latest.controlPlane > 0)
      factors.push(`${latest.controlPlane} control-plane node(s) are reserved by their taint (expected)`);

    const pod = facts.primaryPod;
    const container = pod?.containers[0];
    const requestMemory = pod?.containers.reduce((total, c) => total + (c.requests.memoryBytes ?? 0), 0) ?? 0;
    const requestCpu = pod?.containers.reduce((total, c) => total + (c.requests.cpuMillicores ?? 0), 0) ?? 0;
    if (requestMemory > 0) factors.push(`the pod requests ${mebibytes(requestMemory)} memory`);
    if (requestCpu > 0) factors.push(`the pod requests ${requestCpu}m CPU`);
    const usageMemory = observedMemory(facts).bytes;
    const usageCpu = cpuUsageMillicores(facts);
    const overRequested =
      (resources.includes('memory') && usageMemory !== undefined && requestMemory > usageMemory * 2) ||
      (resources.includes('cpu') && usageCpu !== undefined && requestCpu > usageCpu * 2);
    if (overRequested) factors.push('observed usage is far below the requests: the requests can be lowered');

    // A request bigger than any node's allocatable can never be scheduled: a spec error, not capacity.
    const nodes = facts.objectsOfKind('Node');
    const largestAllocatable = (resource: 'cpu' | 'memory'): number | undefined => {
      let best: number | undefined;
      for (const node of nodes) {
        const value = asString(asObject(asObject(node.raw.status)?.allocatable)?.[resource]);
        const parsed = resource === 'cpu' ? parseCpuMillicores(value) : parseMemoryBytes(value);
        if (parsed !== undefined) best = Math.max(best ?? 0, parsed);
      }
      return best;
    };
    const biggestCpu = largestAllocatable('cpu');
    const biggestMemory = largestAllocatable('memory');
    const tooBig =
      (resources.includes('cpu') && biggestCpu !== undefined && requestCpu > biggestCpu) ||
      (resources.includes('memory') && biggestMemory !== undefined && requestMemory > biggestMemory);
    if (tooBig)
      factors.push(
        'the request exceeds the allocatable capacity of every node: it can never be scheduled as written',
      );

    return finding('insufficient-resources', facts, {
      confidence,
      rootCause: `The scheduler cannot place pod ${pod?.name ?? facts.describeSubject()}: ${insufficientNodes} of ${latest.failure.total ?? '?'} node(s) lack ${resources.join(' and ')} for its requests${tooBig ? ', which are larger than any node' : ''}.`,
      factors,
      evidence: [failureEvidence(latest.failure)],
      details: {
        container: container?.name,
        resource: resources[0],
        memoryRequestBytes: requestMemory || undefined,
        cpuRequestMillicores: requestCpu || undefined,
        observedMemoryBytes: overRequested || tooBig ? usageMemory : undefined,
        observedCpuMillicores: overRequested || tooBig ? usageCpu : undefined,
      },
    });
  },
};

export const schedulingConstraintsRule: Rule = {
  category: 'scheduling-constraints',
  evaluate(facts) {
    const all = classifiedSchedulingFailures(facts).filter((c) => c.constraints.length > 0 && !c.volume);
    const latest = all.at(-1);
    if (!latest) return undefined;
    const insufficientNodes = sum(latest.insufficient);
    // Nodes that pass the placement rules but are full mean capacity is the blocker, not the rules.
    let confidence: number = insufficientNodes > 0 ? CONFIDENCE.weak + 0.1 : CONFIDENCE.strong;
    const factors: string[] = [];
    if (insufficientNodes > 0)
      factors.push(`${insufficientNodes} node(s) pass the placement rules but lack resources`);
    if (latest.healthTaints.length > 0) factors.push('some nodes are tainted as unhealthy');

    const main = [...latest.constraints].sort((a, b) => b.count - a.count)[0]!;
    const taint =
      /untolerated taint\(?s?\)? \{([^:}]+):\s*([^}]*)\}/.exec(main.text) ??
      /had taint \{([^:}]+):\s*([^}]*)\}/.exec(main.text);
    const pod = facts.primaryPod;
    const nodeSelector = asObject(pod?.spec.nodeSelector) ?? {};
    let selectorKey: string | undefined;
    let selectorValue: string | undefined;
    let suggestion: string | undefined;
    if (/node affinity\/selector|node affinity/.test(main.text)) {
      const nodes = facts.objectsOfKind('Node');
      for (const [key, raw] of Object.entries(nodeSelector)) {
        const value = asString(raw);
        if (value === undefined) continue;
        const present = nodes.map((node) => node.labels[key]).filter((v): v is string => v !== undefined);
        if (present.includes(value)) continue;
        selectorKey = key;
        selectorValue = value;
        const distinct = [...new Set(present)];
        suggestion = closestName(value, distinct) ?? (distinct.length === 1 ? distinct[0] : undefined);
        if (nodes.length > 0) {
          factors.push(
            present.length > 0
              ? `nodeSelector ${key}=${value} matches no node; nodes carry ${key}=${distinct.join(', ')}`
              : `nodeSelector ${key}=${value} matches no node; no node has the label ${key}`,
          );
        }
        break;
      }
      if (!selectorKey && Object.keys(nodeSelector).length > 0) {
        const [key, value] = Object.entries(nodeSelector)[0]!;
        selectorKey = key;
        selectorValue = asString(value);
      }
    }
    if (taint?.[1])
      factors.push(`taint ${taint[1]}${taint[2] ? `=${taint[2]}` : ''} is not tolerated by the pod`);
    if (suggestion && insufficientNodes === 0) confidence = Math.max(confidence, CONFIDENCE.strong);
    const antiAffinity = /anti-affinity/.test(main.text);
    const topologySpread = /topology spread/.test(main.text);

    const reasonText = main.text.replace(/^node\(s\) /, '');
    return finding('scheduling-constraints', facts, {
      confidence,
      rootCause: `The scheduler cannot place pod ${pod?.name ?? facts.describeSubject()}: ${main.count} of ${latest.failure.total ?? '?'} node(s) ${reasonText}${selectorKey ? ` (nodeSelector ${selectorKey}=${selectorValue})` : ''}.`,
      factors,
      evidence: [failureEvidence(latest.failure)],
      details: {
        nodeSelectorKey: selectorKey,
        nodeSelectorValue: selectorValue,
        suggestedSelectorValue: suggestion,
        taint: taint?.[1] ? { key: taint[1].trim(), value: taint[2]?.trim() || undefined } : undefined,
        placementRule: antiAffinity ? 'pod-anti-affinity' : topologySpread ? 'topology-spread' : undefined,
      },
    });
  },
};
