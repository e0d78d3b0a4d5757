/**
 * How the target is chosen, on an in-memory cluster: the request's target, its context, the words
 * of the issue (only names that exist), a scan of the namespace the words name, or an honest
 * "name it" — and the same through RemediationService, as HTTP and MCP callers reach it.
 */
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies, selectPolicy } from '../../src/config/policies.js';
import { NEEDS_TARGET, resolveTarget } from '../../src/scan/resolve-target.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { World } from './world.js';

const policies = loadPolicies(undefined);
const policy = selectPolicy(policies, undefined).policy;

function cluster(): InMemoryClusterGateway {
  const world = new World()
    .node('node-a')
    .deployment('shop', 'checkout', 'crashloop')
    .service('shop', 'checkout', { app: 'checkout' }, 0)
    .deployment('shop', 'web', 'running')
    .deployment('shop', 'cart', 'oom', { container: { memory: '128Mi' } })
    .deployment('payments', 'ledger', 'running')
    .deployment('staging', 'web', 'running');
  const gateway = new InMemoryClusterGateway();
  gateway.rollouts.set('checkout', 'unhealthy');
  gateway.rollouts.set('cart', 'unhealthy');
  for (const object of world.objects) gateway.put(object);
  for (const name of ['default', 'kube-system', 'shop', 'payments', 'staging'])
    gateway.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return gateway;
}

const resolve = (gateway: InMemoryClusterGateway, issue: string, extra: Record<string, unknown> = {}) =>
  resolveTarget(gateway, { issue, ...extra }, { policy, scan: { settleMs: 0 } });

describe('resolveTarget', () => {
  it('takes the request’s target as given, without reading the cluster', async () => {
    const gateway = cluster();
    const resolution = await resolve(gateway, 'broken', {
      target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
    });
    expect(resolution).toMatchObject({ outcome: 'target', choice: { chosenBy: 'input', name: 'web' } });
    expect(gateway.reads).toEqual([]);
  });

  it('takes the object of the event in the context', async () => {
    const resolution = await resolve(cluster(), 'broken', {
      context: {
        event: { involvedObject: { kind: 'Pod', namespace: 'shop', name: 'checkout-1' }, reason: 'BackOff' },
      },
    });
    expect(resolution.choice).toMatchObject({
      chosenBy: 'context',
      kind: 'Pod',
      name: 'checkout-1',
      note: 'the object of context.event',
    });
  });

  it('finds a namespace and an object named in plain words', async () => {
    const resolution = await resolve(
      cluster(),
      'the checkout service in the shop namespace is down, can you fix it?',
    );
    expect(resolution).toMatchObject({
      outcome: 'target',
      target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
      choice: { chosenBy: 'words', candidates: ['Service/shop/checkout'] },
    });
    expect(resolution.choice.note).toMatch(/"checkout".*namespace "shop"/);
  });

  it('finds an object that exists in one namespace only, and says no namespace was named', async () => {
    const resolution = await resolve(cluster(), 'ledger is slow');
    expect(resolution).toMatchObject({ target: { namespace: 'payments', name: 'ledger' } });
    expect(resolution.choice.note).toMatch(/no namespace was named/);
  });

  it('asks for the namespace when the name exists in several', async () => {
    const resolution = await resolve(cluster(), 'web is down');
    expect(resolution).toMatchObject({
      outcome: 'unresolved',
      choice: { chosenBy: 'unresolved', candidates: ['Deployment/shop/web', 'Deployment/staging/web'] },
    });
  });

  it('scans a namespace named without an object, and analyses its most relevant failure', async () => {
    const resolution = await resolve(cluster(), 'something in shop is broken, users get errors');
    expect(resolution).toMatchObject({ outcome: 'target', choice: { chosenBy: 'scan' } });
    expect(resolution.choice.candidates).toHaveLength(1);
    expect(resolution.choice.note).toMatch(/found 2 failing object\(s\)/);
  });

  it('says a named namespace is healthy when its scan finds nothing', async () => {
    const resolution = await resolve(cluster(), 'payments namespace is broken');
    expect(resolution).toMatchObject({ outcome: 'healthy-namespace', namespace: 'payments' });
  });

  it('says what it needs when nothing of the cluster is named', async () => {
    const resolution = await resolve(cluster(), 'the website is down, please help');
    expect(resolution.outcome).toBe('unresolved');
    expect(resolution.choice.note).toContain(NEEDS_TARGET);
  });
});

describe('remediate() with words only', () => {
  const service = (gateway: InMemoryClusterGateway) =>
    new RemediationService({
      configuration: loadConfiguration({ env: {} }),
      policies,
      cluster: gateway,
      scan: { settleMs: 0 },
    });

  it('analyses the object the words name and says how it chose it', async () => {
    const output = await service(cluster()).remediate({
      issue: 'cart in the shop namespace keeps restarting',
    });
    expect(output.analysis.category).toBe('oom-killed');
    expect(output.analysis.target).toMatchObject({ chosenBy: 'words', kind: 'Deployment', name: 'cart' });
    expect(output.status).toBe('pending');
  });

  it('answers failed, not unknown with a confidence, when nothing resolves', async () => {
    const output = await service(cluster()).remediate({ issue: 'the website is down' });
    expect(output.status).toBe('failed');
    expect(output.analysis).toMatchObject({
      category: 'unknown',
      confidence: 0,
      target: { chosenBy: 'unresolved' },
    });
    expect(output.analysis.rootCause).toContain('Name the namespace and the object');
    expect(output.remediation.actions).toEqual([]);
  });

  it('answers healthy for a named namespace where nothing fails', async () => {
    const output = await service(cluster()).remediate({ issue: 'is anything wrong in payments namespace?' });
    expect(output.status).toBe('success');
    expect(output.analysis).toMatchObject({
      category: 'healthy',
      target: { chosenBy: 'scan', namespace: 'payments' },
    });
  });
});
