/**
 * The execution engine against the real control plane and simulated kubelet, under kubemend's
 * least-privilege ServiceAccount: dry-run changes nothing, writes carry resourceVersion
 * preconditions, a 409 is re-read and re-planned once (never a blind overwrite), a fix that does not
 * work is restored to a byte-identical spec, a connection killed mid-apply ends in a safe recorded
 * state, and per-target locks let exactly one of two concurrent remediations act.
 */
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import type { ClusterGateway, ObjectKey } from '../../src/cluster/gateway.js';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { type RemediationAction, canonicalJson } from '../../src/domain/index.js';
import { ExecutionEngine } from '../../src/execution/engine.js';
import { TargetLocks } from '../../src/execution/locks.js';
import {
  KUBEMEND_KUBECONFIG,
  kubectl,
  loadKubeconfig,
  requireCluster,
  runClusterScript,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';

const namespace = uniqueName('engine');
let gateway: KubeClusterGateway;
let kubemendConfig: KubeConfig;

function deployment(name: string, image: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image, resources: { limits: { memory: '256Mi' } }, ...extra }] },
      },
    },
  });
}

function patchAction(id: string, name: string, patch: Record<string, unknown>): RemediationAction {
  return {
    id,
    type: 'patch',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
    params: { patchType: 'strategic', patch },
    description: 'test patch',
    command: '',
    risk: 'medium',
    rationale: '',
    verification: '',
  };
}

const envPatch = (value: string) => ({
  spec: { template: { spec: { containers: [{ name: 'main', env: [{ name: 'TEST_MARKER', value }] }] } } },
});

async function createReady(name: string, image = 'ghcr.io/acme/web:v2.0.0'): Promise<void> {
  kubectl(['apply', '-f', '-'], { input: deployment(name, image) });
  await waitFor(
    `${name} available`,
    async () => {
      const object = await gateway.get({ kind: 'Deployment', namespace, name });
      return (object?.status as { availableReplicas?: number } | undefined)?.availableReplicas === 1
        ? true
        : undefined;
    },
    60_000,
  );
}

function engine(
  options: { gateway?: ClusterGateway; audit?: InMemoryAuditRecorder; locks?: TargetLocks } = {},
) {
  return new ExecutionEngine({
    gateway: options.gateway ?? gateway,
    audit: options.audit ?? new InMemoryAuditRecorder(),
    locks: options.locks,
    pollIntervalMs: 250,
    stabilityMs: 2_000,
  });
}

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
  kubemendConfig = loadKubeconfig(KUBEMEND_KUBECONFIG);
  gateway = new KubeClusterGateway(kubemendConfig);
});

afterAll(() => {
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
});

