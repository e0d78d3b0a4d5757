/**
 * Several clusters (`clusters:`), through the composition root production uses: a request names its
 * cluster and is served from that cluster's gateway with that cluster's policies; sessions and audit
 * records carry the name; a cluster that is down fails its own requests at once with
 * `cluster-unreachable`, and the other keeps working. Also the configuration's validation.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createApplication } from '../../src/app.js';
import { KubernetesApiError } from '../../src/cluster/errors.js';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { ClusterRegistry } from '../../src/cluster/registry.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { countEvent, createMetrics } from '../../src/interfaces/http/metrics.js';
import type { ServiceEvent } from '../../src/service/remediation-service.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment } from '../support/workloads.js';

class DownGateway extends InMemoryClusterGateway {
  calls = 0;
  down = false;
  override async version(): Promise<{ gitVersion: string }> {
    this.calls++;
    if (this.down) throw new KubernetesApiError(0, 'connect ECONNREFUSED 127.0.0.1:1');
    return super.version();
  }
  readonly gets: string[] = [];
  override async get(key: Parameters<InMemoryClusterGateway['get']>[0]) {
    this.gets.push(`${key.kind}/${key.name}`);
    return super.get(key);
  }
}

function configuration(extra: Record<string, unknown> = {}) {
  return loadConfiguration({
    env: {},
    flags: {
      storage: { driver: 'memory' },
      clusters: [
        { name: 'east', context: 'ctx-east' },
        {
          name: 'west',
          context: 'ctx-west',
          policies: { strict: { mode: 'manual', allowedActions: ['scale'] } },
        },
      ],
      ...extra,
    } as never,
  });
}

async function twoClusters(extra: Record<string, unknown> = {}, both: string[] = []) {
  const east = new DownGateway([deployment('cart', 'shop'), ...both.map((name) => deployment(name, 'shop'))]);
  const west = new DownGateway([deployment('pay', 'shop'), ...both.map((name) => deployment(name, 'shop'))]);
  const opened: string[] = [];
  const app = await createApplication(configuration(extra), {
    openCluster: async (entry) => {
      opened.push(entry.name);
      return (entry.name === 'east' ? east : west) as ClusterGateway;
    },
  });
  return { app, east, west, opened };
}

/** Both clusters on the default policy (where the OOM fix is proposed and waits for approval). */
const PLAIN_CLUSTERS = [
  { name: 'east', context: 'ctx-east' },
  { name: 'west', context: 'ctx-west' },
];

describe('several clusters', () => {
  it('serves each request from the cluster it names, stamping sessions and audit records', async () => {
    const { app, east, west } = await twoClusters();
    const first = await app.service.remediate({
      issue: 'deployment cart is crashing',
      target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
    });
    const second = await app.service.remediate({
      issue: 'deployment pay is crashing',
      target: { kind: 'Deployment', namespace: 'shop', name: 'pay' },
      cluster: 'ctx-west', // a context names its cluster too
    });
    expect((await app.sessions.get(first.sessionId))?.cluster).toBe('east');
    expect((await app.sessions.get(second.sessionId))?.cluster).toBe('west');
    expect(east.gets).toContain('Deployment/cart');
    expect(east.gets).not.toContain('Deployment/pay');
    expect(west.gets).toContain('Deployment/pay');
    expect(west.gets).not.toContain('Deployment/cart');
    const created = await app.audit.list({ sessionId: second.sessionId });
    expect(created.every((entry) => entry.detail?.cluster === 'west')).toBe(true);
    // Each cluster its own policies: `strict` exists only in west's.
    await expect(
      app.service.remediate({ issue: 'pay', policy: 'strict', cluster: 'west' }),
    ).resolves.toBeDefined();
    await expect(app.service.remediate({ issue: 'cart', policy: 'strict', cluster: 'east' })).rejects.toThrow(
      /strict/,
    );
    await expect(app.service.remediate({ issue: 'x', cluster: 'north' })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('configured: east, west'),
    });
  });

  it('stamps the service events, and so the metrics, with the cluster of the work', async () => {
    const { app } = await twoClusters({ clusters: PLAIN_CLUSTERS });
    const events: ServiceEvent[] = [];
    const metrics = createMetrics();
    app.service.onEvent((event) => {
      events.push(event);
      countEvent(metrics, event);
    });
    const oom = JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')) as Record<string, unknown>;
    const east = await app.service.remediate({ ...oom, mode: 'manual' } as never);
    const west = await app.service.remediate({ ...oom, mode: 'manual', cluster: 'west' } as never);
    expect([east.status, west.status]).toEqual(['pending', 'pending']);
    expect(events).toEqual([
      expect.objectContaining({ type: 'remediation', outcome: 'pending', cluster: 'east' }),
      expect.objectContaining({ type: 'remediation', outcome: 'pending', cluster: 'west' }),
    ]);
    const text = await metrics.registry.metrics();
    for (const cluster of ['east', 'west'])
      expect(text).toContain(
        `kubemend_remediations_total{cluster="${cluster}",category="oom-killed",outcome="pending"} 1`,
      );
  });

  it('the shadow observer reads each session from its own cluster', async () => {
    const { app, east, west } = await twoClusters({ clusters: PLAIN_CLUSTERS }, ['checkout-api']);
    const oom = JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')) as Record<string, unknown>;
    const output = await app.service.remediate({ ...oom, mode: 'shadow', cluster: 'west' } as never);
    expect((await app.sessions.get(output.sessionId))?.state).toBe('observing');
    east.gets.length = 0;
    west.gets.length = 0;
    expect(await app.service.observeShadow()).toBe(0); // nobody changed it, the window is open
    expect(west.gets).toContain('Deployment/checkout-api');
    expect(east.gets).not.toContain('Deployment/checkout-api');
  });

  it('a cluster that is down fails only its own requests, at once after the breaker opens', async () => {
    const { app, east, west } = await twoClusters();
    west.down = true;
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(app.service.remediate({ issue: 'pay is down', cluster: 'west' })).rejects.toBeInstanceOf(
        KubernetesApiError,
      );
    const callsWhenOpen = west.calls;
    const started = Date.now();
    await expect(app.service.remediate({ issue: 'pay is down', cluster: 'west' })).rejects.toMatchObject({
      message: expect.stringMatching(/cluster "west" .* is unreachable/),
    });
    expect(Date.now() - started).toBeLessThan(200);
    expect(west.calls).toBe(callsWhenOpen); // the open breaker did not even try
    const output = await app.service.remediate({
      issue: 'deployment cart is crashing',
      target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      cluster: 'east',
    });
    expect(output.sessionId).toBeTruthy();
    expect(east.calls).toBeGreaterThan(0);
  });

  it('connects lazily, picks the current context as default, and validates the configuration', async () => {
    const { app, opened } = await twoClusters();
    expect(opened).toEqual(['east']); // the default's gateway is built for authentication; no request
    const registry = new ClusterRegistry(
      [
        { name: 'a', context: 'x' },
        { name: 'b', context: 'y' },
      ],
      {
        currentContext: () => 'y',
      },
    );
    expect(registry.defaultName).toBe('b');
    expect(app.clusters?.names).toEqual(['east', 'west']);
    expect(() => configuration({ clusters: [{ name: 'a' }, { name: 'a' }] })).toThrow(
      /clusters\[1\]\.name.*"a" names two clusters/,
    );
    expect(() => configuration({ clusters: [{ name: 'a', contxt: 'x' }] })).toThrow(/clusters\[0\]\.contxt/);
    expect(() => configuration({ watch: { clusters: ['north'] } })).toThrow(/watch\.clusters\[0\].*north/);
  });
});
