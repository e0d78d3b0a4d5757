// Usage from the world, in the shapes the kubelet and metrics-server publish: /stats/summary,
// /metrics/resource, /metrics/cadvisor (CFS throttling counters) and metrics.k8s.io/v1beta1.
import { type ContainerUsage, rfc3339 } from './pod-machine.js';

export interface PodUsage {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly creationTimestamp: string;
  readonly startTime: number;
  readonly node: string;
  readonly containers: readonly ContainerUsage[];
}

export interface NodeUsage {
  readonly name: string;
  readonly startTime: number;
  readonly memoryCapacityBytes: number;
  readonly pods: readonly PodUsage[];
}

/** CPU seconds consumed since the container started, at constant usage. */
export function cpuSeconds(container: ContainerUsage, now: number): number {
  return ((container.cpuMillicores / 1000) * Math.max(0, now - container.startedAt)) / 1000;
}

/** 100 ms CFS periods since start; the throttled share is the ratio from the world. */
export function cfsPeriods(
  container: ContainerUsage,
  now: number,
): { periods: number; throttled: number; throttledSeconds: number } {
  if (container.cpuLimitMillicores === undefined) return { periods: 0, throttled: 0, throttledSeconds: 0 };
  const periods = Math.floor(Math.max(0, now - container.startedAt) / 100);
  const throttled = Math.floor(periods * container.throttledRatio);
  return {
    periods,
    throttled,
    throttledSeconds: Math.round(throttled * 0.1 * container.throttledRatio * 1000) / 1000,
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function statsSummary(node: NodeUsage, now: number): Record<string, unknown> {
  const time = rfc3339(now);
  const cpuStats = (millicores: number, seconds: number) => ({
    time,
    usageNanoCores: Math.round(millicores * 1e6),
    usageCoreNanoSeconds: Math.round(seconds * 1e9),
  });
  const memoryStats = (bytes: number) => ({
    time,
    workingSetBytes: bytes,
    usageBytes: bytes,
    rssBytes: bytes,
    pageFaults: 0,
    majorPageFaults: 0,
  });
  const pods = node.pods.map((pod) => ({
    podRef: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
    startTime: rfc3339(pod.startTime),
    containers: pod.containers.map((c) => ({
      name: c.name,
      startTime: rfc3339(c.startedAt),
      cpu: cpuStats(c.cpuMillicores, cpuSeconds(c, now)),
      memory: memoryStats(c.memoryBytes),
    })),
    cpu: cpuStats(
      sum(pod.containers.map((c) => c.cpuMillicores)),
      sum(pod.containers.map((c) => cpuSeconds(c, now))),
    ),
    memory: memoryStats(sum(pod.containers.map((c) => c.memoryBytes))),
  }));
  const all = node.pods.flatMap((p) => p.containers);
  const workingSet = sum(all.map((c) => c.memoryBytes));
  return {
    node: {
      nodeName: node.name,
      startTime: rfc3339(node.startTime),
      cpu: cpuStats(sum(all.map((c) => c.cpuMillicores)), sum(all.map((c) => cpuSeconds(c, now)))),
      memory: {
        ...memoryStats(workingSet),
        availableBytes: Math.max(0, node.memoryCapacityBytes - workingSet),
      },
    },
    pods,
  };
}

function series(name: string, labels: Record<string, string>, value: number, now: number): string {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
  return `${name}{${text}} ${Number.isInteger(value) ? value : value.toFixed(9).replace(/0+$/, '')} ${now}`;
}

export function resourceMetrics(node: NodeUsage, now: number): string {
  const lines: string[] = [];
  const all = node.pods.flatMap((p) => p.containers);
  const header = (name: string, help: string, type = 'counter') =>
    lines.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
  header(
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the container in core-seconds',
  );
  for (const pod of node.pods)
    for (const c of pod.containers)
      lines.push(
        series(
          'container_cpu_usage_seconds_total',
          { container: c.name, namespace: pod.namespace, pod: pod.name },
          cpuSeconds(c, now),
          now,
        ),
      );
  header('container_memory_working_set_bytes', 'Current working set of the container in bytes', 'gauge');
  for (const pod of node.pods)
    for (const c of pod.containers)
      lines.push(
        series(
          'container_memory_working_set_bytes',
          { container: c.name, namespace: pod.namespace, pod: pod.name },
          c.memoryBytes,
          now,
        ),
      );
  header('container_start_time_seconds', 'Start time of the container since unix epoch in seconds', 'gauge');
  for (const pod of node.pods)
    for (const c of pod.containers)
      lines.push(
        series(
          'container_start_time_seconds',
          { container: c.name, namespace: pod.namespace, pod: pod.name },
          Math.floor(c.startedAt / 1000),
          now,
        ),
      );
  header('node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds');
  lines.push(
    series('node_cpu_usage_seconds_total', {}, sum(all.map((c) => cpuSeconds(c, now))), now).replace(
      '{}',
      '',
    ),
  );
  header('node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge');
  lines.push(
    series('node_memory_working_set_bytes', {}, sum(all.map((c) => c.memoryBytes)), now).replace('{}', ''),
  );
  header('pod_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the pod in core-seconds');
  for (const pod of node.pods)
    lines.push(
      series(
        'pod_cpu_usage_seconds_total',
        { namespace: pod.namespace, pod: pod.name },
        sum(pod.containers.map((c) => cpuSeconds(c, now))),
        now,
      ),
    );
  header('pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge');
  for (const pod of node.pods)
    lines.push(
      series(
        'pod_memory_working_set_bytes',
        { namespace: pod.namespace, pod: pod.name },
        sum(pod.containers.map((c) => c.memoryBytes)),
        now,
      ),
    );
  header(
    'resource_scrape_error',
    '1 if there was an error while getting container metrics, 0 otherwise',
    'gauge',
  );
  lines.push('resource_scrape_error 0');
  return `${lines.join('\n')}\n`;
}

/** The cAdvisor series kubemend's cpu-throttling rule reads (container_cpu_cfs_*). */
export function cadvisorMetrics(node: NodeUsage, now: number): string {
  const lines: string[] = [];
  const metric = (
    name: string,
    help: string,
    type: string,
    value: (pod: PodUsage, c: ContainerUsage) => number | undefined,
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const pod of node.pods) {
      for (const c of pod.containers) {
        const v = value(pod, c);
        if (v === undefined) continue;
        lines.push(
          series(
            name,
            {
              container: c.name,
              id: `/kubepods/pod${pod.uid}/${c.name}`,
              image: '',
              name: c.name,
              namespace: pod.namespace,
              pod: pod.name,
            },
            v,
            now,
          ),
        );
      }
    }
  };
  metric(
    'container_cpu_cfs_periods_total',
    'Number of elapsed enforcement period intervals.',
    'counter',
    (_p, c) => (c.cpuLimitMillicores === undefined ? undefined : cfsPeriods(c, now).periods),
  );
  metric(
    'container_cpu_cfs_throttled_periods_total',
    'Number of throttled period intervals.',
    'counter',
    (_p, c) => (c.cpuLimitMillicores === undefined ? undefined : cfsPeriods(c, now).throttled),
  );
  metric(
    'container_cpu_cfs_throttled_seconds_total',
    'Total time duration the container has been throttled.',
    'counter',
    (_p, c) => (c.cpuLimitMillicores === undefined ? undefined : cfsPeriods(c, now).throttledSeconds),
  );
  metric(
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed in seconds.',
    'counter',
    (_p, c) => cpuSeconds(c, now),
  );
  metric(
    'container_memory_working_set_bytes',
    'Current working set in bytes.',
    'gauge',
    (_p, c) => c.memoryBytes,
  );
  metric(
    'container_spec_memory_limit_bytes',
    'Memory limit for the container.',
    'gauge',
    (_p, c) => c.memoryLimitBytes ?? 0,
  );
  metric('container_spec_cpu_quota', 'CPU quota of the container.', 'gauge', (_p, c) =>
    c.cpuLimitMillicores === undefined ? undefined : c.cpuLimitMillicores * 100,
  );
  metric('container_spec_cpu_period', 'CPU period of the container.', 'gauge', (_p, c) =>
    c.cpuLimitMillicores === undefined ? undefined : 100_000,
  );
  return `${lines.join('\n')}\n`;
}

const nanocores = (millicores: number) => `${Math.round(millicores * 1e6)}n`;
const kibibytes = (bytes: number) => `${Math.round(bytes / 1024)}Ki`;

export function podMetrics(pod: PodUsage, now: number, windowSeconds: number): Record<string, unknown> {
  return {
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      creationTimestamp: rfc3339(now),
      labels: pod.labels,
    },
    timestamp: rfc3339(now),
    window: `${windowSeconds}s`,
    containers: pod.containers.map((c) => ({
      name: c.name,
      usage: { cpu: nanocores(c.cpuMillicores), memory: kibibytes(c.memoryBytes) },
    })),
  };
}

export function nodeMetrics(node: NodeUsage, now: number, windowSeconds: number): Record<string, unknown> {
  const all = node.pods.flatMap((p) => p.containers);
  return {
    metadata: { name: node.name, creationTimestamp: rfc3339(now), labels: {} },
    timestamp: rfc3339(now),
    window: `${windowSeconds}s`,
    usage: {
      cpu: nanocores(sum(all.map((c) => c.cpuMillicores))),
      memory: kibibytes(sum(all.map((c) => c.memoryBytes))),
    },
  };
}
