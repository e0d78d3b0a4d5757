import { type Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import {
  containerPath,
  eventEvidence,
  type Facts,
  logEvidence,
  mebibytes,
  metricEvidence,
  statusEvidence,
} from '../facts.js';
import { eventContainer, terminations } from '../signals.js';
import { nodeOomVictim } from '../facts.js';
import { containerRunsProcess } from '../../context/node-processes.js';
import { containerPhrase, finding, type Rule } from './rule.js';

const KERNEL_OOM = /Memory cgroup out of memory|oom-kill:|oom_kill_process|Killed process \d+ .*total-vm/i;

export const WORKING_SET_METRICS = [
  'memory_working_set_bytes',
  'container_memory_working_set_bytes',
  'memory_usage_bytes',
  'container_memory_usage_bytes',
  'memory_peak_bytes',
];

export function observedMemory(facts: Facts): { bytes?: number; evidence?: Evidence } {
  const series = facts.metric(...WORKING_SET_METRICS);
  if (series?.max === undefined) return {};
  return { bytes: series.max, evidence: metricEvidence(series, `${series.max} (${mebibytes(series.max)})`) };
}

function metricSaysOomKilled(facts: Facts) {
  for (const series of facts.ctx.metrics.values()) {
    if (/terminated_reason/.test(series.name) && series.text === 'OOMKilled') return series;
  }
  return undefined;
}

export const oomKilledRule: Rule = {
  category: 'oom-killed',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    const factors: string[] = [];
    const victim = nodeOomVictim(facts.events);
    const victimContainer = victim
      ? facts.primaryPod?.containers.find((c) => containerRunsProcess(c.spec, victim.process))
      : undefined;
    // The primary pod's (the victim's) termination first.
    const killed = terminations(facts)
      .filter((t) => t.reason === 'OOMKilled')
      .sort((a, b) => Number(b.pod === facts.primaryPod) - Number(a.pod === facts.primaryPod));
    let confidence = 0;
    let container: string | undefined;
    let limit: number | undefined;

    if (killed.length > 0) {
      const first = killed[0]!;
      container = first.container.name;
      limit = first.container.limits.memoryBytes;
      evidence.push(
        statusEvidence(
          first.pod,
          containerPath(first.container, `${first.which}.terminated.reason`),
          'OOMKilled',
        ),
      );
      if (first.exitCode !== undefined) {
        evidence.push(
          statusEvidence(
            first.pod,
            containerPath(first.container, `${first.which}.terminated.exitCode`),
            first.exitCode,
          ),
        );
      }
      const restarts = first.container.status?.restartCount ?? 0;
      if (restarts > 0) factors.push(`container ${container} has restarted ${restarts} times`);
      confidence =
        first.exitCode === undefined || first.exitCode === 137 ? CONFIDENCE.certain : CONFIDENCE.strong;
    } else {
      const oomEvents = facts.events.filter(
        (event) =>
          /\bOOMKilled\b/.test(event.message) ||
          (event.reason === 'OOMKilling' && KERNEL_OOM.test(event.message)),
      );
      const kernelLine = facts.findLog(KERNEL_OOM);
      if (victim && victimContainer) {
        // The kernel killed a process of this container when the node ran out of memory; the
        // container itself may have survived (a child process) — less certain than OOMKilled.
        confidence = CONFIDENCE.moderate;
        evidence.push(eventEvidence(victim.event));
        container = victimContainer.name;
      } else if (oomEvents.length > 0) {
        confidence = CONFIDENCE.good + 0.05;
        evidence.push(...oomEvents.slice(0, 2).map(eventEvidence));
        container = eventContainer(oomEvents[0]!);
      } else if (kernelLine) {
        confidence = CONFIDENCE.moderate;
        evidence.push(logEvidence(kernelLine));
      } else if (metricSaysOomKilled(facts)) {
        // kube-state-metrics style: kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}
        const series = metricSaysOomKilled(facts)!;
        evidence.push(metricEvidence(series, series.text ?? 'OOMKilled'));
        confidence = CONFIDENCE.strong - 0.05;
      } else {
        return undefined;
      }
    }

    if (victim) {
      if (killed.length > 0) evidence.push(eventEvidence(victim.event));
      factors.push(
        victimContainer
          ? `node ${victim.event.object.name ?? ''} reported ${victim.event.reason} naming victim process ${victim.process}, which container ${victimContainer.name} of pod ${facts.primaryPod?.name ?? ''} runs`
          : `node ${victim.event.object.name ?? ''} reported ${victim.event.reason} naming victim process ${victim.process}; no container in the context runs it`,
      );
    }

    // Runtime heap exhaustion in the logs is a different failure; mention it when both appear.
    const heap = facts.findLog(/java\.lang\.OutOfMemoryError|JavaScript heap out of memory|MemoryError/);
    if (heap) factors.push(`the logs also show the runtime's own heap limit: "${heap.line.trim()}"`);

    const containerView = facts.containers().find((c) => c.container.name === container)?.container;
    limit ??=
      containerView?.limits.memoryBytes ??
      facts.metric(
        'memory_limit_bytes',
        'container_spec_memory_limit_bytes',
        'kube_pod_container_resource_limits_memory_bytes',
      )?.latest;
    const observed = observedMemory(facts);
    if (observed.evidence) evidence.push(observed.evidence);
    if (limit !== undefined) factors.push(`memory limit is ${mebibytes(limit)}`);
    if (observed.bytes !== undefined && limit !== undefined) {
      factors.push(
        `observed working set peaked at ${mebibytes(observed.bytes)} (${Math.round((observed.bytes / limit) * 100)}% of the limit)`,
      );
    }
    const backoff = facts.eventsMatching(/Back-off restarting failed container/, ['BackOff']);
    if (backoff[0]) evidence.push(eventEvidence(backoff[0]));

    const where = containerPhrase(facts, container);
    const limitText = limit !== undefined ? ` of ${mebibytes(limit)}` : '';
    return finding('oom-killed', facts, {
      confidence,
      rootCause: `The kernel OOM killer terminated ${where} (exit code 137) because it used more memory than its limit${limitText}; the container restarts and is killed again.`,
      factors,
      evidence,
      details: {
        container,
        memoryLimitBytes: limit,
        memoryRequestBytes: containerView?.requests.memoryBytes,
        observedMemoryBytes: observed.bytes,
      },
    });
  },
};
