/**
 * The SessionStore contract, run against every implementation (SQLite, PostgreSQL) by the
 * integration suites: create/get and idempotency keys, optimistic `update`, atomic `transition`
 * (20 concurrent attempts from several connections: exactly one wins), `list`, retention `purge`.
 */
import type { ShadowObservation } from '../../src/domain/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { KubemendError } from '../../src/domain/errors.js';
import {
  SESSION_STATES,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  TERMINAL_STATES,
} from '../../src/sessions/store.js';
import type { OutcomeRecord } from '../../src/learning/history.js';
import { describeSessionListContract } from './session-list.contract.js';
import { approvedSession, ManualClock, newSession, SAMPLE_OUTPUT, SAMPLE_RESULT } from './support.js';

export interface SessionStoreUnderTest {
  readonly store: SessionStore;
  /** Another store on the same database through its own connections (another replica). */
  replica(): Promise<SessionStore>;
  /** Closes the store and its replicas and removes the database. */
  dispose(): Promise<void>;
}

export interface SessionStoreHarness {
  /** A store on a fresh, empty database. */
  open(options: { clock: () => Date }): Promise<SessionStoreUnderTest>;
}

async function rejection(promise: Promise<unknown>): Promise<KubemendError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KubemendError);
    return error as KubemendError;
  }
  throw new Error('expected the promise to reject');
}

