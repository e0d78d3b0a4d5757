import type { Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { type Facts, logEvidence, metricEvidence, percent } from '../facts.js';
import { containerPhrase, finding, type Rule } from './rule.js';

const RATIO_METRICS = [
  'cpu_throttled_ratio',
  'container_cpu_cfs_throttled_ratio',
  'cpu_throttling_ratio',
  'throttled_ratio',
];
const USAGE_CORES = ['cpu_usage_cores', 'container_cpu_usage_cores', 'cpu_usage'];
const USAGE_MILLICORES = ['cpu_usage_millicores', 'container_cpu_usage_millicores'];

export function throttlingRatio(facts: Facts): { ratio: number; evidence: Evidence } | undefined {
  const series = facts.metric(...RATIO_METRICS);
  let ratio = series?.latest ?? series?.max;
  if (series && ratio !== undefined) {
    if (ratio > 1 && ratio <= 100) ratio /= 100; // given as a percentage
    return { ratio, evidence: metricEvidence(series, String(series.latest ?? series.max)) };
  }
  const throttled = facts.metric('container_cpu_cfs_throttled_periods_total', 'cpu_cfs_throttled_periods');
  const periods = facts.metric('container_cpu_cfs_periods_total', 'cpu_cfs_periods');
  if (throttled?.latest !== undefined && periods?.latest) {
    const value = throttled.latest / periods.latest;
    return {
      ratio: value,
      evidence: metricEvidence(throttled, `${throttled.latest} of ${periods.latest} periods`),
    };
  }
  return undefined;
}

/** The highest CPU usage any source reports (metrics API, monitoring), in millicores. */
export function cpuUsageMillicores(facts: Facts): number | undefined {
  const values: number[] = [];
  for (const name of USAGE_MILLICORES) {
    const series = facts.metric(name);
    if (series?.max !== undefined) values.push(series.max);
  }
  for (const name of USAGE_CORES) {
    const series = facts.metric(name);
    if (series?.max !== undefined) values.push(series.max * 1000);
  }
  return values.length > 0 ? Math.max(...values) : undefined;
}

export const cpuThrottlingRule: Rule = {
  category: 'cpu-throttling',
  evaluate(facts) {
    const throttled = throttlingRatio(facts);
    const alert = facts.findLog(/CPUThrottlingHigh|throttling of CPU/);
    if ((!throttled || throttled.ratio < 0.25) && !alert) return undefined;
    const container = facts
      .containers()
      .find(
        (entry) => !entry.container.init && entry.container.limits.cpuMillicores !== undefined,
      )?.container;
    const factors: string[] = [];
    let confidence = throttled
      ? throttled.ratio >= 0.5
        ? CONFIDENCE.strong - 0.05
        : CONFIDENCE.good
      : CONFIDENCE.weak;
    if (facts.pods.length > 0 && !container) {
      confidence -= 0.3;
      factors.push('no container has a CPU limit, so CFS throttling cannot be the cause');
    }
    if (container?.limits.cpuMillicores !== undefined)
      factors.push(`CPU limit is ${container.limits.cpuMillicores}m`);
    const usage = cpuUsageMillicores(facts);
    if (usage !== undefined) factors.push(`CPU usage reaches ${Math.round(usage)}m`);
    const timeouts = facts.eventsMatching(/probe failed.*(?:timeout|deadline exceeded|timed out)/i, [
      'Unhealthy',
    ]);
    if (timeouts.length > 0) factors.push('probe timeouts are a symptom of the throttling');
    const evidence = [
      throttled?.evidence,
      ...timeouts
        .slice(0, 1)
        .map((e) => ({ quote: `${e.reason}: ${e.message}`, kind: 'event' as const, origin: e.origin })),
    ].filter((item): item is Evidence => item !== undefined);
    if (alert) evidence.push(logEvidence(alert));
    return finding('cpu-throttling', facts, {
      confidence,
      rootCause: `${containerPhrase(facts, container?.name)} is CPU-throttled${throttled ? ` in ${percent(throttled.ratio)} of scheduling periods` : ''}: its CPU limit${container?.limits.cpuMillicores !== undefined ? ` of ${container.limits.cpuMillicores}m` : ''} is below what it needs, which slows requests and probes.`,
      factors,
      evidence,
      details: {
        container: container?.name,
        cpuLimitMillicores: container?.limits.cpuMillicores,
        cpuRequestMillicores: container?.requests.cpuMillicores,
        observedCpuMillicores: usage,
        throttledRatio: throttled?.ratio,
      },
    });
  },
};
