/** SQLite plumbing shared by the session store and the audit log: opening a file, migrations. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { checkNumbering, type Migration, refuseNewer } from './migrations.js';

export type SqliteSynchronous = 'full' | 'normal';

export interface SqliteOpenOptions {
  /** How long a writer waits for another connection's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /**
   * `full` (default): every commit is fsynced, so an acknowledged write survives a power loss.
   * `normal`: in WAL mode survives a process crash but may lose the last commits on power loss.
   */
  readonly synchronous?: SqliteSynchronous;
}

const MEMORY = ':memory:';

/** Opens (creating the directory if needed) a SQLite database in WAL mode with a busy timeout. */
export function openSqliteDatabase(path: string, options: SqliteOpenOptions = {}): Database.Database {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (path !== MEMORY && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    if (path !== MEMORY && path !== '') {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') {
        throw new Error(`could not switch ${path} to WAL mode (journal_mode is ${String(mode)})`);
      }
    }
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  component  TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL,
  PRIMARY KEY (component, version)
)`;

/**
 * Applies the component's missing migrations in one IMMEDIATE transaction, so two processes
 * opening the same file at once apply each migration exactly once.
 */
export function migrateSqlite(
  db: Database.Database,
  component: string,
  migrations: readonly Migration[],
): void {
  checkNumbering(component, migrations);
  const apply = db.transaction(() => {
    db.exec(SQLITE_MIGRATIONS_TABLE);
    const applied = db
      .prepare<[string], { version: number }>('SELECT version FROM schema_migrations WHERE component = ?')
      .all(component)
      .map((row) => row.version);
    refuseNewer(component, applied, migrations);
    const record = db.prepare<[string, number, string, string]>(
      'INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)',
    );
    for (const migration of migrations) {
      if (applied.includes(migration.version)) continue;
      db.exec(migration.sql);
      record.run(component, migration.version, migration.name, new Date().toISOString());
    }
  });
  apply.immediate();
}

/** Units a group commit takes at most (a bound on how long one transaction holds the lock). */
export const MAX_BATCH = 512;

export type Outcome<R = unknown> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/**
 * A function running a batch of units on `db` in ONE IMMEDIATE transaction, each unit inside its
 * own SAVEPOINT (a unit that throws rolls back alone; the others still commit). It throws when
 * BEGIN or COMMIT fails — then nothing of the batch was written.
 */
export function batchRunner<U, R>(
  db: Database.Database,
  execute: (unit: U) => R,
): (units: readonly U[]) => Outcome<R>[] {
  // better-sqlite3 runs a transaction function called inside another as a SAVEPOINT.
  const savepoint = db.transaction((unit: U) => execute(unit));
  const batch = db.transaction((units: readonly U[]) =>
    units.map((unit): Outcome<R> => {
      try {
        return { ok: true, value: savepoint(unit) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
  return (units) => {
    if (!db.open) throw new Error('the database is closed');
    return batch.immediate(units);
  };
}

/**
 * Group commit. Every write of the process — a session change with its audit records, an audit
 * append, a lease renewal — is a unit. Units submitted during one turn of the event loop go to
 * `runBatch` together: one transaction, one commit (see `batchRunner`; `runBatch` may also hand the
 * batch to a writer thread). A unit's promise settles only after its batch has committed (or
 * failed): nothing is acknowledged before it is durable. Units run in submission order, so audit
 * records keep the order their writers asked for.
 */
export class SqliteWriteQueue<U, R> {
  private pending: Array<{
    readonly unit: U;
    readonly resolve: (value: R) => void;
    readonly reject: (error: unknown) => void;
  }> = [];
  private scheduled = false;

  constructor(private readonly runBatch: (units: readonly U[]) => Outcome<R>[] | Promise<Outcome<R>[]>) {}

  /** Runs `unit` in the next group commit; resolves with its value once that has committed. */
  run(unit: U): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ unit, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const taken = this.pending.splice(0, MAX_BATCH);
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
    if (taken.length === 0) return;
    let outcomes: Outcome<R>[];
    try {
      outcomes = await this.runBatch(taken.map((entry) => entry.unit));
    } catch (error) {
      // BEGIN or COMMIT failed (locked past the busy timeout, disk full): nothing was written.
      for (const entry of taken) entry.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const entry = taken[index]!;
      if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(outcome.error);
    });
  }
}