describe('execution engine on the real API server', () => {
  it('runs as the least-privilege identity, not as admin', async () => {
    expect(await gateway.canI('patch', 'Deployment', namespace)).toBe(true);
    expect(await gateway.canI('get', 'Secret', namespace)).toBe(false);
    expect(await gateway.canI('patch', 'Deployment', 'kube-system')).toBe(false);
  });

  it('dry-run passes every server step and changes nothing', async () => {
    await createReady('dry');
    const before = await gateway.get({ kind: 'Deployment', namespace, name: 'dry' });
    const audit = new InMemoryAuditRecorder();
    const outcome = await engine({ audit }).run({
      sessionId: 's-dry',
      actions: [patchAction('a1', 'dry', envPatch('x'))],
      dryRun: true,
      verifyTimeoutMs: 30_000,
    });
    expect(outcome.outcome).toBe('dry-run');
    expect(outcome.results[0]).toMatchObject({ status: 'dry-run' });
    expect(outcome.changedCluster).toBe(false);
    const after = await gateway.get({ kind: 'Deployment', namespace, name: 'dry' });
    // Nothing stored (resourceVersion is not compared: controllers write status at any moment).
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(after?.spec).toEqual(before?.spec);
    expect(audit.records.map((r) => r.type)).toEqual(['action.snapshotted', 'action.dry-run']);
  });

  it('a dry-run that the server rejects stops before any change', async () => {
    await createReady('invalid');
    const before = await gateway.get({ kind: 'Deployment', namespace, name: 'invalid' });
    const outcome = await engine().run({
      sessionId: 's-invalid',
      actions: [patchAction('a1', 'invalid', { spec: { replicas: -3 } })],
      verifyTimeoutMs: 10_000,
    });
    expect(outcome.results[0]?.status).toBe('failed');
    expect(outcome.results[0]?.message).toMatch(/dry-run rejected/);
    expect(
      (await gateway.get({ kind: 'Deployment', namespace, name: 'invalid' }))?.metadata?.resourceVersion,
    ).toBe(before?.metadata?.resourceVersion);
  });

  it('applies, verifies the workload healthy, and audits every step with digests', async () => {
    await createReady('good');
    const audit = new InMemoryAuditRecorder();
    const outcome = await engine({ audit }).run({
      sessionId: 's-good',
      actions: [patchAction('a1', 'good', envPatch('1'))],
      verifyTimeoutMs: 60_000,
    });
    expect(outcome.results[0]?.status, outcome.results[0]?.message).toBe('verified');
    expect(audit.records.map((r) => r.type)).toEqual([
      'action.snapshotted',
      'action.dry-run',
      'action.applied',
      'action.verified',
    ]);
    const applied = audit.records.find((r) => r.type === 'action.applied');
    expect(applied?.before).toMatch(/^[0-9a-f]{64}$/);
    expect(applied?.after).not.toBe(applied?.before);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('on 409 re-reads and re-plans once, keeping the concurrent change', async () => {
    await createReady('conflict');
    let interfered = false;
    const interfering: ClusterGateway = Object.create(gateway) as ClusterGateway;
    interfering.patch = async (key: ObjectKey, kind, patch, options) => {
      if (!options?.dryRun && !interfered) {
        interfered = true;
        kubectl(['annotate', 'deployment', 'conflict', '-n', namespace, 'someone=else']);
      }
      return gateway.patch(key, kind, patch, options);
    };
    const audit = new InMemoryAuditRecorder();
    const outcome = await engine({ gateway: interfering, audit }).run({
      sessionId: 's-409',
      actions: [patchAction('a1', 'conflict', envPatch('2'))],
      verifyTimeoutMs: 60_000,
    });
    expect(outcome.results[0]?.status, outcome.results[0]?.message).toBe('verified');
    expect(audit.records.map((r) => r.type)).toContain('action.conflicted');
    const after = await gateway.get({ kind: 'Deployment', namespace, name: 'conflict' });
    expect(after?.metadata?.annotations?.someone).toBe('else');
  });

  it('gives up after a second 409 without overwriting', async () => {
    await createReady('contended');
    let counter = 0;
    const interfering: ClusterGateway = Object.create(gateway) as ClusterGateway;
    interfering.patch = async (key: ObjectKey, kind, patch, options) => {
      if (!options?.dryRun)
        kubectl(['annotate', '--overwrite', 'deployment', 'contended', '-n', namespace, `race=${++counter}`]);
      return gateway.patch(key, kind, patch, options);
    };
    const outcome = await engine({ gateway: interfering }).run({
      sessionId: 's-409x2',
      actions: [patchAction('a1', 'contended', envPatch('3'))],
      verifyTimeoutMs: 10_000,
    });
    expect(outcome.results[0]?.status).toBe('failed');
    expect(outcome.results[0]?.message).toMatch(/409 twice/);
    const after = await gateway.get({ kind: 'Deployment', namespace, name: 'contended' });
    const containers = (after?.spec as { template: { spec: { containers: Array<{ env?: unknown[] }> } } })
      .template.spec.containers;
    expect(containers[0]?.env).toBeUndefined();
  });

  it('restores the snapshot byte-identically when the fix does not work', async () => {
    // The worker crashes for lack of QUEUE_URL; raising its memory cannot fix that.
    kubectl(['apply', '-f', '-'], { input: deployment('nofix', 'ghcr.io/acme/worker:v3.2.0') });
    await waitFor(
      'nofix crash-looping',
      async () =>
        /CrashLoopBackOff/.test(kubectl(['get', 'pods', '-n', namespace, '-l', 'app=nofix']))
          ? true
          : undefined,
      60_000,
    );
    const snapshot = await gateway.get({ kind: 'Deployment', namespace, name: 'nofix' });
    const audit = new InMemoryAuditRecorder();
    const memory = {
      spec: {
        template: { spec: { containers: [{ name: 'main', resources: { limits: { memory: '512Mi' } } }] } },
      },
    };
    const outcome = await engine({ audit }).run({
      sessionId: 's-nofix',
      actions: [patchAction('a1', 'nofix', memory)],
      verifyTimeoutMs: 20_000,
    });
    expect(outcome.outcome).toBe('rolled-back');
    expect(outcome.results[0]?.status, outcome.results[0]?.message).toBe('rolled-back');
    const restored = await gateway.get({ kind: 'Deployment', namespace, name: 'nofix' });
    expect(canonicalJson(restored?.spec)).toBe(canonicalJson(snapshot?.spec));
    expect(outcome.results[0]?.before).toMatchObject({ spec: snapshot?.spec });
    expect(audit.records.map((r) => r.type)).toEqual([
      'action.snapshotted',
      'action.dry-run',
      'action.applied',
      'action.verification-failed',
      'action.rolled-back',
    ]);
  });

  it('ends in a safe, recorded state when the API server connection dies mid-apply', async () => {
    await createReady('cut');
    const upstream = new URL(kubemendConfig.getCurrentCluster()!.server);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const server = net.connect(Number(upstream.port), upstream.hostname);
      sockets.add(client).add(server);
      client.pipe(server).pipe(client);
      const close = () => {
        client.destroy();
        server.destroy();
      };
      client.on('error', close).on('close', close);
      server.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      clusters: kubemendConfig.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
      users: kubemendConfig.users,
      contexts: kubemendConfig.contexts,
      currentContext: kubemendConfig.currentContext,
    });
    const through = new KubeClusterGateway(proxied, { timeoutMs: 3_000 });
    const cutting: ClusterGateway = Object.create(through) as ClusterGateway;
    cutting.patch = async (key: ObjectKey, kind, patch, options) => {
      const pending = through.patch(key, kind, patch, options);
      if (!options?.dryRun) {
        proxy.close();
        for (const socket of sockets) socket.destroy();
      }
      return pending;
    };
    const audit = new InMemoryAuditRecorder();
    const outcome = await new ExecutionEngine({
      gateway: cutting,
      audit,
      pollIntervalMs: 100,
      stabilityMs: 500,
      sleep: () => Promise.resolve(),
    }).run({
      sessionId: 's-cut',
      actions: [patchAction('a1', 'cut', envPatch('4'))],
      verifyTimeoutMs: 5_000,
    });
    const result = outcome.results[0]!;
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(/unreachable|unknown|restor/i);
    expect(result.before).toBeDefined();
    const types = audit.records.map((r) => r.type);
    expect(types.slice(0, 2)).toEqual(['action.snapshotted', 'action.dry-run']);
    expect(types).toContain('action.outcome-unknown');
    expect((await audit.verify()).ok).toBe(true);
  });

  it('lets exactly one of two concurrent remediations of the same workload act', async () => {
    await createReady('shared');
    const locks = new TargetLocks();
    const [first, second] = await Promise.all([
      engine({ locks }).run({
        sessionId: 's-one',
        actions: [patchAction('a1', 'shared', envPatch('one'))],
        verifyTimeoutMs: 60_000,
      }),
      engine({ locks }).run({
        sessionId: 's-two',
        actions: [patchAction('a1', 'shared', envPatch('two'))],
        verifyTimeoutMs: 60_000,
      }),
    ]);
    const statuses = [first.results[0]?.status, second.results[0]?.status].sort();
    expect(statuses).toEqual(['skipped', 'verified']);
    expect([first, second].find((o) => o.results[0]?.status === 'skipped')?.results[0]?.message).toMatch(
      /another remediation/,
    );
  });
});
