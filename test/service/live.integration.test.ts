/**
 * The whole flow on the real control plane, through RemediationService as the interfaces call it,
 * under kubemend's least-privilege identity: gather live context → analyse → plan → execute what the
 * mode and policy allow → verify. Modes: manual and hybrid change nothing for a medium-risk fix;
 * automatic fixes and verifies; dryRun changes nothing; 20 remediations at once all verify.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import { snapshotView } from '../../src/execution/results.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import {
  createOomKilled,
  kubectl,
  KUBEMEND_KUBECONFIG,
  loadKubeconfig,
  memoryLimitOf,
  oomDeployment,
  requireCluster,
  runClusterScript,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';

const namespace = uniqueName('live');
let gateway: KubeClusterGateway;

function service(audit = new InMemoryAuditRecorder()) {
  return new RemediationService({
    configuration: loadConfiguration({ env: {} }),
    policies: loadPolicies(undefined),
    cluster: gateway,
    audit,
    actor: 'test',
    engine: { pollIntervalMs: 250, stabilityMs: 2_000 },
  });
}

const memoryLimit = (name: string) => memoryLimitOf(namespace, name);
const generation = (name: string) =>
  kubectl(['get', 'deployment', name, '-n', namespace, '-o', 'jsonpath={.metadata.generation}']);

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
  gateway = new KubeClusterGateway(loadKubeconfig(KUBEMEND_KUBECONFIG));
});

afterAll(() => {
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
});

describe('remediate() against a live cluster', () => {
  it('manual mode diagnoses from live context and changes nothing', async () => {
    await createOomKilled('manual', namespace);
    const before = generation('manual');
    const output = await service().remediate({
      issue: 'manual keeps restarting',
      target: { kind: 'Deployment', namespace, name: 'manual' },
    });
    expect(output.analysis.category).toBe('oom-killed');
    expect(output.analysis.evidenceDetail?.some((e) => e.origin === 'cluster')).toBe(true);
    expect(output.status).toBe('pending');
    expect(output.executed).toBe(false);
    expect(output.remediation.actions[0]).toMatchObject({
      type: 'patch',
      target: { kind: 'Deployment', name: 'manual' },
      decision: { decision: 'await-approval' },
    });
    expect(generation('manual')).toBe(before);
  });

  it('hybrid mode holds a medium-risk fix for approval', async () => {
    await createOomKilled('hybrid', namespace);
    const before = generation('hybrid');
    const output = await service().remediate({
      issue: 'hybrid restarts',
      target: { kind: 'Deployment', namespace, name: 'hybrid' },
      mode: 'hybrid',
    });
    expect(output.status).toBe('pending');
    expect(output.remediation.actions[0]?.decision?.decision).toBe('await-approval');
    expect(generation('hybrid')).toBe(before);
  });

  it('dryRun runs the server-side dry-run and changes nothing', async () => {
    await createOomKilled('dry', namespace);
    const before = generation('dry');
    const output = await service().remediate({
      issue: 'dry restarts',
      target: { kind: 'Deployment', namespace, name: 'dry' },
      mode: 'automatic',
      dryRun: true,
    });
    expect(output.results?.[0]?.status).toBe('dry-run');
    expect(output.executed).toBe(false);
    expect(generation('dry')).toBe(before);
  });

  it('automatic mode fixes an OOM kill and verifies it, auditing every step', async () => {
    await createOomKilled('auto', namespace);
    const audit = new InMemoryAuditRecorder();
    const output = await service(audit).remediate({
      issue: 'auto is down',
      target: { kind: 'Deployment', namespace, name: 'auto' },
      mode: 'automatic',
    });
    expect(output.status, JSON.stringify(output.results)).toBe('success');
    expect(output.executed).toBe(true);
    expect(output.results?.[0]?.status).toBe('verified');
    expect(memoryLimit('auto')).not.toBe('128Mi');
    expect(audit.records.map((r) => r.type)).toEqual([
      'session.created',
      'analysis.completed',
      'action.proposed',
      'action.snapshotted',
      'action.dry-run',
      'action.applied',
      'action.verified',
      'session.completed',
    ]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('never touches kube-system, which the least-privilege identity cannot even read', async () => {
    const output = await service().remediate({
      issue: 'coredns restarting',
      target: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' },
      mode: 'automatic',
    });
    expect(output.executed).toBe(false);
    expect(output.remediation.actions.every((a) => a.type === 'manual')).toBe(true);
    expect(output.notices?.join(' ')).toMatch(/partial/);
  });

  it('verifies 20 simultaneous remediations of different workloads', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `fleet-${i}`);
    for (const name of names) kubectl(['apply', '-f', '-'], { input: oomDeployment(name, namespace) });
    await waitFor(
      '20 OOM kills',
      async () => {
        const listing = kubectl(['get', 'pods', '-n', namespace, '-l', 'app', '-o', 'wide']);
        return names.every((name) =>
          new RegExp(`${name}-\\S+\\s+0/1\\s+(?:OOMKilled|CrashLoopBackOff)`).test(listing),
        )
          ? true
          : undefined;
      },
      120_000,
    );
    const shared = service();
    const started = Date.now();
    const outputs = await Promise.all(
      names.map((name) =>
        shared.remediate({
          issue: `${name} restarting`,
          target: { kind: 'Deployment', namespace, name },
          mode: 'automatic',
        }),
      ),
    );
    const statuses = outputs.map((o) => o.results?.[0]?.status);
    const why = outputs.map((o) => ({
      status: o.status,
      result: o.results?.[0]?.message,
      actions: o.remediation.actions.map((a) => `${a.type}: ${a.decision?.decision} (${a.decision?.reason})`),
      notices: o.notices,
    }));
    expect(statuses, JSON.stringify(why)).toEqual(names.map(() => 'verified'));
    console.log(`20 concurrent remediations verified in ${Date.now() - started} ms`);
  });
});

describe('reconciliation of a crash between the persisted dry-run and the recorded apply', () => {
  /**
   * A session as a process leaves it when it dies right after persisting the dry-run (the
   * snapshot is in `before`) and before it records the apply: the apply may or may not have
   * reached the API server.
   */
  async function interrupted(name: string) {
    await createOomKilled(name, namespace);
    const audit = new InMemoryAuditRecorder();
    const sessions = new InMemorySessionStore(undefined, audit);
    const dead = new RemediationService({
      configuration: loadConfiguration({ env: {} }),
      policies: loadPolicies(undefined),
      cluster: gateway,
      sessions,
      audit,
      actor: 'test',
    });
    const output = await dead.remediate({
      issue: `${name} restarts`,
      target: { kind: 'Deployment', namespace, name },
    });
    const action = output.remediation.actions[0]!;
    expect(action.type).toBe('patch');
    const session = (await sessions.list())[0]!;
    const live = (await gateway.get({ kind: 'Deployment', namespace, name }))!;
    await sessions.update(session.id, session.version, {
      state: 'executing',
      owner: 'a-process-that-died',
      results: [
        {
          actionId: action.id,
          status: 'dry-run',
          message: 'dry-run-passed',
          startedAt: new Date().toISOString(),
          finishedAt: new Date().toISOString(),
          before: snapshotView(live),
        },
      ],
    });
    const reconciler = new RemediationService({
      configuration: loadConfiguration({ env: {}, flags: { storage: { executionLease: '1ms' } } as never }),
      policies: loadPolicies(undefined),
      cluster: gateway,
      sessions,
      audit,
      actor: 'test',
      engine: { pollIntervalMs: 250, stabilityMs: 2_000 },
    });
    return { session, reconciler, sessions, audit, action };
  }

  it('the apply never landed: nothing is restored, the session fails with that said', async () => {
    const { session, reconciler, sessions } = await interrupted('never-applied');
    const before = generation('never-applied');
    await sleep(5);
    const report = await reconciler.reconcile();
    expect(report.sessions).toEqual([
      expect.objectContaining({
        id: session.id,
        state: 'failed',
        note: expect.stringMatching(/not applied/),
      }),
    ]);
    expect((await sessions.get(session.id))!.results[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/still matches the snapshot/),
    });
    expect(generation('never-applied')).toBe(before);
  });

  it('the apply landed but its answer was lost: kubemend wrote it, so it is restored', async () => {
    const { session, reconciler, sessions } = await interrupted('lost-answer');
    const snapshot = kubectl(['get', 'deployment', 'lost-answer', '-n', namespace, '-o', 'jsonpath={.spec}']);
    // The apply, made under kubemend's field manager, as the dead process made it.
    await gateway.patch({ kind: 'Deployment', namespace, name: 'lost-answer' }, 'strategic', {
      spec: {
        template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '256Mi' } } }] } },
      },
    });
    expect(memoryLimit('lost-answer')).toBe('256Mi');
    await sleep(5);
    const report = await reconciler.reconcile();
    expect(report.sessions[0]).toMatchObject({ id: session.id, state: 'rolled-back' });
    expect((await sessions.get(session.id))!.results[0]!.status).toBe('rolled-back');
    expect(kubectl(['get', 'deployment', 'lost-answer', '-n', namespace, '-o', 'jsonpath={.spec}'])).toBe(
      snapshot,
    );
  });

  it('someone else changed the object since: it is left as they made it', async () => {
    const { session, reconciler, sessions } = await interrupted('changed-by-other');
    kubectl([
      'patch',
      'deployment',
      'changed-by-other',
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"metadata":{"annotations":{"team/owner":"payments"}}}',
    ]);
    await sleep(5);
    const report = await reconciler.reconcile();
    expect(report.sessions[0]).toMatchObject({ id: session.id, state: 'failed' });
    expect((await sessions.get(session.id))!.results[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/changed by someone else/),
    });
    expect(
      kubectl([
        'get',
        'deployment',
        'changed-by-other',
        '-n',
        namespace,
        '-o',
        'jsonpath={.metadata.annotations.team/owner}',
      ]),
    ).toBe('payments');
  });

  it('the audit log recorded the apply: restored even though the session did not say so', async () => {
    const { session, reconciler, audit, action } = await interrupted('audited');
    const snapshot = kubectl(['get', 'deployment', 'audited', '-n', namespace, '-o', 'jsonpath={.spec}']);
    await gateway.patch({ kind: 'Deployment', namespace, name: 'audited' }, 'strategic', {
      spec: {
        template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '256Mi' } } }] } },
      },
    });
    await audit.record({ type: 'action.applied', actor: 'test', sessionId: session.id, actionId: action.id });
    await sleep(5);
    const report = await reconciler.reconcile();
    expect(report.sessions[0]).toMatchObject({ id: session.id, state: 'rolled-back' });
    expect(kubectl(['get', 'deployment', 'audited', '-n', namespace, '-o', 'jsonpath={.spec}'])).toBe(
      snapshot,
    );
  });
});
