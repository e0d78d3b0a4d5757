/**
 * Storage throughput (a script, not a test): session writes/s and audit appends/s on SQLite and
 * PostgreSQL, printed as a Markdown table.
 *
 *   npm run bench:storage -- [--count 2000] [--postgres URL | --no-postgres]
 *
 * PostgreSQL is measured when a URL is given or .state/postgres/url exists (scripts/postgres/up.sh);
 * each run uses a fresh schema and drops it afterwards. SQLite files go to a temporary directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import type { AuditStore } from '../src/audit/audit-store.js';
import { PostgresAuditRecorder } from '../src/audit/postgres-audit-recorder.js';
import { SqliteAuditRecorder } from '../src/audit/sqlite-audit-recorder.js';
import { GENESIS_HASH } from '../src/audit/recorder.js';
import { PostgresSessionStore } from '../src/sessions/postgres-session-store.js';
import { SqliteSessionStore } from '../src/sessions/sqlite-session-store.js';
import type { SessionStore } from '../src/sessions/store.js';
import { auditEntry, newSession, POSTGRES_URL_FILE, uniqueSchema } from '../test/storage/support.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    postgres: { type: 'string' },
    'no-postgres': { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');

interface Row {
  readonly store: string;
  readonly measure: string;
  readonly operations: number;
  readonly seconds: number;
}

const rows: Row[] = [];

async function time(
  store: string,
  measure: string,
  operations: number,
  run: () => Promise<void>,
): Promise<void> {
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  rows.push({ store, measure, operations, seconds });
  process.stderr.write(`${store}: ${measure}: ${Math.round(operations / seconds)}/s\n`);
}

interface Target {
  readonly name: string;
  sessions(): Promise<SessionStore>;
  audit(): Promise<AuditStore>;
  cleanup(): Promise<void>;
}

async function measureSessions(target: Target): Promise<void> {
  const store = await target.sessions();
  const ids: string[] = [];
  await time(target.name, 'session create', count, async () => {
    for (let i = 0; i < count; i++) ids.push((await store.create(newSession({ state: 'pending' }))).id);
  });
  await time(target.name, 'session update (version check)', count, async () => {
    for (const id of ids) await store.update(id, 1, { phase: 'analyzing' });
  });
  await time(target.name, 'session transition (CAS)', count, async () => {
    for (const id of ids) await store.transition(id, ['pending'], 'approved');
  });
  const replicas = [store, await target.sessions(), await target.sessions(), await target.sessions()];
  await time(target.name, 'session transition, 4 connections × 8 in flight', count, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, worker) => {
        for (let i = next++; i < ids.length; i = next++) {
          await replicas[worker % replicas.length]!.transition(ids[i]!, ['approved'], 'executing');
        }
      }),
    );
  });
  await Promise.all(replicas.map((replica) => replica.close()));
}

async function measureAudit(target: Target): Promise<void> {
  // (64 in flight: the promises below are created at once; the queue commits them in batches)
  const recorder = await target.audit();
  await time(target.name, 'audit append', count, async () => {
    for (let i = 0; i < count; i++) await recorder.record(auditEntry(i));
  });
  const replicas = [recorder, await target.audit(), await target.audit(), await target.audit()];
  await time(target.name, 'audit append, 4 connections × 8 in flight', count, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, worker) => {
        for (let i = next++; i < count; i = next++)
          await replicas[worker % replicas.length]!.record(auditEntry(i));
      }),
    );
  });
  await time(target.name, 'audit append, 64 in flight (group commit)', count, async () => {
    await Promise.all(Array.from({ length: count }, (_, i) => recorder.record(auditEntry(i))));
  });
  const total = 3 * count;
  let last: { sequence: number; hash: string } | undefined;
  await time(target.name, `audit verify, full (${total} records)`, total, async () => {
    const verdict = await recorder.verify({ sequence: 0, hash: GENESIS_HASH });
    if (!verdict.ok || verdict.records !== total)
      throw new Error(`unexpected verdict ${JSON.stringify(verdict)}`);
    last = verdict.last;
  });
  for (let i = 0; i < 100; i++) await recorder.record(auditEntry(i));
  await time(target.name, `audit verify, incremental (100 new of ${total + 100})`, 100, async () => {
    const verdict = await recorder.verify(last);
    if (!verdict.ok || verdict.records !== 100)
      throw new Error(`unexpected verdict ${JSON.stringify(verdict)}`);
  });
  await Promise.all(replicas.map((replica) => replica.close()));
}

function sqliteTarget(synchronous: 'full' | 'normal', writerThread = false): Target {
  const directory = mkdtempSync(join(tmpdir(), 'kubemend-throughput-'));
  const path = join(directory, 'kubemend.db');
  return {
    name: `SQLite (synchronous=${synchronous}${writerThread ? ', writer thread' : ''})`,
    sessions: async () => new SqliteSessionStore(path, { synchronous, writerThread }),
    audit: async () => new SqliteAuditRecorder(path, { synchronous, writerThread }),
    cleanup: async () => rmSync(directory, { recursive: true, force: true }),
  };
}

function postgresTarget(url: string): Target {
  const schema = uniqueSchema();
  return {
    name: 'PostgreSQL',
    sessions: () => PostgresSessionStore.open({ url, schema, maxConnections: 8 }),
    audit: () => PostgresAuditRecorder.open({ url, schema, maxConnections: 8 }),
    async cleanup() {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

const targets: Target[] = [sqliteTarget('full'), sqliteTarget('normal'), sqliteTarget('normal', true)];
const postgresUrl =
  values.postgres ??
  (!values['no-postgres'] && existsSync(POSTGRES_URL_FILE)
    ? readFileSync(POSTGRES_URL_FILE, 'utf8').trim()
    : undefined);
if (postgresUrl !== undefined) targets.push(postgresTarget(postgresUrl));
else process.stderr.write('PostgreSQL skipped: no --postgres URL and no .state/postgres/url\n');

for (const target of targets) {
  try {
    await measureSessions(target);
    await measureAudit(target);
  } finally {
    await target.cleanup();
  }
}

console.log(`${count} operations each; Node ${process.version}\n`);
console.log('| store | measure | operations | seconds | per second |');
console.log('|---|---|---:|---:|---:|');
for (const row of rows) {
  console.log(
    `| ${row.store} | ${row.measure} | ${row.operations} | ${row.seconds.toFixed(2)} | ${Math.round(row.operations / row.seconds)} |`,
  );
}
