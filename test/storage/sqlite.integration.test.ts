/**
 * The storage contracts against SQLite (one fresh database file per test, replicas are further
 * connections to the same file), plus what only a file database needs proving: WAL and migrations
 * on open, races between separate processes, and durability — a writer killed with SIGKILL loses
 * nothing it had acknowledged.
 */
import { mcpSessionMigrations } from '../../src/sessions/mcp-session-records.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { SQLITE_AUDIT_MIGRATIONS, SqliteAuditRecorder } from '../../src/audit/sqlite-audit-recorder.js';
import { KubemendError } from '../../src/domain/errors.js';
import { openStorage } from '../../src/sessions/factory.js';
import { SQLITE_SESSION_MIGRATIONS, SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { migrateSqlite } from '../../src/storage/sqlite.js';
import { companionMigrations } from '../../src/sessions/companion-sql.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { SQLITE_LEARNING_MIGRATIONS } from '../../src/sessions/outcome-rows.js';
import { SQLITE_INCIDENT_MIGRATIONS } from '../../src/sessions/sqlite-incident-store.js';
import { describeAuditStoreContract } from './audit-store.contract.js';
import { describeSessionStoreContract } from './session-store.contract.js';
import {
  approvedSession,
  auditEntry,
  newSession,
  REPO_ROOT,
  SAMPLE_OUTPUT,
  temporaryDirectory,
} from './support.js';

/** Every migration of the file, each recorded once. */
const COMPANIONS = companionMigrations((name) => name);
const MIGRATIONS =
  SQLITE_AUDIT_MIGRATIONS.length +
  SQLITE_SESSION_MIGRATIONS.length +
  COMPANIONS.alerts.length +
  COMPANIONS.notifications.length +
  mcpSessionMigrations((name) => name).length +
  SQLITE_LEARNING_MIGRATIONS.length;

const root = temporaryDirectory('kubemend-sqlite-');
let databases = 0;
const nextPath = (): string => join(root, `db-${++databases}`, 'kubemend.db');

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs SQL on its own connection to the file, as another process or an operator would. */
function withConnection<T>(path: string, use: (db: Database.Database) => T): T {
  const db = new Database(path, { timeout: 5000 });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

describeSessionStoreContract('SQLite', {
  async open({ clock }) {
    const path = nextPath();
    const stores: SessionStore[] = [new SqliteSessionStore(path, { clock })];
    return {
      store: stores[0]!,
      async replica() {
        const replica = new SqliteSessionStore(path, { clock });
        stores.push(replica);
        return replica;
      },
      async dispose() {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  },
});

// The same contract with every write on the writer thread (storage.sqliteWriter: thread).
describeSessionStoreContract('SQLite, writer thread', {
  async open({ clock }) {
    const path = nextPath();
    const stores: SessionStore[] = [new SqliteSessionStore(path, { clock, writerThread: true })];
    return {
      store: stores[0]!,
      async replica() {
        const replica = new SqliteSessionStore(path, { clock, writerThread: true });
        stores.push(replica);
        return replica;
      },
      async dispose() {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  },
});

describeAuditStoreContract('SQLite', {
  async open({ clock }) {
    const path = nextPath();
    const recorders: AuditStore[] = [new SqliteAuditRecorder(path, { clock })];
    return {
      recorder: recorders[0]!,
      async replica() {
        const replica = new SqliteAuditRecorder(path, { clock });
        recorders.push(replica);
        return replica;
      },
      async tamper(sql) {
        withConnection(path, (db) => {
          const triggers = db
            .prepare<[], { name: string; sql: string }>(
              "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_records'",
            )
            .all();
          db.transaction(() => {
            for (const trigger of triggers) db.exec(`DROP TRIGGER ${trigger.name}`);
            db.exec(sql);
            for (const trigger of triggers) db.exec(trigger.sql);
          }).immediate();
        });
      },
      async execute(sql) {
        withConnection(path, (db) => db.exec(sql));
      },
      async breakDatabase() {
        withConnection(path, (db) => db.exec('DROP TABLE audit_records'));
      },
      async dispose() {
        await Promise.all(recorders.map((recorder) => recorder.close()));
      },
    };
  },
});

describe('SQLite storage: the file', () => {
  it('creates the data directory, uses WAL and a busy timeout, and records its migrations', async () => {
    const path = join(root, 'fresh', 'nested', 'kubemend.db');
    const storage = await openStorage({ driver: 'sqlite', path });
    await storage.sessions.create(newSession());
    await storage.audit.record(auditEntry(1));
    expect(existsSync(path)).toBe(true);
    withConnection(path, (db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(
        db
          .prepare('SELECT component, version, name FROM schema_migrations ORDER BY component, version')
          .all(),
      ).toEqual([
        { component: 'alerts', version: 1, name: 'create alert incidents' },
        { component: 'audit', version: 1, name: 'create audit_records and audit_head' },
        { component: 'incidents', version: 1, name: 'create incidents' },
        { component: 'learning', version: 1, name: 'create the outcome history' },
        { component: 'mcp', version: 1, name: 'create MCP sessions' },
        { component: 'notifications', version: 1, name: 'create the notification outbox' },
        { component: 'sessions', version: 1, name: 'create sessions' },
        {
          component: 'sessions',
          version: 2,
          name: 'index unfinished sessions (reconciliation of unanswered requests)',
        },
        { component: 'sessions', version: 3, name: 'namespace and category columns for list filters' },
        {
          component: 'sessions',
          version: 4,
          name: 'shadow sessions: states observing and observed, the shadow column (ADR 0035)',
        },
        { component: 'sessions', version: 5, name: 'sessions carry their cluster' },
      ]);
    });
    await storage.close();
    await storage.close();

    // Reopening applies nothing twice and finds everything.
    const again = await openStorage({ driver: 'sqlite', path });
    expect(await again.sessions.list()).toHaveLength(1);
    expect(await again.audit.verify()).toEqual({ ok: true, records: 1 });
    await again.close();
    withConnection(path, (db) => {
      // openStorage opens the watcher's incidents too (their own component, one migration).
      expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({
        n: MIGRATIONS + SQLITE_INCIDENT_MIGRATIONS.length,
      });
    });
  });

  it('migration 4 rebuilds an existing table for shadow states, keeping every row and column', async () => {
    const path = nextPath();
    mkdirSync(dirname(path), { recursive: true });
    withConnection(path, (db) => migrateSqlite(db, 'sessions', SQLITE_SESSION_MIGRATIONS.slice(0, 3)));
    withConnection(path, (db) => {
      db.prepare(
        `INSERT INTO sessions (id, state, phase, created_at, updated_at, actor, input, output, approvals, results, version, category)
         VALUES ('old', 'verified', 'done', '2026-11-01T08:00:00.000Z', '2026-11-01T08:01:00.000Z', 'a', ?, ?, '[]', '[]', 3, 'oom-killed')`,
      ).run(JSON.stringify(newSession().input), JSON.stringify(SAMPLE_OUTPUT));
      expect(() =>
        db.exec(
          `INSERT INTO sessions (id, state, phase, created_at, updated_at, actor, input, approvals, results, version) VALUES ('x', 'observing', 'done', '2026-11-01T08:00:00.000Z', '2026-11-01T08:00:00.000Z', 'a', '{}', '[]', '[]', 1)`,
        ),
      ).toThrow(/CHECK constraint/);
    });
    const store = new SqliteSessionStore(path);
    try {
      expect(await store.get('old')).toMatchObject({ state: 'verified', version: 3, output: SAMPLE_OUTPUT });
      const observing = await store.create(newSession({ state: 'observing' }));
      expect((await store.list({ state: 'observing' })).map((session) => session.id)).toEqual([observing.id]);
    } finally {
      await store.close();
    }
    withConnection(path, (db) => {
      expect(db.prepare("SELECT category FROM sessions WHERE id = 'old'").get()).toEqual({
        category: 'oom-killed',
      });
      const indexes = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all();
      expect(indexes.map((row) => (row as { name: string }).name)).toEqual([
        'sessions_category_created',
        'sessions_created',
        'sessions_namespace_created',
        'sessions_state_created',
        'sessions_state_updated',
        'sessions_unfinished',
      ]);
    });
  });

  it('refuses a database migrated by a newer kubemend', async () => {
    const path = nextPath();
    await new SqliteSessionStore(path).close();
    withConnection(path, (db) =>
      db.exec(
        "INSERT INTO schema_migrations (component, version, name, applied_at) VALUES ('sessions', 99, 'from the future', '2030-01-01T00:00:00.000Z')",
      ),
    );
    expect(() => new SqliteSessionStore(path)).toThrow(KubemendError);
    expect(() => new SqliteSessionStore(path)).toThrow(/migration 99, newer than this kubemend knows/);
  });

  it('opening the same new file from several processes at once migrates it exactly once', async () => {
    const path = nextPath();
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => runChild(['open', path])));
    for (const outcome of outcomes) expect(outcome.code, outcome.stderr).toBe(0);
    withConnection(path, (db) => {
      expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS });
    });
  });

  it('names a record whose detail is no longer JSON, and keeps walking the chain', async () => {
    const path = nextPath();
    const recorder = new SqliteAuditRecorder(path);
    for (let i = 1; i <= 3; i++) await recorder.record(auditEntry(i));
    withConnection(path, (db) => {
      db.exec('DROP TRIGGER audit_records_no_update');
      db.exec("UPDATE audit_records SET detail = 'not json' WHERE sequence = 2");
    });
    expect(await recorder.verify()).toEqual({
      ok: false,
      records: 3,
      firstBroken: { sequence: 2, reason: expect.stringMatching(/^the record cannot be read: /) as unknown },
    });
    await expect(recorder.list()).rejects.toMatchObject({ code: 'audit-unavailable' });
    await recorder.close();
  });

  it('works on `:memory:` for throw-away use', async () => {
    const storage = await openStorage({ driver: 'sqlite', path: ':memory:' });
    const created = await storage.sessions.create(approvedSession());
    expect(await storage.sessions.transition(created.id, ['approved'], 'executing')).toBeDefined();
    await storage.audit.record(auditEntry(1));
    expect(await storage.audit.verify()).toEqual({ ok: true, records: 1 });
    await storage.close();
  });
});

describe('SQLite storage: separate processes', () => {
  it('20 transitions approved → executing from 4 processes at once: exactly one wins', async () => {
    const path = nextPath();
    const store = new SqliteSessionStore(path);
    for (let round = 0; round < 3; round++) {
      const created = await store.create(approvedSession());
      const startAt = String(Date.now() + 3000);
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, (_, p) =>
          runChild(['transition', path, created.id, '5', startAt, `process-${p}`]),
        ),
      );
      let won = 0;
      for (const outcome of outcomes) {
        expect(outcome.code, outcome.stderr).toBe(0);
        won += (JSON.parse(outcome.stdout) as { won: number }).won;
      }
      expect(won, `round ${round}`).toBe(1);
      expect(await store.get(created.id)).toMatchObject({ state: 'executing', version: 2 });
    }
    await store.close();
  });

  it('4 processes appending at once produce one valid chain', async () => {
    const path = nextPath();
    const recorder = new SqliteAuditRecorder(path);
    const startAt = String(Date.now() + 3000);
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, p) => runChild(['append', path, '50', startAt, `process-${p}`])),
    );
    const sequences: number[] = [];
    for (const outcome of outcomes) {
      expect(outcome.code, outcome.stderr).toBe(0);
      sequences.push(...(JSON.parse(outcome.stdout) as { sequences: number[] }).sequences);
    }
    expect(sequences.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await recorder.verify()).toEqual({ ok: true, records: 200 });
    await recorder.close();
  });

  it('a writer killed with SIGKILL mid-loop loses nothing it had acknowledged', async () => {
    const path = nextPath();
    const acknowledged = await runUntilKilled(path, 400);
    expect(acknowledged.audit.size).toBeGreaterThanOrEqual(400);

    // A fresh process (this one never had the file open) reads what the killed one left.
    const recorder = new SqliteAuditRecorder(path);
    const sessions = new SqliteSessionStore(path);
    const verdict = await recorder.verify();
    expect(verdict.ok, JSON.stringify(verdict.firstBroken)).toBe(true);
    const stored = new Map((await recorder.list()).map((record) => [record.sequence, record.hash]));
    for (const [sequence, hash] of acknowledged.audit)
      expect(stored.get(sequence), `record ${sequence}`).toBe(hash);
    for (const id of acknowledged.sessions) expect(await sessions.get(id), `session ${id}`).toBeDefined();
    // The log goes on from where it stopped.
    const next = await recorder.record(auditEntry(1));
    expect(next.sequence).toBe(verdict.records + 1);
    expect(await recorder.verify()).toEqual({ ok: true, records: verdict.records + 1 });
    await recorder.close();
    await sessions.close();
  });
});

interface ChildOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const CHILD = join(REPO_ROOT, 'test/storage/sqlite-child.ts');

function runChild(args: string[]): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts a child that creates sessions and appends records forever, printing each one after its
 * promise resolved; kills it with SIGKILL once `atLeast` records were acknowledged.
 */
function runUntilKilled(
  path: string,
  atLeast: number,
): Promise<{ audit: Map<number, string>; sessions: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'durability', path], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const audit = new Map<number, string>();
    const sessions: string[] = [];
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, key, value] = line.split(' ');
        if (kind === 'audit' && key !== undefined && value !== undefined) audit.set(Number(key), value);
        if (kind === 'session' && key !== undefined) sessions.push(key);
      }
      if (!killed && audit.size >= atLeast) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (code ${code}): ${stderr}`));
      else resolve({ audit, sessions });
    });
  });
}
