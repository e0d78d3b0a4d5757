/**
 * SessionStore on PostgreSQL (`pg` Pool): for several replicas sharing state.
 *
 * `transition` is one `UPDATE ... WHERE id = $1 AND state = ANY($2) RETURNING *`. Under READ
 * COMMITTED, a second UPDATE of the same row waits for the first to commit and then re-evaluates
 * its WHERE clause against the row the first one wrote: the state no longer matches, so it
 * changes nothing and returns no row. Of any number of concurrent transitions from the same
 * state, on any number of connections or replicas, exactly one wins. `update` is the same with
 * `version = $n` as the condition (optimistic concurrency).
 */
import { Pool } from 'pg';
import { KubemendError } from '../domain/errors.js';
import { columnsForChanges, columnsForInsert, type RowDecoders, sessionFromRow } from './session-rows.js';
import type { Migration } from '../storage/migrations.js';
import {
  migratePostgres,
  poolFromOptions,
  type PostgresStoreOptions,
  quoteSchema,
  withClient,
} from '../storage/postgres.js';
import {
  describeError,
  errorCode,
  errorConstraint,
  normalizeLimit,
  normalizeTimestamp,
} from '../storage/values.js';
import {
  type NewSession,
  SESSION_STATES,
  type SessionChanges,
  type SessionQuery,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  TERMINAL_STATES,
  updateRefused,
} from './store.js';

const STATE_LIST = SESSION_STATES.map((state) => `'${state}'`).join(', ');

/** Migrations for the schema `s` (already quoted). */
export function postgresSessionMigrations(s: string): readonly Migration[] {
  return [
    {
      version: 1,
      name: 'create sessions',
      sql: `
        CREATE TABLE ${s}.sessions (
          id              text           NOT NULL,
          state           text           NOT NULL CHECK (state IN (${STATE_LIST})),
          phase           text           NOT NULL,
          created_at      timestamptz(3) NOT NULL,
          updated_at      timestamptz(3) NOT NULL,
          actor           text           NOT NULL,
          input           json           NOT NULL,
          output          json,
          plan_hash       text,
          approvals       json           NOT NULL,
          rejection       json,
          results         json           NOT NULL,
          idempotency_key text,
          request_hash    text,
          owner           text,
          version         integer        NOT NULL CHECK (version >= 1),
          CONSTRAINT sessions_pkey PRIMARY KEY (id),
          CONSTRAINT sessions_idempotency_key_unique UNIQUE (idempotency_key)
        );
        CREATE INDEX sessions_state_updated ON ${s}.sessions (state, updated_at);
        CREATE INDEX sessions_created ON ${s}.sessions (created_at);
      `,
    },
    {
      version: 2,
      name: 'sessions carry their cluster',
      sql: `ALTER TABLE ${s}.sessions ADD COLUMN cluster text;`,
    },
  ];
}

const DECODE: RowDecoders = {
  json: (value) => value,
  timestamp: (value) =>
    value instanceof Date ? value.toISOString() : normalizeTimestamp(String(value), 'timestamp'),
};

type Row = Record<string, unknown>;

