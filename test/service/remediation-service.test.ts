/**
 * The service's parts against an in-memory cluster and stores: approval executes through the engine
 * and the session ends in the state the outcome gives; a target locked by another remediation keeps
 * the session pending (a typed field, not a message); reconciliation restores only what the typed
 * record says may be in the cluster; a failed background start is logged, audited and ends the
 * session failed; background work reconciles at start-up and periodically and purges old sessions.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import type { ExecutionResult, RemediateOutput, RemediationAction } from '../../src/domain/index.js';
import { TargetLocks } from '../../src/execution/locks.js';
import { snapshotView } from '../../src/execution/results.js';
import {
  planHashOf,
  RemediationService,
  type ServiceDependencies,
  type ServiceLogger,
} from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import type { SessionRecord } from '../../src/sessions/store.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment, memoryPatch, NAMESPACE } from '../support/workloads.js';

const WEB = { kind: 'Deployment', namespace: NAMESPACE, name: 'web' };

function collectingLogger() {
  const lines: Array<{ level: string; detail: Record<string, unknown>; message: string }> = [];
  const at =
    (level: string) =>
    (detail: Record<string, unknown>, message: string): void => {
      lines.push({ level, detail, message });
    };
  const logger: ServiceLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function setup(options: Partial<ServiceDependencies> & { lease?: string } = {}) {
  let now = Date.parse('2026-11-25T12:00:00.000Z');
  const clock = () => new Date(now);
  const gateway = new InMemoryClusterGateway([deployment('web')], clock);
  const audit = new InMemoryAuditRecorder(clock);
  const sessions = new InMemorySessionStore(clock, audit);
  const { logger, lines } = collectingLogger();
  const service = new RemediationService({
    configuration: loadConfiguration({
      env: {},
      flags: { storage: { executionLease: options.lease ?? '30s', retention: '1d' } } as never,
    }),
    policies: loadPolicies(undefined),
    cluster: gateway,
    sessions,
    audit,
    clock,
    logger,
    instanceId: 'this-instance',
    engine: { pollIntervalMs: 1, stabilityMs: 0 },
    ...options,
  });
  return {
    service,
    gateway,
    sessions,
    audit,
    lines,
    logger,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function output(sessionId: string, actions: RemediationAction[]): RemediateOutput {
  return {
    status: 'pending',
    sessionId,
    analysis: {
      rootCause: 'the container runs out of memory',
      confidence: 0.9,
      factors: [],
      category: 'oom-killed',
      evidence: [],
      source: 'rules',
    },
    remediation: { summary: 'raise the memory limit', actions, risk: 'medium' },
    executed: false,
  };
}

/** A session as analysis leaves it when an action awaits approval. */
async function pendingSession(sessions: InMemorySessionStore, id: string): Promise<SessionRecord> {
  const actions = [memoryPatch('a1', 'web', '512Mi', { decision: 'await-approval', reason: 'manual mode' })];
  return sessions.create({
    id,
    state: 'pending',
    phase: 'done',
    createdAt: '2026-11-25T12:00:00.000Z',
    actor: 'test',
    input: { issue: 'web keeps restarting' },
    output: output(id, actions),
    planHash: planHashOf(actions),
    approvals: [],
    results: [],
  });
}

/** A session a process stopped in the middle of executing, with the given persisted result. */
async function interrupted(
  sessions: InMemorySessionStore,
  gateway: InMemoryClusterGateway,
  result: Partial<ExecutionResult>,
): Promise<SessionRecord> {
  const action = memoryPatch('a1', 'web', '512Mi', { decision: 'execute', reason: 'automatic' });
  return sessions.create({
    id: 'stopped',
    state: 'executing',
    phase: 'executing',
    createdAt: '2026-11-25T11:00:00.000Z',
    actor: 'test',
    input: { issue: 'web keeps restarting', mode: 'automatic' },
    output: output('stopped', [action]),
    approvals: [],
    results: [
      {
        actionId: 'a1',
        status: 'failed',
        message: 'failed',
        startedAt: '2026-11-25T11:00:00.000Z',
        finishedAt: '2026-11-25T11:00:01.000Z',
        before: snapshotView(gateway.object(WEB)!),
        ...result,
      },
    ],
    owner: 'a-process-that-died',
  });
}

