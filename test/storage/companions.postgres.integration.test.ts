/**
 * The alert incidents and the notification outbox on a real PostgreSQL, with two replicas (two
 * stores, each with its own Pool, on one schema): an incident opened by racing deliveries on both
 * replicas has exactly one session; an outbox row commits with its state change; concurrent claims
 * from both replicas never hand out the same message; a lapsed claim is taken over.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KubemendError } from '../../src/domain/errors.js';
import { NotifyingSessionStore } from '../../src/notifications/notifying-store.js';
import { openStorage, type Storage } from '../../src/sessions/factory.js';
import type { NewSession } from '../../src/sessions/store.js';
import { requirePostgres, uniqueSchema } from './support.js';

const opened: Storage[] = [];

async function replicas(): Promise<[Storage, Storage]> {
  const url = await requirePostgres();
  const schema = uniqueSchema();
  const first = await openStorage({ driver: 'postgres', url, schema });
  const second = await openStorage({ driver: 'postgres', url, schema });
  opened.push(first, second);
  return [first, second];
}

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

const session = (id: string): NewSession => ({
  id,
  state: 'analyzed',
  phase: 'queued',
  createdAt: new Date().toISOString(),
  actor: 'alertmanager',
  input: { issue: 'Alert KubePodCrashLooping' },
  approvals: [],
  results: [],
});

describe('alert incidents and the outbox on PostgreSQL', () => {
  it('opens one session per incident under racing deliveries on two replicas', async () => {
    const [a, b] = await replicas();
    const alert = {
      fingerprint: 'f00d',
      startsAt: '2026-12-01T20:00:00.000Z',
      alertname: 'KubePodCrashLooping',
      receivedAt: new Date().toISOString(),
    };
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).sessions.create(session(`race-${i}`), {
          audit: [{ type: 'session.created', actor: 'am', sessionId: `race-${i}` }],
          alertIncident: { ...alert, sessionId: `race-${i}` },
        }),
      ),
    );
    const won = attempts.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of attempts.filter((r) => r.status === 'rejected'))
      expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(KubemendError);
    const incident = await b.sessions.alerts.find('f00d', alert.startsAt);
    const winner = (won[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    expect(incident?.sessionId).toBe(winner);
    // The losers left nothing: no session, no audit record.
    expect((await a.sessions.list()).map((s) => s.id)).toEqual([winner]);
    expect((await a.audit.list()).filter((r) => r.type === 'session.created')).toHaveLength(1);
    const repeated = await b.sessions.alerts.repeated('f00d', alert.startsAt, new Date().toISOString(), [
      { type: 'alert.repeated', actor: 'am', sessionId: winner },
    ]);
    expect(repeated?.notifications).toBe(2);
    const resolved = await a.sessions.alerts.resolved(
      'f00d',
      alert.startsAt,
      { at: new Date().toISOString(), resolution: 'on-its-own' },
      [],
    );
    expect(resolved?.resolution).toBe('on-its-own');
    expect(
      await b.sessions.alerts.resolved(
        'f00d',
        alert.startsAt,
        { at: new Date().toISOString(), resolution: 'after-fix' },
        [],
      ),
    ).toBeUndefined();
  });

  it('commits outbox rows with the change and never lets two replicas claim the same one', async () => {
    const [a, b] = await replicas();
    const sinks = [{ name: 'ops' }, { name: 'chat', events: ['failed' as const] }];
    const store = new NotifyingSessionStore(a.sessions, sinks);
    for (let i = 0; i < 40; i++) {
      await store.create(session(`n-${i}`));
      expect(await store.transition(`n-${i}`, ['pending'], 'failed')).toBeUndefined();
      await store.transition(`n-${i}`, ['analyzed'], 'failed');
    }
    expect((await b.sessions.outbox.forSession('n-0')).map((m) => m.sink).sort()).toEqual(['chat', 'ops']);
    const now = new Date(Date.now() + 1000).toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? a : b).sessions.outbox.claim(`owner-${i}`, now, until, 15),
      ),
    );
    const ids = claims.flat().map((m) => m.id);
    expect(ids).toHaveLength(80);
    expect(new Set(ids).size).toBe(80);
    // A claim whose lease lapsed is taken over; the old owner can no longer settle it.
    const [first] = claims.flat();
    const later = new Date(Date.now() + 120_000).toISOString();
    const retaken = await b.sessions.outbox.claim(
      'new-owner',
      later,
      new Date(Date.now() + 180_000).toISOString(),
      100,
    );
    expect(retaken.map((m) => m.id)).toContain(first!.id);
    expect(await a.sessions.outbox.delivered(first!.id, first!.sessionId, now)).toBe(false);
    expect(await a.sessions.outbox.delivered(first!.id, 'new-owner', later)).toBe(true);
  });
});
