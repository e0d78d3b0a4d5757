/**
 * The storage contracts against a real PostgreSQL (scripts/postgres/up.sh; the suite fails, never
 * skips, when it is not up). Each test gets its own schema; a replica is a store with its own
 * Pool, as another kubemend process would have. Plus what only PostgreSQL needs proving:
 * concurrent migration by replicas starting together, and an unreachable server.
 */
import { Client, type PoolClient } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { PostgresAuditRecorder } from '../../src/audit/postgres-audit-recorder.js';
import { KubemendError } from '../../src/domain/errors.js';
import { openStorage } from '../../src/sessions/factory.js';
import {
  PostgresSessionStore,
  postgresSessionMigrations,
} from '../../src/sessions/postgres-session-store.js';
import { migratePostgres, quoteSchema } from '../../src/storage/postgres.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { describeAuditStoreContract } from './audit-store.contract.js';
import { describeSessionStoreContract } from './session-store.contract.js';
import {
  approvedSession,
  auditEntry,
  newSession,
  requirePostgres,
  SAMPLE_INPUT,
  SAMPLE_OUTPUT,
  uniqueSchema,
} from './support.js';

let url = '';
let admin: Client | undefined;
const schemas: string[] = [];
let ready: Promise<void> | undefined;

/**
 * Connects once; every test awaits it, so without a server every test fails with the message
 * saying what to start (a failing beforeAll would report them as skipped).
 */
function postgres(): Promise<void> {
  ready ??= (async () => {
    url = await requirePostgres();
    admin = new Client({ connectionString: url });
    await admin.connect();
  })();
  return ready;
}

async function adminQuery<R extends Record<string, unknown>>(sql: string): Promise<R[]> {
  await postgres();
  return (await admin!.query<R>(sql)).rows;
}