describe('approve() executes through the engine', () => {
  it('verifies the change and ends the session verified', async () => {
    const { service, sessions, gateway, audit } = setup();
    await pendingSession(sessions, 's1');
    const result = await service.approve('s1', { approver: 'alice' });
    expect(result).toMatchObject({ status: 'success', executed: true, results: [{ status: 'verified' }] });
    expect((await sessions.get('s1'))!).toMatchObject({ state: 'verified', phase: 'done', owner: undefined });
    expect(gateway.writes.filter((w) => !w.dryRun).map((w) => w.verb)).toEqual(['patch']);
    expect(audit.records.map((r) => r.type)).toEqual([
      'action.approved',
      'action.snapshotted',
      'action.dry-run',
      'action.applied',
      'action.verified',
      'session.completed',
    ]);
  });

  it('a target another remediation holds leaves the session pending, decided by the typed field', async () => {
    const locks = new TargetLocks();
    locks.tryAcquire('Deployment/shop/web', 'someone-else');
    const { service, sessions, gateway } = setup({ locks });
    await pendingSession(sessions, 's1');
    const result = await service.approve('s1', { approver: 'alice' });
    expect(result).toMatchObject({ status: 'pending', executed: false, results: [{ status: 'skipped' }] });
    expect((await sessions.get('s1'))!.state).toBe('pending');
    expect(gateway.writes).toEqual([]);
  });

  it('a refusal whose message says "another remediation" or "unknown" is a plain failure', async () => {
    const { service, sessions, gateway } = setup();
    gateway.inject({
      verb: 'patch',
      dryRun: false,
      fault: { kind: 'reject', status: 422, message: 'unknown field; another remediation is not the cause' },
    });
    await pendingSession(sessions, 's1');
    const result = await service.approve('s1', { approver: 'alice' });
    expect(result.status).toBe('failed');
    expect((await sessions.get('s1'))!.state).toBe('failed');
  });
});

describe('reconciliation decides from typed records, never from message text', () => {
  it('a failed action whose API error says "unknown" is not restored', async () => {
    const { service, sessions, gateway, audit, advance } = setup({ lease: '1ms' });
    await interrupted(sessions, gateway, {
      message: 'the API server rejected the change: 422 unknown field "spec.template.spec.bogus"',
    });
    await audit.record({ type: 'action.apply-failed', actor: 'test', sessionId: 'stopped', actionId: 'a1' });
    advance(10);
    const report = await service.reconcile();
    expect(report.sessions).toEqual([
      { id: 'stopped', state: 'failed', note: 'interrupted before any change was applied' },
    ]);
    expect(gateway.writes).toEqual([]);
  });

  it('a failed action whose audit trail ends in action.outcome-unknown is restored', async () => {
    const { service, sessions, gateway, audit, advance } = setup({ lease: '1ms' });
    await interrupted(sessions, gateway, { message: 'the API server became unreachable during the change' });
    await gateway.patch(WEB, 'strategic', { spec: { replicas: 3 } });
    await audit.record({
      type: 'action.outcome-unknown',
      actor: 'test',
      sessionId: 'stopped',
      actionId: 'a1',
    });
    advance(10);
    const report = await service.reconcile();
    expect(report.sessions[0]).toMatchObject({ id: 'stopped', state: 'rolled-back' });
    expect((gateway.object(WEB)!.spec as { replicas: number }).replicas).toBe(1);
    expect((await sessions.get('stopped'))!.results[0]!.status).toBe('rolled-back');
  });
});

