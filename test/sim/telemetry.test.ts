// Events, metrics and the kubelet API's log formatting: the shapes other tools parse.
import { describe, expect, it } from 'vitest';
import { aggregationKey, buildEvent } from './events.js';
import { formatLogs } from './kubelet-server.js';
import { cadvisorMetrics, podMetrics, statsSummary, type NodeUsage } from './metrics.js';
import { nodeConditions, podIPFor } from './nodes.js';
import { parseWorld } from './world.js';

const T = Date.parse('2026-01-01T00:00:00Z');

describe('events', () => {
  it('look like the kubelet recorder writes them', () => {
    const event = buildEvent(
      {
        type: 'Warning',
        reason: 'BackOff',
        message: 'm',
        involvedObject: {
          kind: 'Pod',
          namespace: 'ns',
          name: 'p',
          uid: 'u',
          fieldPath: 'spec.containers{c}',
        },
      },
      { component: 'kubelet', host: 'node-a' },
      T,
      0,
    );
    expect(event).toMatchObject({
      metadata: { name: `p.${(BigInt(T) * 1_000_000n).toString(16)}`, namespace: 'ns' },
      source: { component: 'kubelet', host: 'node-a' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-a',
      count: 1,
      firstTimestamp: '2026-01-01T00:00:00Z',
    });
  });

  it('aggregate by object, field path, type, reason and message', () => {
    const base = {
      type: 'Normal' as const,
      reason: 'Pulled',
      message: 'x',
      involvedObject: { uid: 'u', fieldPath: 'spec.containers{a}' },
    };
    const source = { component: 'kubelet', host: 'n' };
    expect(aggregationKey(base, source)).toBe(aggregationKey({ ...base }, source));
    expect(aggregationKey(base, source)).not.toBe(
      aggregationKey({ ...base, involvedObject: { uid: 'u', fieldPath: 'spec.containers{b}' } }, source),
    );
  });
});

describe('nodes', () => {
  it('report the kubelet condition texts and keep transition times', () => {
    const [node] = parseWorld({ nodes: [{ name: 'n', conditions: { Ready: 'False' } }] }).nodes;
    const transitions = new Map();
    const first = nodeConditions(node!, T, transitions);
    const second = nodeConditions(node!, T + 60_000, transitions);
    expect(first.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
    });
    expect(first.find((c) => c.type === 'MemoryPressure')).toMatchObject({
      status: 'False',
      message: 'kubelet has sufficient memory available',
    });
    expect(second[0]?.lastTransitionTime).toBe(first[0]?.lastTransitionTime);
    expect(second[0]?.lastHeartbeatTime).not.toBe(first[0]?.lastHeartbeatTime);
  });

  it('hand out pod IPs from the pod CIDR, .2 upwards', () => {
    expect(podIPFor('10.244.1.0/24', 0)).toBe('10.244.1.2');
    expect(podIPFor('10.244.1.0/24', 3)).toBe('10.244.1.5');
  });
});

describe('metrics', () => {
  const usage: NodeUsage = {
    name: 'n',
    startTime: T,
    memoryCapacityBytes: 8 * 2 ** 30,
    pods: [
      {
        name: 'p',
        namespace: 'ns',
        uid: 'u',
        labels: { app: 'x' },
        creationTimestamp: '',
        startTime: T,
        node: 'n',
        containers: [
          {
            name: 'c',
            startedAt: T,
            cpuMillicores: 500,
            memoryBytes: 300 * 2 ** 20,
            cpuLimitMillicores: 500,
            throttledRatio: 0.667,
          },
        ],
      },
    ],
  };

  it('metrics.k8s.io PodMetrics in nanocores and KiB', () => {
    expect(podMetrics(usage.pods[0]!, T + 10_000, 1.5)).toMatchObject({
      window: '1.5s',
      containers: [{ name: 'c', usage: { cpu: '500000000n', memory: '307200Ki' } }],
    });
  });

  it('/stats/summary and cAdvisor CFS counters', () => {
    const summary = statsSummary(usage, T + 10_000) as {
      pods: Array<{ containers: Array<{ cpu: { usageCoreNanoSeconds: number } }> }>;
    };
    expect(summary.pods[0]?.containers[0]?.cpu.usageCoreNanoSeconds).toBe(5e9);
    const text = cadvisorMetrics(usage, T + 10_000);
    expect(text).toContain('container_cpu_cfs_periods_total{container="c"');
    expect(text).toMatch(/container_cpu_cfs_throttled_periods_total\{[^}]*pod="p"\} 66 /);
  });
});

describe('kubelet log API', () => {
  const read = {
    ok: true as const,
    lines: [
      { time: T, text: 'one' },
      { time: T + 1000, text: 'two' },
      { time: T + 2000, text: 'three' },
    ],
  };
  it('honours tailLines and timestamps', () => {
    expect(formatLogs(read, new URLSearchParams('tailLines=2'), T + 3000)).toBe('two\nthree\n');
    expect(formatLogs(read, new URLSearchParams('tailLines=1&timestamps=true'), T + 3000)).toBe(
      '2026-01-01T00:00:02.000000000Z three\n',
    );
  });
});