afterAll(async () => {
  if (admin === undefined) return;
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

function newSchema(): string {
  const schema = uniqueSchema();
  schemas.push(schema);
  return schema;
}

/** Runs SQL on its own connection with `schema` first on the search path. */
async function inSchema(schema: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describeSessionStoreContract('PostgreSQL', {
  async open({ clock }) {
    await postgres();
    const schema = newSchema();
    const options = { url, schema, clock, maxConnections: 5 };
    const stores: SessionStore[] = [await PostgresSessionStore.open(options)];
    return {
      store: stores[0]!,
      async replica() {
        const replica = await PostgresSessionStore.open(options);
        stores.push(replica);
        return replica;
      },
      async dispose() {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  },
});

describeAuditStoreContract('PostgreSQL', {
  async open({ clock }) {
    await postgres();
    const schema = newSchema();
    const options = { url, schema, clock, maxConnections: 5 };
    const recorders: AuditStore[] = [await PostgresAuditRecorder.open(options)];
    return {
      recorder: recorders[0]!,
      async replica() {
        const replica = await PostgresAuditRecorder.open(options);
        recorders.push(replica);
        return replica;
      },
      async tamper(sql) {
        await inSchema(
          schema,
          `BEGIN;
           ALTER TABLE audit_records DISABLE TRIGGER USER;
           ${sql};
           ALTER TABLE audit_records ENABLE TRIGGER USER;
           COMMIT;`,
        );
      },
      async execute(sql) {
        await inSchema(schema, sql);
      },
      async breakDatabase() {
        await inSchema(schema, 'DROP TABLE audit_records');
      },
      async dispose() {
        await Promise.all(recorders.map((recorder) => recorder.close()));
      },
    };
  },
});

describe('PostgreSQL storage', () => {
  it('replicas starting together on a new schema migrate it exactly once', async () => {
    await postgres();
    const schema = newSchema();
    const opened = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0
          ? PostgresSessionStore.open({ url, schema, maxConnections: 2 })
          : PostgresAuditRecorder.open({ url, schema, maxConnections: 2 }),
      ),
    );
    const rows = await adminQuery<{ component: string; version: number }>(
      `SELECT component, version FROM ${schema}.schema_migrations ORDER BY component, version`,
    );
    expect(rows).toEqual([
      { component: 'alerts', version: 1 },
      { component: 'audit', version: 1 },
      { component: 'learning', version: 1 },
      { component: 'mcp', version: 1 },
      { component: 'notifications', version: 1 },
      // Every sessions migration, each once.
      ...postgresSessionMigrations(quoteSchema(schema)).map(({ version }) => ({
        component: 'sessions',
        version,
      })),
    ]);
    await Promise.all(opened.map((store) => store.close()));
  });

  it('migrations 3 and 4 on older sessions: filter columns filled (a \\u0000 escape in their JSON included), shadow states allowed', async () => {
    await postgres();
    const schema = newSchema();
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await migratePostgres(
        client as unknown as PoolClient,
        schema,
        'sessions',
        postgresSessionMigrations(quoteSchema(schema)).slice(0, 1),
      );
      const insert = `INSERT INTO ${schema}.sessions (id, state, phase, created_at, updated_at, actor, input, output, approvals, results, version)
         VALUES ($1, 'pending', 'done', $2, $2, 'test', $3, $4, '[]', '[]', 1)`;
      const at = '2026-11-01T08:00:00.000Z';
      const output = JSON.stringify(SAMPLE_OUTPUT);
      // SAMPLE_INPUT's logs hold a \u0000 escape, which PostgreSQL's json operators refuse.
      await client.query(insert, ['with-nul', at, JSON.stringify(SAMPLE_INPUT), output]);
      await client.query(insert, [
        'plain',
        '2026-11-01T08:01:00.000Z',
        JSON.stringify({ issue: 'x', target: { kind: 'Deployment', namespace: 'shop', name: 'x' } }),
        JSON.stringify({ ...SAMPLE_OUTPUT, analysis: { ...SAMPLE_OUTPUT.analysis, category: 'oom-killed' } }),
      ]);
    } finally {
      await client.end();
    }
    const store = await PostgresSessionStore.open({ url, schema });
    try {
      expect((await store.list({ namespace: 'payments' })).map((s) => s.id)).toEqual(['with-nul']);
      expect((await store.list({ namespace: 'shop' })).map((s) => s.id)).toEqual(['plain']);
      expect((await store.list({ category: 'oom-killed' })).map((s) => s.id)).toEqual(['plain']);
      expect((await store.list({ category: 'crash-loop' })).map((s) => s.id)).toEqual(['with-nul']);
      // Migration 4 widened the state constraint the table was created with (shadow sessions).
      const observing = await store.create(newSession({ state: 'observing' }));
      expect((await store.list({ state: 'observing' })).map((s) => s.id)).toEqual([observing.id]);
    } finally {
      await store.close();
    }
  });

  it('refuses a schema migrated by a newer kubemend', async () => {
    await postgres();
    const schema = newSchema();
    await (await PostgresSessionStore.open({ url, schema })).close();
    await adminQuery(
      `INSERT INTO ${schema}.schema_migrations (component, version, name) VALUES ('sessions', 99, 'future')`,
    );
    await expect(PostgresSessionStore.open({ url, schema })).rejects.toThrow(
      /migration 99, newer than this kubemend/,
    );
  });

  it('opens sessions and audit together through the factory, sharing one Pool', async () => {
    await postgres();
    const schema = newSchema();
    const storage = await openStorage({ driver: 'postgres', url, schema, maxConnections: 4 });
    const created = await storage.sessions.create(approvedSession());
    const [first, second] = await Promise.all([
      storage.sessions.transition(created.id, ['approved'], 'executing'),
      storage.sessions.transition(created.id, ['approved'], 'executing'),
    ]);
    expect([first, second].filter((result) => result !== undefined)).toHaveLength(1);
    await storage.audit.record(auditEntry(1, created.id));
    expect(await storage.audit.verify()).toEqual({ ok: true, records: 1 });
    await storage.close();
    await storage.close();
    await expect(storage.sessions.get(created.id)).rejects.toThrow(KubemendError);
  });

  it('incidents (kubemend watch): of concurrent claims from two replicas exactly one opens, then cooldown', async () => {
    await postgres();
    const schema = newSchema();
    const [a, b] = await Promise.all([
      openStorage({ driver: 'postgres', url, schema, maxConnections: 4 }),
      openStorage({ driver: 'postgres', url, schema, maxConnections: 4 }),
    ]);
    const key = { cluster: 'c', kind: 'Deployment', namespace: 'shop', name: 'cart', signal: 'CrashLoop' };
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).incidents.claim(key, `s${i}`, 1_000, 900, 500)),
    );
    const won = claims.filter((claim) => claim.claimed);
    expect(won).toHaveLength(1);
    expect(new Set(claims.map((claim) => claim.incident.sessionId))).toEqual(
      new Set([won[0]!.incident.sessionId]),
    );
    await a.incidents.close(key, 2_000);
    expect(await b.incidents.listOpen('c', 'shop')).toEqual([]);
    expect((await b.incidents.claim(key, 'early', 2_400, 2_400, 500)).claimed).toBe(false);
    expect(await b.incidents.claim(key, 'later', 2_500, 2_450, 500)).toMatchObject({
      claimed: true,
      incident: { sessionId: 'later', openedAt: 2_500, signalAt: 2_450 },
    });
    await Promise.all([a.close(), b.close()]);
  });

  it('an unreachable server: the audit log reports audit-unavailable, the session store a KubemendError', async () => {
    await postgres();
    const unreachable = 'postgres://kubemend:nothing@127.0.0.1:1/kubemend';
    const auditOpen = PostgresAuditRecorder.open({ url: unreachable, schema: newSchema() });
    await expect(auditOpen).rejects.toMatchObject({ code: 'audit-unavailable' });
    await expect(PostgresSessionStore.open({ url: unreachable, schema: newSchema() })).rejects.toThrow(
      KubemendError,
    );
  });

  it('replicas appending while the chain is verified: every verification is consistent', async () => {
    await postgres();
    const schema = newSchema();
    const recorders = await Promise.all(
      Array.from({ length: 3 }, () => PostgresAuditRecorder.open({ url, schema, maxConnections: 4 })),
    );
    const appending = Promise.all(
      recorders.flatMap((recorder, r) =>
        Array.from({ length: 60 }, (_, i) => recorder.record({ ...auditEntry(i), actor: `replica-${r}` })),
      ),
    );
    const verdicts = [];
    for (let i = 0; i < 10; i++) verdicts.push(await recorders[i % 3]!.verify());
    await appending;
    for (const verdict of verdicts) expect(verdict.ok, JSON.stringify(verdict.firstBroken)).toBe(true);
    expect(await recorders[0]!.verify()).toEqual({ ok: true, records: 180 });
    await Promise.all(recorders.map((recorder) => recorder.close()));
  });
});
