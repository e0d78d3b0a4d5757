import type { Evidence } from '../../domain/index.js';
import type { KubernetesObject } from '../../context/model.js';
import { CONFIDENCE } from '../finding.js';
import { condition, conditionEvidence, eventEvidence, statusEvidence } from '../facts.js';
import { classifiedSchedulingFailures } from './scheduling.js';
import { finding, type Rule } from './rule.js';

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

export const nodeNotReadyRule: Rule = {
  category: 'node-not-ready',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    const factors: string[] = [];
    let confidence = 0;
    let node: KubernetesObject | undefined;
    for (const candidate of facts.objectsOfKind('Node')) {
      const ready = condition(candidate, 'Ready');
      if (!ready || ready.status === 'True') continue;
      node ??= candidate;
      evidence.push(conditionEvidence(candidate, ready));
      confidence = CONFIDENCE.strong;
    }
    const nodeEvents = facts.events.filter(
      (event) =>
        event.reason === 'NodeNotReady' ||
        event.reason === 'TaintManagerEviction' ||
        event.reason === 'NodeLost' ||
        event.reason === 'NodeStatusUnknown',
    );
    for (const event of nodeEvents.slice(0, 3)) {
      evidence.push(eventEvidence(event));
      confidence = Math.max(
        confidence,
        event.reason === 'NodeNotReady' ? CONFIDENCE.strong - 0.05 : CONFIDENCE.good,
      );
    }
    const pod = facts.primaryPod;
    if (
      pod &&
      (pod.reason === 'NodeLost' ||
        /node .* (?:is not ready|which was lost|unreachable)/i.test(pod.message ?? ''))
    ) {
      evidence.push(statusEvidence(pod, 'status.reason', `${pod.reason ?? ''} ${pod.message ?? ''}`.trim()));
      confidence = Math.max(confidence, CONFIDENCE.good);
    }
    const taintOnly = classifiedSchedulingFailures(facts).find(
      (c) =>
        c.healthTaints.some((t) => /not-ready|unreachable/.test(t.text)) &&
        c.insufficient.length === 0 &&
        c.constraints.length === 0,
    );
    if (taintOnly) {
      if (taintOnly.failure.event) evidence.push(eventEvidence(taintOnly.failure.event));
      confidence = Math.max(confidence, CONFIDENCE.good);
      factors.push('every candidate node carries a not-ready/unreachable taint');
    }
    if (confidence === 0) return undefined;
    const ready = node ? condition(node, 'Ready') : undefined;
    const nodeName = node?.name ?? pod?.nodeName ?? nodeEvents[0]?.object.name;
    if (node?.raw && (node.raw as { spec?: { unschedulable?: boolean } }).spec?.unschedulable)
      factors.push(`node ${nodeName} is already cordoned`);
    const why =
      ready?.status === 'Unknown'
        ? 'the kubelet stopped posting node status (node unreachable or kubelet down)'
        : ready?.message
          ? ready.message
          : 'the kubelet reports the node not ready';
    return finding('node-not-ready', facts, {
      confidence,
      rootCause: `Node ${nodeName ?? '(unknown)'} is NotReady: ${why}; its pods are evicted or cannot run there.`,
      factors,
      evidence,
      subject: nodeName ? { kind: 'Node', apiVersion: 'v1', name: nodeName } : undefined,
      details: { nodeName },
    });
  },
};

export const nodePressureEvictionRule: Rule = {
  category: 'node-pressure-eviction',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    const factors: string[] = [];
    let confidence = 0;
    let resource: string | undefined;
    let container: string | undefined;
    let nodeName: string | undefined;
    let storageLimit: string | undefined;
    for (const pod of facts.pods) {
      if (pod.reason !== 'Evicted') continue;
      evidence.push(statusEvidence(pod, 'status.reason', 'Evicted'));
      if (pod.message) evidence.push(statusEvidence(pod, 'status.message', pod.message.trim()));
      resource ??=
        /low on resource: ([\w-]+)/.exec(pod.message ?? '')?.[1] ??
        (/ephemeral storage|EmptyDir/.test(pod.message ?? '') ? 'ephemeral-storage' : undefined);
      container ??=
        /Container (\S+) was using/.exec(pod.message ?? '')?.[1] ??
        /Container (\S+) exceeded/.exec(pod.message ?? '')?.[1];
      storageLimit ??= /ephemeral storage limit "([^"]+)"/.exec(pod.message ?? '')?.[1];
      nodeName ??= pod.nodeName;
      confidence = CONFIDENCE.certain;
    }
    for (const event of facts.events.filter(
      (e) => e.reason === 'Evicted' || e.reason === 'EvictionThresholdMet',
    )) {
      evidence.push(eventEvidence(event));
      resource ??=
        /low on resource: ([\w-]+)/.exec(event.message)?.[1] ??
        (/ephemeral storage|EmptyDir/.test(event.message) ? 'ephemeral-storage' : undefined) ??
        /reclaim ([\w-]+)/.exec(event.message)?.[1];
      container ??= /Container (\S+) (?:was using|exceeded)/.exec(event.message)?.[1];
      storageLimit ??= /ephemeral storage limit "([^"]+)"/.exec(event.message)?.[1];
      confidence = Math.max(confidence, event.reason === 'Evicted' ? CONFIDENCE.strong : CONFIDENCE.good);
    }
    for (const node of facts.objectsOfKind('Node')) {
      for (const type of PRESSURE) {
        const pressure = condition(node, type);
        if (pressure?.status !== 'True') continue;
        evidence.push(conditionEvidence(node, pressure));
        nodeName ??= node.name;
        resource ??=
          type === 'MemoryPressure' ? 'memory' : type === 'DiskPressure' ? 'ephemeral-storage' : 'pids';
        confidence = Math.max(confidence, CONFIDENCE.good);
      }
    }
    if (confidence === 0) return undefined;
    if (container)
      factors.push(
        `container ${container} used more ${resource ?? 'resource'} than it requested, so it was evicted first`,
      );
    return finding('node-pressure-eviction', facts, {
      confidence,
      rootCause:
        `The kubelet on node ${nodeName ?? '(unknown)'} evicted pod ${facts.primaryPod?.name ?? ''} because the node ran low on ${resource ?? 'a resource'}${container ? `; container ${container} used more than its request` : ''}.`.replace(
          'pod  ',
          'pods ',
        ),
      factors,
      evidence,
      details: { resource, container, nodeName, storageLimit },
    });
  },
};
