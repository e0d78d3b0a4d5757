/**
 * Issue 14, defects 4 and 8 at the service: an unanswered session (its process died between
 * creating it and answering) no longer holds its Idempotency-Key for ever — rejecting it or
 * reconciling it once the lease lapsed releases the key and the retry runs again; and a broken
 * audit chain is found at start-up (an error logged), reported, and refuses every execution while
 * analysis still answers (`audit.onBrokenChain`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import { RemediationService, type ServiceLogger } from '../../src/service/remediation-service.js';
import { storedIdempotencyKey } from '../../src/service/requests.js';
import { openStorage } from '../../src/sessions/factory.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment } from '../support/workloads.js';
import { pending as pendingSession } from './atomic-audit.scenario.js';

const INPUT = { issue: 'web is OOMKilled', target: { kind: 'Deployment', namespace: 'shop', name: 'web' } };
const KEY = { idempotencyKey: 'k-1', requestHash: 'h-1' };

function logger() {
  const errors: string[] = [];
  const log: ServiceLogger = {
    info: () => undefined,
    warn: () => undefined,
    error: (_detail, message) => void errors.push(message),
  };
  return { log, errors };
}

function service(sessions: SessionStore, extra: Record<string, unknown> = {}, clock = () => new Date()) {
  return new RemediationService({
    configuration: loadConfiguration({
      env: {},
      flags: { storage: { executionLease: '30s' }, ...extra } as never,
    }),
    policies: loadPolicies(undefined),
    cluster: new InMemoryClusterGateway([deployment('web')]),
    sessions,
    clock,
    logger: logger().log,
    engine: { pollIntervalMs: 1, stabilityMs: 1 },
  });
}

/** What a process killed between creating the session and answering leaves behind. */
async function unanswered(sessions: SessionStore): Promise<void> {
  await sessions.create({
    id: 'stuck',
    state: 'analyzed',
    phase: 'queued',
    createdAt: '2026-11-25T12:00:00.000Z',
    actor: 'ops',
    input: INPUT,
    approvals: [],
    results: [],
    owner: 'dead-instance',
    // Stored as the service stores it: per caller (the default actor here).
    idempotencyKey: storedIdempotencyKey({ actorOf: () => 'kubemend' } as never, KEY),
    requestHash: KEY.requestHash,
  });
}

async function code(work: Promise<unknown>): Promise<string | undefined> {
  return work.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );
}

describe('an unanswered session and its Idempotency-Key', () => {
  it('is in flight until rejected; the rejection releases the key and the retry runs again', async () => {
    const sessions = new InMemorySessionStore();
    await unanswered(sessions);
    const kubemend = service(sessions);
    expect(await code(kubemend.remediate(INPUT, KEY))).toBe('session-conflict');
    await kubemend.reject('stuck', { approver: 'ops', reason: 'stuck' });
    const retried = await kubemend.remediate(INPUT, KEY);
    expect(retried.sessionId).not.toBe('stuck');
    expect((await kubemend.remediate(INPUT, KEY)).sessionId).toBe(retried.sessionId);
  });

  it('is settled by reconciliation once the lease lapsed: failed, recorded, the key released', async () => {
    let now = Date.parse('2026-11-25T12:00:10.000Z');
    const clock = () => new Date(now);
    const sessions = new InMemorySessionStore(clock);
    await unanswered(sessions);
    const kubemend = service(sessions, {}, clock);
    expect((await kubemend.reconcile()).deferred).toBe(1); // written 10 s ago: maybe alive
    now += 30_000;
    const report = await kubemend.reconcile();
    expect(report.sessions).toEqual([expect.objectContaining({ id: 'stuck', state: 'failed' })]);
    expect(await sessions.get('stuck')).toMatchObject({
      state: 'failed',
      phase: 'done',
      idempotencyKey: undefined,
    });
    const record = sessions.audit.records.find((r) => r.type === 'session.reconciled');
    expect(record?.detail).toMatchObject({ state: 'failed', idempotencyKeyReleased: true });
    expect((await kubemend.remediate(INPUT, KEY)).sessionId).not.toBe('stuck');
  });

  it('a request that fails before answering ends its session failed and releases the key', async () => {
    const sessions = new InMemorySessionStore();
    const kubemend = service(sessions);
    // Bad input is refused before a session exists: nothing stored, the key stays free.
    expect(await code(kubemend.remediate({ ...INPUT, policy: 'no-such-policy' }, KEY))).toBe(
      'policy-not-found',
    );
    expect(await sessions.list()).toEqual([]);
    // A failure once the session is open (here: the caller's progress sink throws).
    const lost = () => {
      throw new Error('connection to the caller lost');
    };
    await expect(kubemend.remediate(INPUT, { ...KEY, onProgress: lost })).rejects.toThrow(/caller lost/);
    const [failed] = await sessions.list();
    expect(failed).toMatchObject({ state: 'failed', phase: 'done', idempotencyKey: undefined });
    expect(sessions.audit.records.at(-1)).toMatchObject({
      type: 'session.failed',
      detail: { idempotencyKeyReleased: true },
    });
  });
});

