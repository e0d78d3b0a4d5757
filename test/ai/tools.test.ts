/**
 * The read-only investigation tools against an in-memory gateway: what each returns, how reads are
 * confined to the incident's namespace, and that nothing but get/list/logs is ever called.
 */
import { describe, expect, it } from 'vitest';
import {
  INVESTIGATION_TOOLS,
  ToolRefusal,
  readOnlyView,
  type ToolContext,
} from '../../src/analysis/ai/tools/index.js';
import type { KubeObject } from '../../src/cluster/gateway.js';
import { fakeClusterGateway } from './fake-cluster.js';
import { DEPLOYMENT, FATAL_LINE, NAMESPACE, POD, REPLICA_SET, liveObjects } from './support.js';

const extra: KubeObject[] = [
  {
    kind: 'Event',
    metadata: { name: 'e1', namespace: NAMESPACE },
    involvedObject: { kind: 'Pod', name: POD },
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    count: 9,
    lastTimestamp: '2026-11-20T10:05:00Z',
  },
  {
    kind: 'Event',
    metadata: { name: 'e2', namespace: NAMESPACE },
    involvedObject: { kind: 'Pod', name: 'other' },
    type: 'Normal',
    reason: 'Pulled',
    message: 'pulled',
    count: 1,
  },
  {
    kind: 'Node',
    metadata: { name: 'worker-2' },
    spec: { taints: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }] },
    status: {
      conditions: [
        {
          type: 'DiskPressure',
          status: 'True',
          reason: 'KubeletHasDiskPressure',
          message: 'ephemeral storage low',
        },
      ],
      allocatable: { memory: '7Gi' },
    },
  },
  {
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: NAMESPACE },
    spec: { storageClassName: 'fast-ssd' },
    status: { phase: 'Pending' },
  },
  {
    kind: 'Service',
    metadata: { name: 'checkout', namespace: NAMESPACE },
    spec: { selector: { app: 'checkout' }, ports: [{ port: 80, targetPort: 8080 }] },
  },
  {
    kind: 'EndpointSlice',
    metadata: {
      name: 'checkout-abc',
      namespace: NAMESPACE,
      labels: { 'kubernetes.io/service-name': 'checkout' },
    },
    endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: false } }],
  },
  {
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'checkout', namespace: NAMESPACE },
    spec: { maxReplicas: 4 },
    status: { currentReplicas: 4, desiredReplicas: 9 },
  },
  {
    kind: 'ResourceQuota',
    metadata: { name: 'compute', namespace: NAMESPACE },
    status: { hard: { 'limits.memory': '4Gi' }, used: { 'limits.memory': '4Gi' } },
  },
  { kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' }, spec: {} },
];

function setup() {
  const cluster = fakeClusterGateway([...liveObjects(), ...extra], {
    [`${NAMESPACE}/${POD}/checkout/previous`]: ['INFO a', 'WARN b', FATAL_LINE, 'INFO c'].join('\n'),
  });
  const context: ToolContext = { cluster: readOnlyView(cluster), namespace: NAMESPACE };
  const run = (name: string, input: unknown) =>
    INVESTIGATION_TOOLS.find((tool) => tool.name === name)!.run(input, context);
  return { cluster, run };
}

