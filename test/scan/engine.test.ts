/**
 * The scan engine against an in-memory cluster: one finding per failing owner with the rules'
 * category, nothing on healthy or still-starting objects, Services and claims explained by a failing
 * workload not reported twice, paginated LISTs whose number does not grow with the number of pods,
 * logs read only for containers that ran and failed, and a least-privilege identity handled.
 */
import { describe, expect, it } from 'vitest';
import { objectLabel } from '../../src/domain/index.js';
import { loadPolicies } from '../../src/config/policies.js';
import { selectPolicy } from '../../src/config/policies.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { NOW, World } from './world.js';
import { scanCluster, type ScanOptions } from '../../src/scan/engine.js';

const policy = selectPolicy(loadPolicies(undefined), undefined).policy;

function gatewayOf(world: World, unhealthy: readonly string[] = []): InMemoryClusterGateway {
  const gateway = new InMemoryClusterGateway();
  for (const name of unhealthy) gateway.rollouts.set(name, 'unhealthy');
  for (const object of world.objects) gateway.put(object);
  return gateway;
}

function scan(gateway: InMemoryClusterGateway, options: Partial<ScanOptions> = {}) {
  return scanCluster(gateway, { policy, now: () => NOW, ...options });
}

const labels = (report: Awaited<ReturnType<typeof scan>>) =>
  report.findings.map((finding) => `${objectLabel(finding.object)} ${finding.category}`);

