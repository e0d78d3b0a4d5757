/**
 * Graceful stop of the service (SIGTERM): no new asynchronous work; at the deadline, queued work
 * that never started and work still analysing end failed (recorded), and an execution still
 * running hands its session over so that another instance takes it over at its next
 * reconciliation — without waiting for the lease to lapse — and restores what was applied.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import { planHashOf, RemediationService, type ServiceLogger } from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment, memoryPatch, NAMESPACE } from '../support/workloads.js';

const quiet: ServiceLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('RemediationService.stop()', () => {
  it('refuses new asynchronous work, fails what never started or is still analysing, records it', async () => {
    const gateway = new InMemoryClusterGateway([deployment('web')]);
    // Every read takes a second: the first analysis is still running at the deadline.
    const slow = new Proxy(gateway, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'get' && property !== 'list') return value;
        return async (...args: unknown[]) => {
          await sleep(1_000);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as unknown as ClusterGateway;
    const audit = new InMemoryAuditRecorder();
    const sessions = new InMemorySessionStore(undefined, audit);
    const service = new RemediationService({
      configuration: loadConfiguration({
        env: {},
        flags: { server: { asyncQueue: { concurrency: 1 } } } as never,
      }),
      policies: loadPolicies(undefined),
      cluster: slow,
      sessions,
      audit,
      logger: quiet,
    });
    const input = {
      issue: 'web keeps restarting',
      target: { kind: 'Deployment', namespace: NAMESPACE, name: 'web' },
    };
    const started = await Promise.all([1, 2, 3].map(() => service.start(input, { actor: 'ci' })));
    await sleep(100);
    const report = await service.stop(Date.now() + 200);
    expect(report).toEqual({ abandoned: 2, handedOver: [], interrupted: 1 });
    for (const { id } of started) expect((await sessions.get(id))!.state).toBe('failed');
    const failures = audit.records.filter((record) => record.type === 'session.failed');
    expect(failures).toHaveLength(3);
    expect(failures.every((record) => (record.detail as { code: string }).code === 'shutting-down')).toBe(
      true,
    );
    await expect(service.start(input, { actor: 'ci' })).rejects.toMatchObject({ code: 'shutting-down' });
  });

  it('an execution still running at the deadline is handed over and taken over at once by another instance', async () => {
    let now = Date.parse('2026-11-25T12:00:00.000Z');
    const clock = () => new Date(now);
    const gateway = new InMemoryClusterGateway([deployment('web')], clock);
    const audit = new InMemoryAuditRecorder(clock);
    const sessions = new InMemorySessionStore(clock, audit);
    const configuration = loadConfiguration({
      env: {},
      flags: { storage: { executionLease: '30s' } } as never,
    });
    const instance = (instanceId: string, stabilityMs: number) =>
      new RemediationService({
        configuration,
        policies: loadPolicies(undefined),
        cluster: gateway,
        sessions,
        audit,
        clock,
        logger: quiet,
        instanceId,
        engine: { pollIntervalMs: 5, stabilityMs },
      });
    // Verification waits 3 s for stability: the execution is still running at the deadline.
    const stopping = instance('stopping', 3_000);
    const actions = [
      memoryPatch('a1', 'web', '512Mi', { decision: 'await-approval', reason: 'manual mode' }),
    ];
    await sessions.create({
      id: 's1',
      state: 'pending',
      phase: 'done',
      createdAt: '2026-11-25T12:00:00.000Z',
      actor: 'test',
      input: { issue: 'web keeps restarting' },
      output: {
        status: 'pending',
        sessionId: 's1',
        analysis: {
          rootCause: 'out of memory',
          confidence: 0.9,
          factors: [],
          category: 'oom-killed',
          evidence: [],
          source: 'rules',
        },
        remediation: { summary: 'raise the memory limit', actions, risk: 'medium' },
        executed: false,
      },
      planHash: planHashOf(actions),
      approvals: [],
      results: [],
    });
    const approving = stopping.approve('s1', { approver: 'alice' }).catch((error: unknown) => error);
    await until(async () => (await sessions.get('s1'))!.results.some((r) => r.status === 'applied'));

    const report = await stopping.stop(Date.now() + 100);
    expect(report.handedOver).toEqual(['s1']);
    expect((await sessions.get('s1'))!).toMatchObject({ state: 'executing', owner: 'handed-over:stopping' });

    // Another instance, well within the 30 s lease: takes it over now and restores the snapshot.
    now += 1_000;
    const taker = await instance('taker', 1).reconcile();
    expect(taker.deferred).toBe(0);
    expect(taker.sessions).toEqual([expect.objectContaining({ id: 's1', state: 'rolled-back' })]);
    expect(audit.records.map((record) => record.type)).toContain('session.reconciled');

    // The stopping instance's execution, once its stability wait ends (by the injected clock, ADR
    // 0032), can no longer write to it.
    now += 3_000;
    expect(await approving).toMatchObject({ code: 'session-conflict' });
    expect((await sessions.get('s1'))!.state).toBe('rolled-back');
  }, 20_000);
});