describe('a broken audit chain', () => {
  async function brokenLog() {
    const path = join(mkdtempSync(join(tmpdir(), 'kubemend-chain-')), 'kubemend.db');
    const storage = await openStorage({ driver: 'sqlite', path });
    await service(storage.sessions).remediate(INPUT);
    const pending = { sessionId: (await pendingSession(storage.sessions, 'to-approve')).id };
    // Someone with access to the file alters a record (and the trigger that refuses it).
    const db = new Database(path);
    db.exec(
      `DROP TRIGGER audit_records_no_update; UPDATE audit_records SET actor = 'someone-else' WHERE sequence = 1`,
    );
    db.close();
    return { storage, pending };
  }

  it('is found at start-up (an error logged, /readyz and the metric report it) and refuses executions; analysis answers', async () => {
    const { storage, pending } = await brokenLog();
    try {
      const { log, errors } = logger();
      const kubemend = service(storage.sessions);
      const work = await kubemend.startBackgroundWork({ logger: log });
      expect(kubemend.auditChainStatus()).toMatchObject({ state: 'broken', firstBroken: { sequence: 1 } });
      expect(errors.some((line) => /hash chain is broken/.test(line))).toBe(true);
      expect(() => kubemend.assertAuditChainValid()).toThrow(/broken at record 1/);
      expect(await code(kubemend.approve(pending.sessionId, { approver: 'ops' }))).toBe('audit-chain-broken');
      expect(await code(kubemend.remediate({ ...INPUT, mode: 'automatic' }))).toBe('audit-chain-broken');
      expect(await code(kubemend.remediate({ ...INPUT, mode: 'hybrid' }))).toBe('audit-chain-broken');
      expect((await kubemend.remediate(INPUT)).analysis.category).toBeDefined();
      expect((await storage.sessions.get(pending.sessionId))!.state).toBe('pending');
      await work.stop();
    } finally {
      await storage.close();
    }
  });

  it('with audit.onBrokenChain: warn, is logged but executions go on', async () => {
    const { storage, pending } = await brokenLog();
    try {
      const { log, errors } = logger();
      const kubemend = service(storage.sessions, { audit: { onBrokenChain: 'warn' } });
      const work = await kubemend.startBackgroundWork({ logger: log });
      expect(kubemend.auditChainStatus().state).toBe('broken');
      expect(errors.length).toBeGreaterThan(0);
      const output = await kubemend.approve(pending.sessionId, { approver: 'ops' });
      expect(output.results?.[0]?.status).toBe('verified');
      await work.stop();
    } finally {
      await storage.close();
    }
  });

  it('is checked incrementally: only records after the last verified one are walked, and an altered verified record is still caught', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kubemend-chain-')), 'kubemend.db');
    const storage = await openStorage({ driver: 'sqlite', path });
    try {
      const kubemend = service(storage.sessions);
      await kubemend.remediate(INPUT);
      const first = await kubemend.verifyAuditChain();
      expect(first.state).toBe('valid');
      await kubemend.remediate(INPUT);
      const second = await kubemend.verifyAuditChain();
      expect(second.verified!.sequence).toBeGreaterThan(first.verified!.sequence);
      const db = new Database(path);
      db.exec(
        `DROP TRIGGER audit_records_no_update; UPDATE audit_records SET actor = 'x' WHERE sequence = ${second.verified!.sequence}`,
      );
      db.close();
      await kubemend.remediate(INPUT);
      expect((await kubemend.verifyAuditChain()).state).toBe('broken');
    } finally {
      await storage.close();
    }
  });
});
