/**
 * The SessionStore `list` query contract, run against every store (in memory and SQLite
 * `:memory:` by the unit project; SQLite files and PostgreSQL through the store contract in the
 * integration suites): filters by states, namespace and category, newest first, keyset pages that
 * together give the whole list exactly once (ties on `createdAt` included), bad states refused.
 */
import { describe, expect, it } from 'vitest';
import type { RemediateOutput } from '../../src/domain/index.js';
import { KubemendError } from '../../src/domain/errors.js';
import type { SessionQuery, SessionRecord, SessionState, SessionStore } from '../../src/sessions/store.js';
import { newSession, SAMPLE_INPUT, SAMPLE_OUTPUT } from './support.js';

export interface ListHarness {
  /** A store on a fresh, empty database, and how to dispose of it. */
  open(): Promise<{ store: SessionStore; dispose(): Promise<void> }>;
}

const STATES: readonly SessionState[] = ['pending', 'verified', 'analyzed', 'failed', 'rejected'];
const CATEGORIES = ['oom-killed', 'crash-loop', 'image-pull'] as const;

function output(category: string, subjectNamespace?: string): RemediateOutput {
  return {
    ...SAMPLE_OUTPUT,
    analysis: {
      ...SAMPLE_OUTPUT.analysis,
      category: category as RemediateOutput['analysis']['category'],
      ...(subjectNamespace
        ? {
            subject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: subjectNamespace, name: 'x' },
          }
        : {}),
    },
  };
}

/**
 * 30 sessions: states, categories and namespaces cycle; every third minute holds two sessions (a
 * tie on createdAt); some namespaces come from the analysed subject, others from the request's
 * target; one session is still being analysed (no output).
 */
async function seed(store: SessionStore): Promise<SessionRecord[]> {
  const created: SessionRecord[] = [];
  for (let i = 0; i < 30; i++) {
    const minute = String(Math.floor(i / 1.5)).padStart(2, '0');
    const namespace = i % 2 === 0 ? 'payments' : 'shop';
    const fromSubject = i % 4 < 2;
    created.push(
      await store.create(
        newSession({
          id: `s-${String(i).padStart(2, '0')}`,
          state: STATES[i % STATES.length]!,
          createdAt: `2026-11-01T08:${minute}:00.000Z`,
          input: {
            ...SAMPLE_INPUT,
            target: { kind: 'Deployment', namespace: fromSubject ? 'elsewhere' : namespace, name: 'x' },
          },
          ...(i === 29
            ? {}
            : { output: output(CATEGORIES[i % CATEGORIES.length]!, fromSubject ? namespace : undefined) }),
        }),
      ),
    );
  }
  return created;
}

/** The expected order: newest createdAt first, then id descending. */
function ordered(sessions: SessionRecord[]): string[] {
  return [...sessions]
    .sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
    )
    .map((s) => s.id);
}

export function describeSessionListContract(name: string, harness: ListHarness): void {
  describe(`SessionStore list query: ${name}`, () => {
    it('filters by states, namespace and category, newest first', async () => {
      const { store, dispose } = await harness.open();
      try {
        const all = await seed(store);
        expect((await store.list()).map((s) => s.id)).toEqual(ordered(all));
        const pendingOrFailed = all.filter((s) => s.state === 'pending' || s.state === 'failed');
        expect((await store.list({ states: ['pending', 'failed'] })).map((s) => s.id)).toEqual(
          ordered(pendingOrFailed),
        );
        const payments = all.filter(
          (s) => (s.output?.analysis.subject?.namespace ?? s.input.target?.namespace) === 'payments',
        );
        expect(payments.length).toBeGreaterThan(4);
        expect((await store.list({ namespace: 'payments' })).map((s) => s.id)).toEqual(ordered(payments));
        const oom = all.filter((s) => s.output?.analysis.category === 'oom-killed');
        expect((await store.list({ category: 'oom-killed' })).map((s) => s.id)).toEqual(ordered(oom));
        const combined = payments.filter(
          (s) => s.output?.analysis.category === 'crash-loop' && s.state !== 'pending',
        );
        expect(
          (
            await store.list({
              namespace: 'payments',
              category: 'crash-loop',
              states: STATES.filter((s) => s !== 'pending'),
            })
          ).map((s) => s.id),
        ).toEqual(ordered(combined));
        expect(await store.list({ states: [] })).toEqual([]);
        expect(await store.list({ namespace: 'nowhere' })).toEqual([]);
        expect(await store.list({ state: 'pending', states: ['verified'] })).toEqual([]);
      } finally {
        await dispose();
      }
    });

    it('pages with a keyset cursor: every session exactly once, ties on createdAt included', async () => {
      const { store, dispose } = await harness.open();
      try {
        const all = await seed(store);
        for (const query of [
          {},
          { namespace: 'shop' },
          { states: ['pending', 'verified'] as SessionState[] },
        ]) {
          const seen: string[] = [];
          let after: { createdAt: string; id: string } | undefined;
          for (let page = 0; page < 50; page++) {
            const rows = await store.list({ ...query, limit: 4, ...(after ? { after } : {}) });
            seen.push(...rows.map((s) => s.id));
            if (rows.length < 4) break;
            const last = rows.at(-1)!;
            after = { createdAt: last.createdAt, id: last.id };
          }
          const expected = (await store.list(query)).map((s) => s.id);
          expect(seen, JSON.stringify(query)).toEqual(expected);
          expect(new Set(seen).size).toBe(seen.length);
        }
        expect(all).toHaveLength(30);
      } finally {
        await dispose();
      }
    });

    it('refuses a state that is not a session state, naming it', async () => {
      const { store, dispose } = await harness.open();
      try {
        const queries: SessionQuery[] = [
          { states: ['pending', 'bogus' as SessionState] },
          { state: 'bogus' as SessionState },
        ];
        for (const query of queries) {
          const error = await store.list(query).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(KubemendError);
          expect((error as KubemendError).code).toBe('invalid-input');
          expect((error as KubemendError).message).toContain('bogus');
        }
      } finally {
        await dispose();
      }
    });
  });
}