export class PostgresSessionStore implements SessionStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly table: string;
  private readonly clock: () => Date;
  private closed = false;

  private constructor(pool: Pool, ownsPool: boolean, schema: string, clock: () => Date) {
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.table = `${quoteSchema(schema)}.sessions`;
    this.clock = clock;
  }

  /** Connects and migrates the schema; fails if the database cannot be reached. */
  static async open(options: PostgresStoreOptions): Promise<PostgresSessionStore> {
    const schema = options.schema ?? 'public';
    const quoted = quoteSchema(schema);
    const { pool, owned } = poolFromOptions(options, 'kubemend-sessions');
    try {
      await withClient(pool, (client) =>
        migratePostgres(client, schema, 'sessions', postgresSessionMigrations(quoted)),
      );
    } catch (error) {
      if (owned) await pool.end().catch(() => undefined);
      if (error instanceof KubemendError) throw error;
      throw failure('open the session store', error);
    }
    return new PostgresSessionStore(pool, owned, schema, options.clock ?? (() => new Date()));
  }

  async create(session: NewSession): Promise<SessionRecord> {
    const columns = columnsForInsert(session, this.now());
    const sql =
      `INSERT INTO ${this.table} (${columns.map((c) => c.column).join(', ')}, version) ` +
      `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}, 1) RETURNING *`;
    try {
      return this.decode(
        (
          await this.pool.query<Row>(
            sql,
            columns.map((c) => c.value),
          )
        ).rows[0],
      );
    } catch (error) {
      if (errorCode(error) === '23505') {
        const what =
          errorConstraint(error) === 'sessions_pkey'
            ? `session ${session.id} already exists`
            : `a session with idempotency key "${session.idempotencyKey ?? ''}" already exists`;
        throw new KubemendError('session-conflict', what, { cause: error });
      }
      throw failure('create the session', error);
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const rows = await this.query('read the session', `SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : this.decode(rows[0]);
  }

  async findByIdempotencyKey(key: string): Promise<SessionRecord | undefined> {
    const rows = await this.query(
      'read the session',
      `SELECT * FROM ${this.table} WHERE idempotency_key = $1`,
      [key],
    );
    return rows[0] === undefined ? undefined : this.decode(rows[0]);
  }

  async update(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord> {
    const { assignments, values } = this.assignments(changes);
    const n = values.length;
    const rows = await this.write(
      `UPDATE ${this.table} SET ${assignments} WHERE id = $${n + 1} AND version = $${n + 2} RETURNING *`,
      [...values, id, expectedVersion],
    );
    if (rows[0] !== undefined) return this.decode(rows[0]);
    throw updateRefused(id, expectedVersion, await this.get(id));
  }

  async transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes: SessionChanges = {},
  ): Promise<SessionRecord | undefined> {
    const { assignments, values } = this.assignments({ ...changes, state: to });
    const n = values.length;
    const rows = await this.write(
      `UPDATE ${this.table} SET ${assignments} WHERE id = $${n + 1} AND state = ANY($${n + 2}::text[]) RETURNING *`,
      [...values, id, [...from]],
    );
    if (rows[0] !== undefined) return this.decode(rows[0]);
    if ((await this.get(id)) === undefined) {
      throw new KubemendError('session-not-found', `session ${id} does not exist`);
    }
    return undefined;
  }

  async list(query: SessionQuery = {}): Promise<SessionRecord[]> {
    const limit = normalizeLimit(query.limit) ?? null;
    const rows =
      query.state === undefined
        ? await this.query(
            'list sessions',
            `SELECT * FROM ${this.table} ORDER BY created_at DESC, id DESC LIMIT $1`,
            [limit],
          )
        : await this.query(
            'list sessions',
            `SELECT * FROM ${this.table} WHERE state = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
            [query.state, limit],
          );
    return rows.map((row) => this.decode(row));
  }

  async purge(before: string): Promise<number> {
    const cutoff = normalizeTimestamp(before, 'before');
    try {
      const result = await this.pool.query(
        `DELETE FROM ${this.table} WHERE state = ANY($1::text[]) AND updated_at < $2`,
        [[...TERMINAL_STATES], cutoff],
      );
      return result.rowCount ?? 0;
    } catch (error) {
      throw failure('purge sessions', error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  private assignments(changes: SessionChanges): { assignments: string; values: (string | null)[] } {
    const columns = columnsForChanges(changes);
    // Every write is stamped by the store: a caller cannot make a session look older (and purgeable).
    const updatedAt = this.now();
    const values = [...columns.map((c) => c.value), updatedAt];
    const assignments = [
      ...columns.map((c, i) => `${c.column} = $${i + 1}`),
      `updated_at = $${columns.length + 1}`,
      'version = version + 1',
    ].join(', ');
    return { assignments, values };
  }

  private async write(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (error) {
      if (errorCode(error) === '23505') {
        throw new KubemendError('session-conflict', 'another session already has this idempotency key', {
          cause: error,
        });
      }
      throw failure('write the session', error);
    }
  }

  private async query(what: string, sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (error) {
      throw failure(what, error);
    }
  }

  private decode(row: Row | undefined): SessionRecord {
    if (row === undefined) throw new KubemendError('internal', 'the session store returned no row');
    return sessionFromRow(row, DECODE);
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

function failure(what: string, error: unknown): KubemendError {
  if (error instanceof KubemendError) return error;
  return new KubemendError(
    'internal',
    `session store (PostgreSQL): could not ${what}: ${describeError(error)}`,
    {
      cause: error,
    },
  );
}
