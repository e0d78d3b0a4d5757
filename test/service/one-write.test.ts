/**
 * A request without a cluster is answered with one write (ADR 0042): nothing can execute, so the
 * session, its creation record, the analysis and every proposal commit together once the answer
 * is ready. Requests that must find a concurrent twin first (an Idempotency-Key, a named session)
 * still open the session before the work.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import { parseRemediateInput, type RemediateInput } from '../../src/domain/index.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import type { SessionStore, WriteOptions } from '../../src/sessions/store.js';

function input(): RemediateInput {
  const parsed = parseRemediateInput(JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')));
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

/** The store's writes, in order: which call, and the audit records that went with it. */
function setup() {
  const clock = () => new Date('2026-12-02T03:00:00.000Z');
  const audit = new InMemoryAuditRecorder(clock);
  const store = new InMemorySessionStore(clock, audit);
  const writes: Array<{ call: string; audit: string[] }> = [];
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!['create', 'update', 'transition'].includes(String(property))) return value.bind(target);
      return (...args: unknown[]) => {
        const options = args.find(
          (arg): arg is WriteOptions => typeof arg === 'object' && arg !== null && 'audit' in arg,
        );
        writes.push({ call: String(property), audit: (options?.audit ?? []).map((entry) => entry.type) });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as SessionStore;
  let n = 0;
  const service = new RemediationService({
    configuration: loadConfiguration({ env: {}, flags: {} as never }),
    policies: loadPolicies(undefined),
    sessions: counted,
    audit,
    clock,
    instanceId: 'this-instance',
    newId: () => `session-${++n}`,
  } as never);
  return { service, store, audit, writes };
}

describe('a request without a cluster', () => {
  it('is stored once, answered, with its creation, analysis and proposals in the same write', async () => {
    const { service, store, audit, writes } = setup();
    const output = await service.remediate(input(), { actor: 'ci' });
    expect(output.remediation.actions.length).toBeGreaterThan(0);
    expect(writes).toEqual([
      {
        call: 'create',
        audit: [
          'session.created',
          'analysis.completed',
          ...output.remediation.actions.map((action) =>
            action.decision?.decision === 'denied' ? 'policy.denied' : 'action.proposed',
          ),
        ],
      },
    ]);
    const stored = await store.get(output.sessionId);
    expect(stored).toMatchObject({ phase: 'done', state: 'pending', actor: 'ci', output, version: 1 });
    expect(stored?.owner).toBeUndefined();
    const records = (await audit.list()).filter((record) => record.sessionId === output.sessionId);
    expect(records.map((record) => record.type)).toEqual(writes[0]!.audit);
  });

  it('with an Idempotency-Key opens the session first, so a concurrent twin is refused', async () => {
    const { service, writes } = setup();
    const output = await service.remediate(input(), { actor: 'ci', idempotencyKey: 'k-1', requestHash: 'h' });
    expect(writes.map((write) => write.call)).toEqual(['create', 'update']);
    expect(writes[0]!.audit).toEqual(['session.created']);
    // The replay answers from the stored session, without another write.
    expect(
      await service.remediate(input(), { actor: 'ci', idempotencyKey: 'k-1', requestHash: 'h' }),
    ).toEqual(output);
    expect(writes).toHaveLength(2);
  });
});