export function describeSessionStoreContract(name: string, harness: SessionStoreHarness): void {
  describe(`SessionStore contract: ${name}`, () => {
    let clock: ManualClock;
    let opened: SessionStoreUnderTest | undefined;

    async function open(): Promise<SessionStoreUnderTest> {
      clock = new ManualClock();
      opened = await harness.open({ clock: clock.now });
      return opened;
    }

    afterEach(async () => {
      await opened?.dispose();
      opened = undefined;
    });

    describe('create and get', () => {
      it('stores every field and reads it back unchanged, at version 1', async () => {
        const { store } = await open();
        const session = approvedSession({
          results: [SAMPLE_RESULT],
          rejection: { approver: 'carol', at: '2026-11-01T08:00:40.000Z', reason: 'not now' },
          idempotencyKey: 'key-1',
          requestHash: 'r'.repeat(64),
          owner: 'replica-a',
          phase: 'executing',
          cluster: 'staging',
        });
        const created = await store.create(session);
        expect(created).toEqual({ ...session, updatedAt: clock.iso(), version: 1 });
        expect(await store.get(session.id)).toEqual(created);
      });

      it('omits optional fields that were not given (no nulls)', async () => {
        const { store } = await open();
        const created = await store.create(newSession());
        for (const key of [
          'output',
          'planHash',
          'rejection',
          'idempotencyKey',
          'requestHash',
          'owner',
          'cluster',
        ]) {
          expect(Object.keys(created)).not.toContain(key);
        }
      });

      it('normalises timestamps to ISO 8601 UTC with milliseconds', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ createdAt: '2026-11-01T10:00:00+02:00' }));
        expect(created.createdAt).toBe('2026-11-01T08:00:00.000Z');
      });

      it('returns undefined for an unknown id', async () => {
        const { store } = await open();
        expect(await store.get('no-such-session')).toBeUndefined();
      });

      it('refuses a second session with the same id (session-conflict)', async () => {
        const { store } = await open();
        const session = newSession();
        await store.create(session);
        const error = await rejection(store.create({ ...session, actor: 'mallory' }));
        expect(error.code).toBe('session-conflict');
        expect((await store.get(session.id))?.actor).toBe('alice@example.com');
      });

      it('refuses an unknown state', async () => {
        const { store } = await open();
        const error = await rejection(store.create(newSession({ state: 'exploded' as SessionState })));
        expect(error.code).toBe('invalid-input');
      });
    });

    describe('idempotency keys', () => {
      it('finds a session by its idempotency key', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ idempotencyKey: 'req-42', requestHash: 'h1' }));
        expect(await store.findByIdempotencyKey('req-42')).toEqual(created);
        expect(await store.findByIdempotencyKey('req-43')).toBeUndefined();
      });

      it('keeps the key unique: a second session under it is a session-conflict', async () => {
        const { store } = await open();
        await store.create(newSession({ idempotencyKey: 'req-42' }));
        const error = await rejection(store.create(newSession({ idempotencyKey: 'req-42' })));
        expect(error.code).toBe('session-conflict');
        expect(await store.list()).toHaveLength(1);
      });

      it('lets any number of sessions have no key', async () => {
        const { store } = await open();
        await store.create(newSession());
        await store.create(newSession());
        expect(await store.list()).toHaveLength(2);
      });

      it('keeps the key unique on update too', async () => {
        const { store } = await open();
        await store.create(newSession({ idempotencyKey: 'req-1' }));
        const other = await store.create(newSession({ idempotencyKey: 'req-2' }));
        const error = await rejection(store.update(other.id, other.version, { idempotencyKey: 'req-1' }));
        expect(error.code).toBe('session-conflict');
      });

      it('lets exactly one of 10 concurrent creates with the same key through', async () => {
        const fixture = await open();
        const replicas = [fixture.store, await fixture.replica(), await fixture.replica()];
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            replicas[i % replicas.length]!.create(newSession({ idempotencyKey: 'same' })),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected')
            expect((outcome.reason as KubemendError).code).toBe('session-conflict');
        }
      });
    });

    describe('update (optimistic concurrency)', () => {
      it('applies the changes, increments the version and stamps updatedAt', async () => {
        const { store } = await open();
        const created = await store.create(newSession());
        clock.advance(5000);
        const updated = await store.update(created.id, 1, {
          phase: 'analyzing',
          output: SAMPLE_OUTPUT,
          planHash: 'p'.repeat(64),
        });
        expect(updated).toEqual({
          ...created,
          phase: 'analyzing',
          output: SAMPLE_OUTPUT,
          planHash: 'p'.repeat(64),
          updatedAt: clock.iso(),
          version: 2,
        });
        expect(await store.get(created.id)).toEqual(updated);
      });

      it('stamps updatedAt itself, whatever the changes say', async () => {
        const { store } = await open();
        const created = await store.create(newSession());
        clock.advance(1000);
        const updated = await store.update(created.id, 1, { updatedAt: '2001-01-01T00:00:00.000Z' });
        expect(updated.updatedAt).toBe(clock.iso());
      });

      it('clears an optional field given as undefined and ignores undefined required ones', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ owner: 'replica-a', phase: 'executing' }));
        const updated = await store.update(created.id, 1, { owner: undefined, phase: undefined });
        expect(updated.owner).toBeUndefined();
        expect(updated.phase).toBe('executing');
      });

      it('refuses a stale version with session-conflict and changes nothing', async () => {
        const { store } = await open();
        const created = await store.create(newSession());
        await store.update(created.id, 1, { phase: 'first' });
        const error = await rejection(store.update(created.id, 1, { phase: 'second' }));
        expect(error.code).toBe('session-conflict');
        expect(await store.get(created.id)).toMatchObject({ phase: 'first', version: 2 });
      });

      it('reports an unknown session as session-not-found', async () => {
        const { store } = await open();
        const error = await rejection(store.update('no-such-session', 1, { phase: 'x' }));
        expect(error.code).toBe('session-not-found');
      });

      it('lets exactly one of 10 concurrent updates from the same version win', async () => {
        const fixture = await open();
        const created = await fixture.store.create(newSession());
        const replicas = [fixture.store, await fixture.replica(), await fixture.replica()];
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            replicas[i % replicas.length]!.update(created.id, 1, { owner: `writer-${i}` }),
          ),
        );
        const won = outcomes.filter(
          (o): o is PromiseFulfilledResult<SessionRecord> => o.status === 'fulfilled',
        );
        expect(won).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected')
            expect((outcome.reason as KubemendError).code).toBe('session-conflict');
        }
        expect(await fixture.store.get(created.id)).toMatchObject({ owner: won[0]!.value.owner, version: 2 });
      });
    });

    describe('outcome history (written with the change that produced it)', () => {
      const outcome = (overrides: Partial<OutcomeRecord> = {}): OutcomeRecord => ({
        category: 'crash-loop',
        actionType: 'rollback',
        workload: 'Deployment/shop/api',
        outcome: 'rolled-back',
        at: clock.iso(),
        sessionId: 'session-a',
        actionId: 'a1',
        ...overrides,
      });

      it('stores the records of a transition and an update, and reads them newest first', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ state: 'pending' }));
        const first = outcome({
          outcome: 'rejected',
          category: 'oom-killed',
          actionType: 'patch',
          cluster: 'east',
        });
        const moved = await store.transition(created.id, ['pending'], 'rejected', {}, { outcomes: [first] });
        clock.advance(1000);
        const second = outcome({ at: clock.iso() });
        await store.update(created.id, moved!.version, { phase: 'done' }, { outcomes: [second] });
        clock.advance(1000);
        await store.update(
          created.id,
          moved!.version + 1,
          { phase: 'done' },
          {
            outcomes: [
              outcome({ category: 'oom-killed', outcome: 'verified', at: clock.iso(), actionId: undefined }),
            ],
          },
        );
        const since = new Date(0).toISOString();
        // A category's records, and every rollback whatever its category.
        const crash = await store.outcomes({ category: 'crash-loop', since });
        expect(crash).toEqual([second]);
        const oom = await store.outcomes({ category: 'oom-killed', since });
        expect(oom.map((r) => r.outcome)).toEqual(['verified', 'rolled-back', 'rejected']);
        expect(oom[2]).toEqual(first);
        expect(await store.outcomes({ category: 'oom-killed', since: clock.iso() })).toHaveLength(1);
        expect(await store.outcomes({ category: 'oom-killed', since, limit: 2 })).toHaveLength(2);
      });

      it('a history read just before a write or a purge of outcomes is not answered again after it', async () => {
        const { store } = await open();
        const since = new Date(0).toISOString();
        expect(await store.outcomes({ category: 'crash-loop', since })).toEqual([]);
        const created = await store.create(newSession({ state: 'pending' }));
        const written = outcome({ at: clock.iso() });
        await store.transition(created.id, ['pending'], 'rejected', {}, { outcomes: [written] });
        expect(await store.outcomes({ category: 'crash-loop', since })).toEqual([written]);
        clock.advance(1000);
        expect(await store.purgeOutcomes(clock.iso())).toBe(1);
        expect(await store.outcomes({ category: 'crash-loop', since })).toEqual([]);
      });

      it('purges the records older than a cutoff, and only those', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ state: 'pending' }));
        const old = outcome({ at: clock.iso() });
        const moved = await store.transition(created.id, ['pending'], 'rejected', {}, { outcomes: [old] });
        clock.advance(60_000);
        const cutoff = clock.iso();
        const recent = outcome({ at: clock.iso(), actionId: 'a2' });
        await store.update(created.id, moved!.version, { phase: 'done' }, { outcomes: [recent] });
        const since = new Date(0).toISOString();
        expect(await store.purgeOutcomes(cutoff)).toBe(1);
        expect(await store.outcomes({ category: 'crash-loop', since })).toEqual([recent]);
        expect(await store.purgeOutcomes(cutoff)).toBe(0);
        expect(await store.get(created.id)).toBeDefined(); // sessions are not touched
        expect((await rejection(store.purgeOutcomes('last tuesday'))).code).toBe('invalid-input');
      });

      it('writes no record when the change is refused', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ state: 'pending' }));
        expect(
          await store.transition(created.id, ['approved'], 'executing', {}, { outcomes: [outcome()] }),
        ).toBeUndefined();
        await rejection(store.update(created.id, 99, { phase: 'x' }, { outcomes: [outcome()] }));
        expect(await store.outcomes({ category: 'crash-loop', since: new Date(0).toISOString() })).toEqual(
          [],
        );
      });
    });

    describe('transition (atomic compare-and-set on the state)', () => {
      it('moves the session from one of `from` to `to`, with the changes', async () => {
        const { store } = await open();
        const created = await store.create(approvedSession());
        clock.advance(1000);
        const moved = await store.transition(created.id, ['approved', 'pending'], 'executing', {
          owner: 'replica-a',
          phase: 'executing',
        });
        expect(moved).toEqual({
          ...created,
          state: 'executing',
          owner: 'replica-a',
          phase: 'executing',
          updatedAt: clock.iso(),
          version: 2,
        });
      });

      it('returns undefined and changes nothing when the state is not in `from`', async () => {
        const { store } = await open();
        const created = await store.create(newSession({ state: 'pending' }));
        expect(await store.transition(created.id, ['approved'], 'executing', { owner: 'x' })).toBeUndefined();
        expect(await store.transition(created.id, [], 'executing')).toBeUndefined();
        expect(await store.get(created.id)).toEqual(created);
      });

      it('ignores a `state` in the changes: `to` decides', async () => {
        const { store } = await open();
        const created = await store.create(approvedSession());
        const moved = await store.transition(created.id, ['approved'], 'executing', { state: 'verified' });
        expect(moved?.state).toBe('executing');
      });

      it('reports an unknown session as session-not-found', async () => {
        const { store } = await open();
        const error = await rejection(store.transition('no-such-session', ['approved'], 'executing'));
        expect(error.code).toBe('session-not-found');
      });

      it('walks the whole life cycle', async () => {
        const { store } = await open();
        const created = await store.create(newSession());
        const steps: [SessionState, SessionState][] = [
          ['analyzed', 'pending'],
          ['pending', 'approved'],
          ['approved', 'executing'],
          ['executing', 'verified'],
        ];
        let version = created.version;
        for (const [from, to] of steps) {
          const moved = await store.transition(created.id, [from], to);
          expect(moved?.state).toBe(to);
          expect(moved?.version).toBe(++version);
        }
      });

      it('20 concurrent transitions approved → executing from several connections: exactly one wins', async () => {
        const fixture = await open();
        const replicas = [fixture.store];
        for (let i = 0; i < 3; i++) replicas.push(await fixture.replica());
        for (let round = 0; round < 5; round++) {
          const created = await fixture.store.create(approvedSession());
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              replicas[i % replicas.length]!.transition(created.id, ['approved'], 'executing', {
                owner: `attempt-${i}`,
              }),
            ),
          );
          const winners = results.filter((result) => result !== undefined);
          expect(winners, `round ${round}`).toHaveLength(1);
          const stored = await fixture.store.get(created.id);
          expect(stored).toMatchObject({ state: 'executing', owner: winners[0]!.owner, version: 2 });
        }
      });
    });

    describe('list', () => {
      it('lists newest first, filters by state and honours the limit', async () => {
        const { store } = await open();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const state: SessionState = i % 2 === 0 ? 'pending' : 'verified';
          const created = await store.create(newSession({ state, createdAt: `2026-11-01T08:0${i}:00.000Z` }));
          ids.push(created.id);
        }
        expect((await store.list()).map((s) => s.id)).toEqual([...ids].reverse());
        expect((await store.list({ state: 'pending' })).map((s) => s.id)).toEqual([ids[4], ids[2], ids[0]]);
        expect((await store.list({ limit: 2 })).map((s) => s.id)).toEqual([ids[4], ids[3]]);
        expect(await store.list({ limit: 0 })).toEqual([]);
        expect(await store.list({ state: 'rejected' })).toEqual([]);
      });

      it('refuses a negative limit', async () => {
        const { store } = await open();
        expect((await rejection(store.list({ limit: -1 }))).code).toBe('invalid-input');
      });
    });

    describeSessionListContract(name, {
      async open() {
        const fixture = await harness.open({ clock: new ManualClock().now });
        return { store: fixture.store, dispose: () => fixture.dispose() };
      },
    });

    describe('purge (retention)', () => {
      it('deletes only terminal sessions last updated before the cutoff', async () => {
        const { store } = await open();
        const old: Record<string, string> = {};
        for (const state of SESSION_STATES) old[state] = (await store.create(newSession({ state }))).id;
        clock.advance(60 * 60 * 1000);
        const cutoff = clock.iso();
        const recent = await store.create(newSession({ state: 'verified' }));
        clock.advance(1000);
        // A terminal session created long ago but touched after the cutoff is kept too.
        const touched = await store.update(old['failed']!, 1, { phase: 'reconciled' });

        const purged = await store.purge(cutoff);

        expect(purged).toBe(TERMINAL_STATES.length - 1);
        const left = new Set((await store.list()).map((s) => s.id));
        for (const state of SESSION_STATES) {
          const expected = !TERMINAL_STATES.includes(state) || state === 'failed';
          expect(left.has(old[state]!), state).toBe(expected);
        }
        expect(left.has(recent.id)).toBe(true);
        expect(left.has(touched.id)).toBe(true);
        expect(await store.purge(cutoff)).toBe(0);
      });

      it('treats the cutoff as exclusive', async () => {
        const { store } = await open();
        await store.create(newSession({ state: 'rejected' }));
        expect(await store.purge(clock.iso())).toBe(0);
        clock.advance(1);
        expect(await store.purge(clock.iso())).toBe(1);
      });

      it('refuses a cutoff that is not a timestamp', async () => {
        const { store } = await open();
        expect((await rejection(store.purge('last tuesday'))).code).toBe('invalid-input');
      });
    });

    describe('close', () => {
      it('is idempotent, and a closed store refuses work with a KubemendError', async () => {
        const { store } = await open();
        const created = await store.create(newSession());
        await store.close();
        await store.close();
        await rejection(store.get(created.id));
      });
    });

    describe('shadow sessions and the report scan (ADR 0035, 0036)', () => {
      it('stores the shadow record and moves observing → observed once', async () => {
        const { store } = await open();
        const shadow: ShadowObservation = {
          category: 'oom-killed',
          startedAt: '2026-11-01T08:00:00.000Z',
          windowEndsAt: '2026-11-01T08:30:00.000Z',
          actions: [
            {
              actionId: 'a1',
              type: 'patch',
              target: 'Deployment/shop/api',
              kind: 'Deployment',
              namespace: 'shop',
              name: 'api',
              dryRun: 'passed',
              message: 'server-side dry-run passed',
              before: { spec: { replicas: 1 } },
              after: { spec: { replicas: 2 } },
            },
          ],
        };
        const created = await store.create(newSession({ state: 'observing', output: SAMPLE_OUTPUT, shadow }));
        expect((await store.get(created.id))?.shadow).toEqual(shadow);
        const settled = { ...shadow, outcome: 'matched' as const, observedAt: '2026-11-01T08:10:00.000Z' };
        const moved = await store.transition(created.id, ['observing'], 'observed', { shadow: settled });
        expect(moved?.state).toBe('observed');
        expect(moved?.shadow?.outcome).toBe('matched');
        expect(
          await store.transition(created.id, ['observing'], 'observed', { shadow: settled }),
        ).toBeUndefined();
      });

      it('lists sessions created in [from, to), oldest first, at most limit', async () => {
        const { store } = await open();
        const at = ['2026-11-01T08:00:00.000Z', '2026-11-02T08:00:00.000Z', '2026-11-03T08:00:00.000Z'];
        for (const createdAt of at) await store.create(newSession({ createdAt }));
        const inRange = await store.listCreated({ from: at[1], to: at[2], limit: 10 });
        expect(inRange.map((session) => session.createdAt)).toEqual([at[1]]);
        const all = await store.listCreated({ limit: 2 });
        expect(all.map((session) => session.createdAt)).toEqual([at[0], at[1]]);
        expect(await store.listCreated({ from: at[2], limit: 10 })).toHaveLength(1);
      });
    });

    describe('MCP session records', () => {
      const at = (minute: number) => `2026-11-01T08:${String(minute).padStart(2, '0')}:00.000Z`;
      const record = (id: string, minute: number) => ({
        id,
        caller: 'token:analyst',
        initialize: {
          protocolVersion: '2025-06-18',
          capabilities: { elicitation: {} },
          clientInfo: { name: 'c', version: '1' },
        },
        createdAt: at(minute),
        lastUsedAt: at(minute),
      });

      it('finds a record another replica wrote, while it is not idle past the cutoff', async () => {
        const under = await open();
        await under.store.mcpSessions.save(record('m-1', 0));
        const other = await under.replica();
        expect(await other.mcpSessions.find('m-1', at(0))).toBeUndefined(); // last used at, not after
        expect(await other.mcpSessions.find('m-1', '2026-11-01T07:59:59.999Z')).toEqual(record('m-1', 0));
        expect(await other.mcpSessions.find('m-2', at(0))).toBeUndefined();
      });

      it('touch moves the last use forward only, and says whether the record exists', async () => {
        const { store } = await open();
        await store.mcpSessions.save(record('m-1', 5));
        expect(await store.mcpSessions.touch('m-1', at(9))).toBe(true);
        expect(await store.mcpSessions.touch('m-1', at(7))).toBe(true);
        expect((await store.mcpSessions.find('m-1', at(0)))?.lastUsedAt).toBe(at(9));
        expect(await store.mcpSessions.touch('m-2', at(9))).toBe(false);
      });

      it('remove ends one; expire removes those last used before the cutoff', async () => {
        const { store } = await open();
        for (const [id, minute] of [
          ['m-1', 1],
          ['m-2', 2],
          ['m-3', 3],
        ] as const)
          await store.mcpSessions.save(record(id, minute));
        await store.mcpSessions.remove('m-3');
        expect(await store.mcpSessions.find('m-3', at(0))).toBeUndefined();
        expect(await store.mcpSessions.expire(at(2))).toBe(1);
        expect(await store.mcpSessions.find('m-1', at(0))).toBeUndefined();
        expect(await store.mcpSessions.find('m-2', at(0))).toEqual(record('m-2', 2));
      });
    });
  });
}
