/** SQLite plumbing shared by the session store and the audit log: opening a file, migrations. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Outcome } from './group-commit.js';
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