describe('scanCluster', () => {
  it('reports one finding per failing Deployment, with the category of the rules, and none for healthy ones', async () => {
    const world = new World()
      .node('node-a')
      .deployment('shop', 'checkout', 'crashloop', { replicas: 3 })
      .deployment('shop', 'cart', 'oom', { container: { memory: '128Mi' } })
      .deployment('shop', 'web', 'running', { replicas: 3 })
      .deployment('shop', 'search', 'readiness-blip')
      .deployment('billing', 'invoices', 'image-pull', {
        container: { image: 'ghcr.io/acme/invoices:v9.9.9' },
      })
      .deployment('billing', 'ledger', 'running');
    const gateway = gatewayOf(world, ['checkout', 'cart', 'invoices']);
    gateway.podLogs.set(
      'shop/checkout-5d8f7c9b6-p0x/main/previous',
      'starting checkout\npanic: runtime error: invalid memory address or nil pointer dereference\n',
    );
    const report = await scan(gateway);
    expect(labels(report)).toEqual([
      'Deployment/billing/invoices image-pull-not-found',
      'Deployment/shop/cart oom-killed',
      'Deployment/shop/checkout crash-loop',
    ]);
    const checkout = report.findings.find((finding) => finding.object.name === 'checkout')!;
    expect(checkout.pods).toEqual({ total: 3, failing: 3 });
    expect(checkout.analyze).toBe('kubemend analyze deploy/checkout -n shop');
    const cart = report.findings.find((finding) => finding.object.name === 'cart')!;
    expect(cart.actions[0]).toMatchObject({ type: 'patch', target: { kind: 'Deployment', name: 'cart' } });
    expect(cart.risk).toBe('medium');
    expect(cart.cause).not.toMatch(/\n/);
    expect(report.checked).toMatchObject({ Pod: 14, Deployment: 6, Node: 1 });
    expect(report.partial).toBe(false);
  });

  it('does not judge pods that are still starting, and counts them', async () => {
    const world = new World().node('node-a').deployment('shop', 'fresh', 'starting');
    const report = await scan(gatewayOf(world));
    expect(report.findings).toEqual([]);
    expect(report.settling).toBe(1);
  });

  it('reads logs only for containers that ran and failed, never per pod per kind', async () => {
    const world = new World()
      .node('node-a')
      .deployment('shop', 'checkout', 'crashloop', { replicas: 4 })
      .deployment('shop', 'invoices', 'image-pull', { replicas: 4 });
    const gateway = gatewayOf(world);
    await scan(gateway);
    const logReads = gateway.reads.filter((read) => read.startsWith('logs '));
    // Two containers of the crash-looping Deployment (previous logs); none for image pulls.
    expect(logReads).toEqual([
      'logs shop/checkout-5d8f7c9b6-p0x/main/previous',
      'logs shop/checkout-5d8f7c9b6-p1x/main/previous',
    ]);
    expect(gateway.reads.filter((read) => read.startsWith('get '))).toEqual([]);
  });

  it('makes the same number of LIST calls for 10 pods as for 200 (O(kinds), not O(pods))', async () => {
    const calls = async (replicas: number) => {
      const world = new World().node('node-a');
      for (let index = 0; index < 10; index++)
        world.deployment(`ns-${index % 3}`, `app-${index}`, 'running', { replicas });
      const gateway = gatewayOf(world);
      const report = await scan(gateway, { pageSize: 500 });
      return { reads: gateway.reads.length, apiCalls: report.apiCalls };
    };
    const small = await calls(1);
    const large = await calls(20);
    expect(large).toEqual(small);
    expect(small.apiCalls).toBe(16); // one LIST per inventory kind across all namespaces
  });

  it('follows continue tokens page by page', async () => {
    const world = new World().node('node-a');
    for (let index = 0; index < 7; index++)
      world.deployment('shop', `app-${index}`, 'running', { replicas: 1 });
    const gateway = gatewayOf(world);
    const report = await scan(gateway, { pageSize: 3 });
    expect(report.checked.Pod).toBe(7);
    expect(gateway.reads.filter((read) => read === 'page Pod *')).toHaveLength(3);
  });

  it('reports a Service without endpoints on its own, but not when a failing workload explains it', async () => {
    const world = new World()
      .node('node-a')
      .deployment('shop', 'checkout', 'crashloop')
      .service('shop', 'checkout', { app: 'checkout' }, 0)
      .deployment('shop', 'payments', 'running')
      .service('shop', 'payments', { app: 'payment' }, 0)
      .deployment('shop', 'web', 'running')
      .service('shop', 'web', { app: 'web' }, 2);
    const report = await scan(gatewayOf(world, ['checkout']));
    expect(labels(report)).toEqual([
      expect.stringMatching(/^Deployment\/shop\/checkout /),
      'Service/shop/payments service-no-endpoints',
    ]);
    expect(report.findings[0]!.related).toEqual(['Service/shop/checkout']);
  });

  it('proposes the selector of the workload that resembles the Service, and none when that is a guess', async () => {
    const world = new World()
      .node('node-a')
      .deployment('shop', 'app-001', 'running')
      .deployment('shop', 'frontend', 'running', { labels: { app: 'shop-frontend' } })
      .deployment('shop', 'app-002', 'running')
      .service('shop', 'frontend', { app: 'frontend' }, 0)
      .service('shop', 'orphan', { app: 'zzz' }, 0);
    const report = await scan(gatewayOf(world));
    const [frontend, orphan] = report.findings;
    expect(frontend?.actions[0]).toMatchObject({
      type: 'patch',
      params: { patch: { spec: { selector: { app: 'shop-frontend' } } } },
    });
    expect(orphan?.object.name).toBe('orphan');
    expect(orphan?.actions.every((action) => action.type === 'manual')).toBe(true);
  });

  it('finds a failed Job, a pending claim without its class and a Node that is not ready', async () => {
    const world = new World()
      .node('node-a')
      .node('node-b', false)
      .failedJob('batch', 'nightly')
      .pendingClaim('data', 'scratch', 'fast-ssd');
    const report = await scan(gatewayOf(world));
    expect(labels(report)).toEqual([
      'Job/batch/nightly job-failed',
      'PersistentVolumeClaim/data/scratch volume-pending',
      'Node/node-b node-not-ready',
    ]);
  });

  it('with a label selector, narrows the workloads and leaves Nodes out', async () => {
    const world = new World()
      .node('node-b', false)
      .deployment('shop', 'checkout', 'crashloop', { labels: { team: 'payments' } })
      .deployment('shop', 'cart', 'crashloop', { labels: { team: 'basket' } });
    const report = await scan(gatewayOf(world), { labelSelector: 'team=payments' });
    expect(labels(report)).toEqual([expect.stringMatching(/^Deployment\/shop\/checkout /)]);
    expect(report.scope).toEqual({ allNamespaces: true, labelSelector: 'team=payments' });
  });

  it('falls back to one LIST per namespace when it may not list across the cluster, and says what it could not read', async () => {
    const world = new World()
      .node('node-a')
      .deployment('shop', 'checkout', 'crashloop')
      .deployment('billing', 'invoices', 'crashloop');
    const gateway = gatewayOf(world);
    for (const namespace of ['shop', 'billing', 'kube-system']) {
      gateway.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    }
    gateway.forbiddenLists.add('*');
    gateway.forbiddenLists.add('billing');
    const report = await scan(gateway);
    expect(labels(report)).toEqual([expect.stringMatching(/^Deployment\/shop\/checkout /)]);
    expect(report.partial).toBe(true);
    expect(report.notes).toContainEqual(
      expect.stringMatching(/^namespace billing: not permitted to list .*Pod/),
    );
  });

  it('scans only the namespaces named (and leaves Nodes, which are in none, out)', async () => {
    const world = new World()
      .node('node-a')
      .node('node-b', false)
      .deployment('shop', 'checkout', 'crashloop')
      .deployment('billing', 'invoices', 'crashloop');
    const gateway = gatewayOf(world);
    const report = await scan(gateway, { namespaces: ['billing'] });
    expect(labels(report)).toEqual([expect.stringMatching(/^Deployment\/billing\/invoices /)]);
    expect(gateway.reads).toContain('page Pod billing');
    expect(gateway.reads).not.toContain('page Pod *');
  });
});
