/**
 * What the SQLite and PostgreSQL stores (sessions here, audit in src/audit) share: opening a
 * SQLite file with the right pragmas, numbered migrations recorded in `schema_migrations`, the
 * PostgreSQL advisory-lock keys, and timestamp normalisation.
 *
 * Migrations are numbered per component (`sessions`, `audit`), so both stores can live in one
 * database file or schema without coordinating their numbers. A database that has a migration
 * newer than this code knows is refused rather than used.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { PoolClient } from 'pg';
import { escapeIdentifier } from 'pg';
import { KubemendError } from '../domain/errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

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

/** Validates a PostgreSQL schema name and returns it quoted for use in SQL. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new KubemendError(
      'configuration-invalid',
      `PostgreSQL schema "${schema}" must be lower-case letters, digits and underscores (at most 63)`,
    );
  }
  return escapeIdentifier(schema);
}

/**
 * The two 32-bit keys of a transaction-scoped advisory lock for one purpose in one schema
 * (`pg_advisory_xact_lock(k1, k2)`): replicas sharing a schema contend; other schemas do not.
 */
export function advisoryLockKeys(schema: string, purpose: 'migrations' | 'audit-append'): [number, number] {
  const bytes = createHash('sha256').update(`kubemend:${schema}:${purpose}`).digest();
  return [0x6b6d, bytes.readInt32BE(0)];
}

/**
 * Applies the component's missing migrations in one transaction under an advisory lock, so
 * replicas starting together apply each migration exactly once (the lock is released by COMMIT or
 * ROLLBACK, also when the connection dies).
 */
export async function migratePostgres(
  client: PoolClient,
  schema: string,
  component: string,
  migrations: readonly Migration[],
): Promise<void> {
  checkNumbering(component, migrations);
  const qualified = quoteSchema(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', advisoryLockKeys(schema, 'migrations'));
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${qualified}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${qualified}.schema_migrations (
      component  text        NOT NULL,
      version    integer     NOT NULL,
      name       text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version)
    )`);
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${qualified}.schema_migrations WHERE component = $1`,
      [component],
    );
    const applied = rows.map((row) => row.version);
    refuseNewer(component, applied, migrations);
    for (const migration of migrations) {
      if (applied.includes(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${qualified}.schema_migrations (component, version, name) VALUES ($1, $2, $3)`,
        [component, migration.version, migration.name],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function checkNumbering(component: string, migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new KubemendError(
        'internal',
        `${component} migrations must be numbered 1, 2, 3, ...: found ${migration.version} at position ${index + 1}`,
      );
    }
  });
}

function refuseNewer(component: string, applied: readonly number[], migrations: readonly Migration[]): void {
  const newest = Math.max(0, ...applied);
  if (newest > migrations.length) {
    throw new KubemendError(
      'configuration-invalid',
      `the database's ${component} schema is at migration ${newest}, newer than this kubemend knows ` +
        `(${migrations.length}); run a kubemend at least as new as the one that migrated it`,
    );
  }
}

/**
 * A timestamp in the one form both stores keep: ISO 8601 in UTC with milliseconds
 * (`Date#toISOString`), which sorts correctly as text.
 */
export function normalizeTimestamp(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new KubemendError('invalid-input', `${field}: "${value}" is not a timestamp`);
  return new Date(time).toISOString();
}

/** A limit from a query: undefined for none, otherwise a non-negative integer. */
export function normalizeLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new KubemendError('invalid-input', `limit: must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** The `code` of a driver error (`SQLITE_CONSTRAINT_UNIQUE`, PostgreSQL's `23505`), if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** The constraint a PostgreSQL error names, if any. */
export function errorConstraint(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'constraint' in error) {
    const { constraint } = error as { constraint: unknown };
    return typeof constraint === 'string' ? constraint : undefined;
  }
  return undefined;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
