/**
 * Issue 14, defect 3: a state change and its audit record commit together or not at all. With the
 * audit store made unwritable, reject, approve and a new request fail with `audit-unavailable`
 * (503) and leave the session exactly as it was — no `rejected` without its record, no `approved`
 * stuck for ever, no `analyzed/queued` row without its record — and once the fault is removed,
 * approve and reject work, also after a restart. Shared by the in-memory, SQLite and PostgreSQL runs.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecorder } from '../../src/audit/recorder.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import type { RemediateOutput } from '../../src/domain/index.js';
import { planHashOf, RemediationService } from '../../src/service/remediation-service.js';
import type { SessionRecord, SessionStore } from '../../src/sessions/store.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment, memoryPatch } from '../support/workloads.js';

export interface AtomicStorage {
  readonly sessions: SessionStore;
  readonly audit: AuditRecorder;
  /** Makes every audit append fail (a trigger, a revoked grant, a flag). */
  breakAudit(): Promise<void>;
  repairAudit(): Promise<void>;
  /** Closes and opens the same database again (a restart); in memory: the same stores. */
  reopen(): Promise<AtomicStorage>;
  close(): Promise<void>;
}

const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined };

function serviceOn(storage: AtomicStorage, gateway: InMemoryClusterGateway): RemediationService {
  return new RemediationService({
    configuration: loadConfiguration({ env: {}, flags: { cluster: { offline: false } } as never }),
    policies: loadPolicies(undefined),
    cluster: gateway,
    sessions: storage.sessions,
    audit: storage.audit,
    logger: QUIET,
    engine: { pollIntervalMs: 1, stabilityMs: 1 },
  });
}

export async function pending(sessions: SessionStore, id: string): Promise<SessionRecord> {
  const actions = [memoryPatch('a1', 'web', '512Mi', { decision: 'await-approval', reason: 'manual mode' })];
  const output: RemediateOutput = {
    status: 'pending',
    sessionId: id,
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
  return sessions.create({
    id,
    state: 'pending',
    phase: 'done',
    createdAt: new Date().toISOString(),
    actor: 'test',
    input: { issue: 'web keeps restarting' },
    output,
    planHash: planHashOf(actions),
    approvals: [],
    results: [],
  });
}

async function failureCode(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/** The row as stored, without the fields a read stamps. */
function stored(session: SessionRecord | undefined) {
  return (
    session && {
      state: session.state,
      phase: session.phase,
      version: session.version,
      approvals: session.approvals,
    }
  );
}

export function describeAtomicAudit(name: string, open: () => Promise<AtomicStorage>): void {
  describe(`state changes and their audit records commit together: ${name}`, () => {
    it('reject with the audit store unwritable: 503, the session unchanged; then it works', async () => {
      let storage = await open();
      try {
        const gateway = new InMemoryClusterGateway([deployment('web')]);
        const before = await pending(storage.sessions, 'to-reject');
        await storage.breakAudit();
        expect(await failureCode(serviceOn(storage, gateway).reject('to-reject', { approver: 'ops' }))).toBe(
          'audit-unavailable',
        );
        expect(stored(await storage.sessions.get('to-reject'))).toEqual(stored(before));
        expect(await storage.audit.list({ sessionId: 'to-reject' })).toEqual([]);

        await storage.repairAudit();
        storage = await storage.reopen();
        const rejected = await serviceOn(storage, gateway).reject('to-reject', { approver: 'ops' });
        expect(rejected.state).toBe('rejected');
        expect((await storage.audit.list({ sessionId: 'to-reject' })).map((r) => r.type)).toEqual([
          'session.rejected',
        ]);
      } finally {
        await storage.close();
      }
    });

    it('approve with the audit store unwritable: 503, the session stays pending; then it executes, also after a restart', async () => {
      let storage = await open();
      try {
        const gateway = new InMemoryClusterGateway([deployment('web')]);
        const before = await pending(storage.sessions, 'to-approve');
        await storage.breakAudit();
        expect(
          await failureCode(serviceOn(storage, gateway).approve('to-approve', { approver: 'ops' })),
        ).toBe('audit-unavailable');
        expect(stored(await storage.sessions.get('to-approve'))).toEqual(stored(before));
        expect(gateway.object({ kind: 'Deployment', namespace: 'shop', name: 'web' })).toBeDefined();

        await storage.repairAudit();
        storage = await storage.reopen();
        const output = await serviceOn(storage, gateway).approve('to-approve', { approver: 'ops' });
        expect(output.results?.map((r) => r.status)).toEqual(['verified']);
        expect((await storage.sessions.get('to-approve'))!.state).toBe('verified');
        const types = (await storage.audit.list({ sessionId: 'to-approve' })).map((r) => r.type);
        expect(types[0]).toBe('action.approved');
        expect(types.at(-1)).toBe('session.completed');
        expect((await storage.audit.verify()).ok).toBe(true);
      } finally {
        await storage.close();
      }
    });

    it('a new request with the audit store unwritable: 503 and no session row without its record', async () => {
      const storage = await open();
      try {
        const gateway = new InMemoryClusterGateway([deployment('web')]);
        await storage.breakAudit();
        expect(
          await failureCode(
            serviceOn(storage, gateway).remediate(
              { issue: 'web is OOMKilled', target: { kind: 'Deployment', namespace: 'shop', name: 'web' } },
              { idempotencyKey: 'key-1' },
            ),
          ),
        ).toBe('audit-unavailable');
        expect(await storage.sessions.list()).toEqual([]);
        expect(await storage.sessions.findByIdempotencyKey('key-1')).toBeUndefined();

        await storage.repairAudit();
        const answered = await serviceOn(storage, gateway).remediate(
          { issue: 'web is OOMKilled', target: { kind: 'Deployment', namespace: 'shop', name: 'web' } },
          { idempotencyKey: 'key-1' },
        );
        const session = await storage.sessions.get(answered.sessionId);
        expect(session?.phase).toBe('done');
        const types = (await storage.audit.list({ sessionId: answered.sessionId })).map((r) => r.type);
        expect(types.slice(0, 2)).toEqual(['session.created', 'analysis.completed']);
      } finally {
        await storage.close();
      }
    });
  });
}
