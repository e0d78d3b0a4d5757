/**
 * Shadow mode on the real control plane (ADR 0035), under kubemend's least-privilege identity and
 * a real SQLite store: an OOM-killed Deployment remediated in shadow changes nothing (generation
 * and spec identical), the session records the server-side dry-run's object; then, after a
 * restart of kubemend (a new service on the same database file), the observer reports what a
 * person did — `matched` when the test raises the memory limit as proposed, `contradicted` when it
 * changes the image instead, `still-broken` when nothing happens before the window ends (the
 * background observer settles that one by itself).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import type { PolicySet } from '../../src/config/policies.js';
import { builtInPolicies, PolicySchema } from '../../src/planning/policy.js';
import { RemediationService, type ServiceEvent } from '../../src/service/remediation-service.js';
import { openStorage, type Storage } from '../../src/sessions/factory.js';
import {
  createOomKilled,
  kubectl,
  KUBEMEND_KUBECONFIG,
  loadKubeconfig,
  memoryLimitOf,
  requireCluster,
  runClusterScript,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';
import { temporaryDirectory } from '../storage/support.js';

const namespace = uniqueName('shadow');
const directory = temporaryDirectory('kubemend-shadow-');
const path = join(directory, 'kubemend.db');
let gateway: KubeClusterGateway;
const opened: Storage[] = [];

/** The built-in policies plus `trial`, a policy that forces shadow whatever the request asks. */
const policies: PolicySet = {
  policies: { ...builtInPolicies(), trial: PolicySchema.parse({ mode: 'shadow' }) },
  defaultName: 'default',
  source: 'test',
};

/** A kubemend process: its own service on the shared database file. */
async function start(window = '10m', events: ServiceEvent[] = []): Promise<RemediationService> {
  const storage = await openStorage({ driver: 'sqlite', path });
  opened.push(storage);
  const service = new RemediationService({
    configuration: loadConfiguration({ env: { KUBEMEND_SHADOW_WINDOW: window } }),
    policies,
    cluster: gateway,
    sessions: storage.sessions,
    actor: 'test',
    engine: { pollIntervalMs: 250, stabilityMs: 2_000 },
  });
  service.onEvent((event) => events.push(event));
  return service;
}

const deployment = (name: string) =>
  JSON.parse(kubectl(['get', 'deployment', name, '-n', namespace, '-o', 'json'])) as {
    metadata: { generation: number };
    spec: unknown;
  };

/** Remediates `name` in shadow (by request mode, or by the policy forcing it) and checks nothing changed. */
async function shadowRun(service: RemediationService, name: string, byPolicy = false) {
  await createOomKilled(name, namespace);
  const before = deployment(name);
  const output = await service.remediate({
    issue: `${name} keeps restarting`,
    target: { kind: 'Deployment', namespace, name },
    ...(byPolicy ? { mode: 'automatic' as const, policy: 'trial' } : { mode: 'shadow' as const }),
  });
  const after = deployment(name);
  expect(after.metadata.generation).toBe(before.metadata.generation);
  expect(after.spec).toEqual(before.spec);
  expect(output.executed).toBe(false);
  expect(output.analysis.category).toBe('oom-killed');
  expect(output.results?.[0]).toMatchObject({ status: 'dry-run' });
  const session = await service.session(output.sessionId);
  expect(session?.state).toBe('observing');
  const action = session?.shadow?.actions[0];
  expect(action).toMatchObject({ type: 'patch', dryRun: 'passed', name });
  const limit = (object: unknown) =>
    (
      object as {
        spec: { template: { spec: { containers: Array<{ resources: { limits: { memory: string } } }> } } };
      }
    ).spec.template.spec.containers[0]?.resources.limits.memory;
  // The dry-run diff: the object before, and as the API server said it would be.
  expect(limit(action?.before)).toBe('128Mi');
  expect(limit(action?.after)).not.toBe('128Mi');
  return output.sessionId;
}

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
  gateway = new KubeClusterGateway(loadKubeconfig(KUBEMEND_KUBECONFIG));
});

afterAll(async () => {
  for (const storage of opened) await storage.close().catch(() => undefined);
  rmSync(directory, { recursive: true, force: true });
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
});

describe('shadow mode on a live cluster', () => {
  it('a person raises the memory limit as proposed: matched (after a restart of kubemend)', async () => {
    const first = await start();
    const id = await shadowRun(first, 'matched');
    expect(await first.observeShadow()).toBe(0); // nobody changed it yet, the window is open
    kubectl([
      'set',
      'resources',
      'deployment/matched',
      '-n',
      namespace,
      '-c',
      'api',
      '--limits=memory=384Mi',
    ]);
    expect(memoryLimitOf(namespace, 'matched')).toBe('384Mi');
    // A new process on the same database continues the window from the store.
    const events: ServiceEvent[] = [];
    const restarted = await start('10m', events);
    expect(await restarted.observeShadow()).toBe(1);
    const session = await restarted.session(id);
    expect(session?.state).toBe('observed');
    expect(session?.shadow?.outcome).toBe('matched');
    expect(session?.shadow?.actions[0]?.changedBy).toContain('kubectl-set');
    expect(session?.shadow?.actions[0]?.fields?.[0]).toMatchObject({
      path: 'spec.template.spec.containers.0.resources.limits.memory',
      before: '128Mi',
      observed: '384Mi',
    });
    // The outcome history (docs/learning.md) has the person's agreement, written with the state.
    const history = await restarted.sessionStore.outcomes({
      category: 'oom-killed',
      since: '2000-01-01T00:00:00Z',
    });
    expect(history).toContainEqual(
      expect.objectContaining({ sessionId: id, outcome: 'matched', actionType: 'patch' }),
    );
    expect(events).toContainEqual({
      type: 'shadow',
      category: 'oom-killed',
      actionType: 'patch',
      outcome: 'matched',
    });
  });

  it('a person changes the image instead (policy forcing shadow): contradicted', async () => {
    const service = await start();
    const id = await shadowRun(service, 'contradicted', true);
    kubectl(['set', 'image', 'deployment/contradicted', '-n', namespace, 'api=ghcr.io/acme/api:v1.5.0']);
    expect(await service.observeShadow()).toBe(1);
    const session = await service.session(id);
    expect(session?.shadow?.outcome).toBe('contradicted');
    expect(session?.shadow?.detail).toMatch(/containers\.0\.image/);
  });

  it('nobody does anything: still-broken when the window ends (background observer)', async () => {
    const service = await start('3s');
    const id = await shadowRun(service, 'untouched');
    const work = await service.startBackgroundWork({
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      shadowIntervalMs: 500,
    });
    try {
      const session = await waitFor(
        'the shadow window to end',
        async () => {
          const current = await service.session(id);
          return current?.state === 'observed' ? current : undefined;
        },
        30_000,
      );
      expect(session.shadow?.outcome).toBe('still-broken');
      expect(session.shadow?.detail).toMatch(/unhealthy/);
    } finally {
      await work.stop();
    }
  });
});