describe('investigation tools', () => {
  it('offers only reads', () => {
    expect(INVESTIGATION_TOOLS.map((tool) => tool.name)).toEqual([
      'get_object',
      'owner_chain',
      'events_for',
      'pod_logs',
      'list_pods',
      'node_status',
      'pvc_status',
      'service_endpoints',
      'hpa_status',
      'quotas',
      'revision_history',
    ]);
  });

  it('the read-only view exposes get, list and logs only', () => {
    const view = readOnlyView(fakeClusterGateway([]));
    expect(Object.keys(view).sort()).toEqual(['get', 'list', 'logs']);
  });

  it('owner chain: Pod → ReplicaSet → Deployment', async () => {
    const { run } = setup();
    const output = await run('owner_chain', { kind: 'Pod', name: POD });
    expect(output.value).toEqual({
      chain: [
        { kind: 'Pod', name: POD },
        { kind: 'ReplicaSet', name: REPLICA_SET },
        { kind: 'Deployment', name: DEPLOYMENT, topLevel: true },
      ],
    });
  });

  it('logs: previous instance, grep and tail', async () => {
    const { run, cluster } = setup();
    const grep = await run('pod_logs', { pod: POD, previous: true, grep: 'fatal' });
    expect(grep.value).toMatchObject({ container: 'checkout', previous: true, lines: [FATAL_LINE] });
    const tail = await run('pod_logs', { pod: POD, container: 'checkout', previous: true, tailLines: 2 });
    expect((tail.value as { lines: string[] }).lines).toEqual([FATAL_LINE, 'INFO c']);
    expect(tail.kind).toBe('log');
    expect(cluster.reads.filter((read) => read.startsWith('logs'))).toHaveLength(2);
  });

  it('events for one object, newest first', async () => {
    const { run } = setup();
    const output = await run('events_for', { kind: 'Pod', name: POD });
    expect(output.value).toEqual({ events: [expect.objectContaining({ reason: 'BackOff', count: 9 })] });
  });

  it('revision history of a Deployment', async () => {
    const { run } = setup();
    const output = await run('revision_history', { kind: 'Deployment', name: DEPLOYMENT });
    const value = output.value as { revisions: Array<{ revision: number; images: string[] }> };
    expect(value.revisions.map((revision) => revision.revision)).toEqual([4, 3]);
    expect(value.revisions[1]!.images).toEqual(['checkout=registry.example.com/shop/checkout:3.3.9']);
  });

  it('node, claim, service, autoscaler and quota lookups', async () => {
    const { run } = setup();
    expect((await run('node_status', { name: 'worker-2' })).value).toMatchObject({
      conditions: [{ type: 'DiskPressure', status: 'True' }],
    });
    expect((await run('pvc_status', { name: 'data' })).value).toMatchObject({
      claim: { status: { phase: 'Pending' } },
      storageClass: 'fast-ssd not found',
    });
    expect((await run('service_endpoints', { name: 'checkout' })).value).toMatchObject({
      endpointSlices: [{ endpoints: [{ conditions: { ready: false } }] }],
      matchingPods: [{ name: POD, ready: '0/1', restarts: 7 }],
    });
    expect((await run('hpa_status', { name: 'checkout' })).value).toMatchObject({
      status: { desiredReplicas: 9 },
    });
    expect((await run('quotas', {})).value).toMatchObject({
      resourceQuotas: [{ name: 'compute', used: { 'limits.memory': '4Gi' } }],
    });
  });

  it('refuses other namespaces, foreign Namespace objects, bad input; Secrets show keys only', async () => {
    const { run, cluster } = setup();
    await expect(
      run('get_object', { kind: 'Deployment', name: 'coredns', namespace: 'kube-system' }),
    ).rejects.toThrow(ToolRefusal);
    await expect(run('get_object', { kind: 'Namespace', name: 'kube-system' })).rejects.toThrow(
      /only the incident's namespace/,
    );
    await expect(run('get_object', { kind: 'ClusterRole', name: 'admin' })).rejects.toThrow(/invalid input/);
    await expect(run('pod_logs', { pod: POD, tailLines: 100_000 })).rejects.toThrow(/invalid input/);
    const secret = await run('get_object', { kind: 'Secret', name: 'checkout-db' });
    expect(secret.value).toMatchObject({ keys: ['password'], note: 'values are never read by kubemend' });
    expect(JSON.stringify(secret.value)).not.toContain('aHVudGVy');
    expect(cluster.reads.some((read) => read.includes('kube-system'))).toBe(false);
    expect(cluster.writes).toEqual([]);
  });

  it('without a known namespace only cluster-scoped reads work', async () => {
    const cluster = fakeClusterGateway(extra);
    const context: ToolContext = { cluster: readOnlyView(cluster), namespace: undefined };
    const tool = (name: string) => INVESTIGATION_TOOLS.find((entry) => entry.name === name)!;
    await expect(tool('list_pods').run({}, context)).rejects.toThrow(/namespace is unknown/);
    await expect(tool('node_status').run({ name: 'worker-2' }, context)).resolves.toMatchObject({
      kind: 'condition',
    });
  });
});