describe('start(): work in the background', () => {
  it('a failure is logged, audited as session.failed, and ends the session failed', async () => {
    const { service, sessions, audit, lines } = setup({
      ai: {
        analyzer: {
          provider: 'test',
          model: 'broken',
          analyze: () => Promise.reject(new Error('the model provider crashed')),
        },
        budget: {},
        merge: () => {
          throw new Error('not reached');
        },
      } as never,
    });
    const session = await service.start({ issue: 'web keeps restarting' }, { actor: 'bob' });
    for (let i = 0; i < 100 && (await sessions.get(session.id))!.state !== 'failed'; i++) await sleep(10);
    expect((await sessions.get(session.id))!).toMatchObject({ state: 'failed', phase: 'done' });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        detail: expect.objectContaining({ session: session.id }),
        message: expect.stringMatching(/the model provider crashed/),
      }),
    );
    await sleep(10);
    const failed = audit.records.find((r) => r.type === 'session.failed');
    expect(failed).toMatchObject({
      sessionId: session.id,
      actor: 'bob',
      detail: { error: 'the model provider crashed', markedFailed: true },
    });
  });
});

describe('background work', () => {
  it('reconciles at start-up and periodically, purges old sessions, and stops', async () => {
    const { service, sessions, gateway, lines, logger, advance } = setup({ lease: '30s' });
    await interrupted(sessions, gateway, { status: 'dry-run', message: 'dry-run-passed' });
    await sessions.create({
      id: 'old',
      state: 'verified',
      phase: 'done',
      createdAt: '2026-10-01T00:00:00.000Z',
      actor: 'test',
      input: { issue: 'long ago' },
      approvals: [],
      results: [],
    });
    // The session was written just now: its owner's lease is fresh, so start-up defers it.
    const work = await service.startBackgroundWork({ logger, reconcileIntervalMs: 20, purgeIntervalMs: 20 });
    expect(work.startup).toEqual({ sessions: [], deferred: 1 });
    expect(lines.map((l) => l.message)).toContainEqual(expect.stringMatching(/1 session\(s\) are executing/));
    advance(2 * 86_400_000); // the lease lapses; "old" is past the 1d retention
    for (let i = 0; i < 100 && (await sessions.get('stopped'))!.state === 'executing'; i++) await sleep(10);
    for (let i = 0; i < 100 && (await sessions.get('old')) !== undefined; i++) await sleep(10);
    await work.stop();
    expect((await sessions.get('stopped'))!.state).toBe('failed');
    expect(await sessions.get('old')).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', detail: { session: 'stopped', state: 'failed' } }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', detail: expect.objectContaining({ purged: 1 }) }),
    );
  });

  it('purges outcome records no policy reads any more (the longest learning window, 720h by default)', async () => {
    const { service, sessions, lines, logger } = setup({ lease: '30s' });
    const created = await sessions.create({
      id: 'with-history',
      state: 'pending',
      phase: 'done',
      createdAt: '2026-11-25T12:00:00.000Z',
      actor: 'test',
      input: { issue: 'history' },
      approvals: [],
      results: [],
    });
    const record = (at: string, actionId: string) => ({
      category: 'oom-killed' as const,
      actionType: 'patch' as const,
      workload: 'Deployment/shop/web',
      outcome: 'rolled-back' as const,
      at,
      sessionId: created.id,
      actionId,
    });
    // 40 days old (past the 30-day learning window and the 1-day session retention) and 10 days old.
    const old = record('2026-10-16T12:00:00.000Z', 'old');
    const recent = record('2026-11-15T12:00:00.000Z', 'recent');
    await sessions.update(created.id, created.version, { phase: 'done' }, { outcomes: [old, recent] });
    const work = await service.startBackgroundWork({ logger, purgeIntervalMs: 20 });
    const since = new Date(0).toISOString();
    for (let i = 0; i < 100 && (await sessions.outcomes({ category: 'oom-killed', since })).length > 1; i++)
      await sleep(10);
    await work.stop();
    expect(await sessions.outcomes({ category: 'oom-killed', since })).toEqual([recent]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', detail: expect.objectContaining({ outcomes: 1 }) }),
    );
  });
});
