/**
 * The execution lease: the owner of an executing session renews it while it works; another
 * instance takes the session over only once the lease has lapsed, so a replica that starts next
 * to a live one never restores (rolls back) the live one's change.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import { KubemendError } from '../../src/domain/index.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import type { NewSession } from '../../src/sessions/store.js';
import { ExecutionLease, leaseExpired } from '../../src/service/execution-lease.js';
import { RemediationService } from '../../src/service/remediation-service.js';

function executing(id: string, owner: string): NewSession {
  return {
    id,
    state: 'executing',
    phase: 'executing',
    createdAt: new Date(0).toISOString(),
    actor: 'test',
    input: { issue: 'pod keeps restarting' },
    approvals: [],
    results: [],
    owner,
  };
}

describe('ExecutionLease', () => {
  it('renews the session every third of the lease while held, and stops when released', async () => {
    const store = new InMemorySessionStore();
    const session = await store.create(executing('s1', 'me'));
    const lease = new ExecutionLease(store, session, 90);
    await sleep(200);
    const renewed = (await store.get('s1'))!;
    expect(renewed.version).toBeGreaterThanOrEqual(3);
    await lease.release();
    const released = (await store.get('s1'))!.version;
    await sleep(120);
    expect((await store.get('s1'))!.version).toBe(released);
  });

  it('serialises progress writes with the renewals: no version conflicts', async () => {
    const store = new InMemorySessionStore();
    const lease = new ExecutionLease(store, await store.create(executing('s2', 'me')), 60);
    const writes = [];
    for (let i = 0; i < 20; i++) {
      writes.push(lease.write({ phase: `step-${i}` }));
      await sleep(5);
    }
    await Promise.all(writes);
    await lease.release();
    expect((await store.get('s2'))!.phase).toBe('step-19');
  });

  it('once another instance has taken the session over, the owner cannot write to it', async () => {
    const store = new InMemorySessionStore();
    const lease = new ExecutionLease(store, await store.create(executing('s3', 'me')), 60);
    await store.transition('s3', ['executing'], 'rolled-back', { owner: undefined });
    await sleep(50);
    await expect(lease.write({ phase: 'late' })).rejects.toBeInstanceOf(KubemendError);
    await lease.release();
    expect((await store.get('s3'))!.state).toBe('rolled-back');
  });

  it('leaseExpired compares the last write with the lease', () => {
    const session = { updatedAt: '2026-01-01T00:00:00.000Z' } as never;
    const at = Date.parse('2026-01-01T00:00:00.000Z');
    expect(leaseExpired(session, at + 29_999, 30_000)).toBe(false);
    expect(leaseExpired(session, at + 30_000, 30_000)).toBe(true);
  });
});

describe('reconcile() and the lease', () => {
  it('leaves a session another instance is executing alone until its lease lapses', async () => {
    let now = Date.parse('2026-11-25T12:00:00.000Z');
    const clock = () => new Date(now);
    const sessions = new InMemorySessionStore(clock);
    const service = new RemediationService({
      configuration: loadConfiguration({ env: {}, flags: { storage: { executionLease: '30s' } } as never }),
      policies: loadPolicies(undefined),
      sessions,
      clock,
      instanceId: 'starting-replica',
    });
    await sessions.create(executing('live', 'other-replica'));

    now += 10_000; // the other replica last wrote 10 s ago: alive
    const early = await service.reconcile();
    expect(early).toMatchObject({ sessions: [], deferred: 1 });
    expect((await sessions.get('live'))!.state).toBe('executing');

    now += 25_000; // 35 s of silence: the lease has lapsed
    const late = await service.reconcile();
    expect(late.deferred).toBe(0);
    expect(late.sessions).toEqual([
      { id: 'live', state: 'failed', note: 'interrupted before any change was applied' },
    ]);
    expect((await sessions.get('live'))!).toMatchObject({ state: 'failed', owner: undefined });
  });

  it('never takes over its own sessions', async () => {
    const sessions = new InMemorySessionStore(() => new Date(0));
    const service = new RemediationService({
      configuration: loadConfiguration({ env: {} }),
      policies: loadPolicies(undefined),
      sessions,
      clock: () => new Date(10 ** 12),
      instanceId: 'me',
    });
    await sessions.create(executing('mine', 'me'));
    expect(await service.reconcile()).toEqual({ sessions: [], deferred: 0 });
    expect((await sessions.get('mine'))!.state).toBe('executing');
  });
});
