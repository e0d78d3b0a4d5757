/**
 * PostgreSQL plumbing shared by the session store and the audit log: the Pool, one connection at
 * a time, schema names, advisory-lock keys and migrations under a lock.
 */
import { createHash } from 'node:crypto';
import { escapeIdentifier, Pool, type PoolClient } from 'pg';
import { KubemendError } from '../domain/errors.js';
import { GroupCommitQueue, type Outcome } from './group-commit.js';
import { checkNumbering, type Migration, refuseNewer } from './migrations.js';

export interface PostgresStoreOptions {
  /** Connection URL; a Pool is created and closed with the store. */
  readonly url?: string;
  /** An existing Pool to share (the store does not close it). */
  readonly pool?: Pool;
  /** Schema holding the tables (default `public`); created if missing. */
  readonly schema?: string;
  /** Size of the Pool created from `url` (default 10). */
  readonly maxConnections?: number;
  readonly clock?: () => Date;
}

/** A Pool from the options, and whether the caller must end it. */
export function poolFromOptions(
  options: PostgresStoreOptions,
  applicationName: string,
): { pool: Pool; owned: boolean } {
  if (options.pool !== undefined) return { pool: options.pool, owned: false };
  if (options.url === undefined) {
    throw new KubemendError('configuration-invalid', 'PostgreSQL storage needs a connection URL or a Pool');
  }
  const pool = new Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
  });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return { pool, owned: true };
}

/** Runs `operation` on one pooled connection, releasing it (and discarding it after an error). */
export async function withClient<T>(pool: Pool, operation: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const result = await operation(client);
    client.release();
    return result;
  } catch (error) {
    client.release(error instanceof Error ? error : true);
    throw error;
  }
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

/**
 * Group commit on PostgreSQL (see `GroupCommitQueue`): every write of the process is a unit (an
 * async function on one connection inside a transaction). A batch takes one connection, `BEGIN`,
 * the write lock of this schema (`pg_advisory_xact_lock`, the audit chain's lock, so writers on
 * every replica run one batch at a time and the chain never forks), runs each unit in its own
 * SAVEPOINT (a unit that fails rolls back alone), and one `COMMIT`. A unit's promise settles after
 * the commit.
 */
export class PostgresWriteQueue {
  private readonly queue: GroupCommitQueue<(client: PoolClient) => Promise<unknown>, unknown>;

  constructor(pool: Pool, lockKeys: [number, number]) {
    this.queue = new GroupCommitQueue((units) => runBatch(pool, lockKeys, units));
  }

  run<T>(unit: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.queue.run(unit) as Promise<T>;
  }
}

async function runBatch(
  pool: Pool,
  [k1, k2]: [number, number],
  units: ReadonlyArray<(client: PoolClient) => Promise<unknown>>,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let client: PoolClient | undefined;
  try {
    client = await pool.connect();
    await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${k1}, ${k2})`);
    const alone = units.length === 1;
    for (const unit of units) {
      if (!alone) await client.query('SAVEPOINT unit');
      try {
        const value = await unit(client);
        if (!alone) await client.query('RELEASE SAVEPOINT unit');
        outcomes.push({ ok: true, value });
      } catch (error) {
        // Alone, the failed unit fails the transaction, which is rolled back below.
        if (alone) throw error;
        await client.query('ROLLBACK TO SAVEPOINT unit');
        outcomes.push({ ok: false, error });
      }
    }
    await client.query('COMMIT');
    client.release();
    return outcomes;
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => undefined);
    // A connection that failed mid-transaction is not trusted again.
    client?.release(true);
    throw error;
  }
}
