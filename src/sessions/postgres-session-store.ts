/**
 * SessionStore on PostgreSQL (`pg` Pool): for several replicas sharing state.
 *
 * Every write is one statement — with its audit records, in one transaction of the group-commit
 * queue (`PostgresWriteQueue`). `transition` is one `UPDATE ... WHERE id = $1 AND state = ANY($2) RETURNING *`. Under READ
 * COMMITTED, a second UPDATE of the same row waits for the first to commit and then re-evaluates
 * its WHERE clause against the row the first one wrote: the state no longer matches, so it
 * changes nothing and returns no row. Of any number of concurrent transitions from the same
 * state, on any number of connections or replicas, exactly one wins. `update` is the same with
 * `version = $n` as the condition (optimistic concurrency).
 */
import type { Pool } from 'pg';
import { PostgresAuditRecorder, writeQueueFor } from '../audit/postgres-audit-recorder.js';
import type { AuditEntry } from '../audit/recorder.js';
import { KubemendError } from '../domain/errors.js';
import type { Migration } from '../storage/migrations.js';
import {
  migratePostgres,
  poolFromOptions,
  type PostgresStoreOptions,
  type PostgresWriteQueue,
  quoteSchema,
  withClient,
} from '../storage/postgres.js';
import { describeError, errorCode, errorConstraint, normalizeTimestamp } from '../storage/values.js';
import { companionMigrations } from './companion-sql.js';
import { mcpSessionMigrations } from './mcp-session-records.js';
import { postgresLearningMigrations } from './outcome-rows.js';
import { type FollowingStatement, type Row, type SqlDialect, SqlSessionStore } from './sql-session-store.js';
import { FIRST_SESSION_STATES, SESSION_STATES, sqlList } from './store.js';

const STATE_LIST = sqlList(SESSION_STATES);
const FIRST_STATE_LIST = sqlList(FIRST_SESSION_STATES);

/** Migrations for the schema `s` (already quoted). */
export function postgresSessionMigrations(s: string): readonly Migration[] {
  return [
    {
      version: 1,
      name: 'create sessions',
      sql: `
        CREATE TABLE ${s}.sessions (
          id              text           NOT NULL,
          state           text           NOT NULL CHECK (state IN (${FIRST_STATE_LIST})),
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
      name: 'index unfinished sessions (reconciliation of unanswered requests)',
      sql: `CREATE INDEX sessions_unfinished ON ${s}.sessions (state, updated_at) WHERE phase <> 'done'`,
    },
    {
      version: 3,
      name: 'namespace and category columns for list filters',
      // Filled row by row, \u0000 escapes removed first (PostgreSQL's json operators refuse
      // them); a row that still cannot be read keeps NULLs (filters then pass it by).
      sql: `
        ALTER TABLE ${s}.sessions
          ADD COLUMN target_namespace text,
          ADD COLUMN subject_namespace text,
          ADD COLUMN category text;
        DO $backfill$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT id, input::text AS input, output::text AS output FROM ${s}.sessions LOOP
            BEGIN
              UPDATE ${s}.sessions SET
                target_namespace  = replace(r.input, '\\u0000', '')::json->'target'->>'namespace',
                subject_namespace = replace(r.output, '\\u0000', '')::json->'analysis'->'subject'->>'namespace',
                category          = replace(r.output, '\\u0000', '')::json->'analysis'->>'category'
              WHERE id = r.id;
            EXCEPTION WHEN OTHERS THEN NULL;
            END;
          END LOOP;
        END
        $backfill$;
        CREATE INDEX sessions_namespace_created
          ON ${s}.sessions ((COALESCE(subject_namespace, target_namespace)), created_at);
        CREATE INDEX sessions_category_created ON ${s}.sessions (category, created_at);
        CREATE INDEX sessions_state_created ON ${s}.sessions (state, created_at, id);
      `,
    },
    {
      version: 4,
      name: 'shadow sessions: states observing and observed, the shadow column (ADR 0035)',
      sql: `
        ALTER TABLE ${s}.sessions ADD COLUMN shadow json;
        ALTER TABLE ${s}.sessions DROP CONSTRAINT sessions_state_check;
        ALTER TABLE ${s}.sessions ADD CONSTRAINT sessions_state_check CHECK (state IN (${STATE_LIST}));
      `,
    },
    {
      version: 5,
      name: 'sessions carry their cluster',
      sql: `ALTER TABLE ${s}.sessions ADD COLUMN cluster text;`,
    },
  ];
}

const dialect = (schema: string): SqlDialect => ({
  name: 'PostgreSQL',
  table: `${schema}.sessions`,
  qualify: (name) => `${schema}.${name}`,
  skipLocked: 'FOR UPDATE SKIP LOCKED',
  outcomesTable: `${schema}.outcomes`,
  decode: {
    json: (value) => value,
    timestamp: (value) =>
      value instanceof Date ? value.toISOString() : normalizeTimestamp(String(value), 'timestamp'),
  },
  placeholder: (n) => `$${n}`,
  timestamp: (n) => `$${n}::timestamptz`,
  oneOf: (column, n) => `${column} = ANY($${n}::text[])`,
  listValue: (values) => [...values],
  noLimit: null,
  uniqueViolation: (error) =>
    errorCode(error) !== '23505'
      ? undefined
      : errorConstraint(error) === 'sessions_pkey'
        ? 'id'
        : errorConstraint(error) === 'alert_incidents_pkey'
          ? 'alert-incident'
          : 'idempotency-key',
});

export class PostgresSessionStore extends SqlSessionStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly queue: PostgresWriteQueue;
  /** The audit log in the same schema, appending through the same write queue. */
  readonly audit: PostgresAuditRecorder;
  private closed = false;

  private constructor(
    pool: Pool,
    ownsPool: boolean,
    schema: string,
    queue: PostgresWriteQueue,
    audit: PostgresAuditRecorder,
    clock: () => Date,
  ) {
    super(dialect(quoteSchema(schema)), clock);
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.queue = queue;
    this.audit = audit;
  }

  /** Connects and migrates the schema (sessions and audit); fails if the database cannot be reached. */
  static async open(options: PostgresStoreOptions): Promise<PostgresSessionStore> {
    const schema = options.schema ?? 'public';
    const quoted = quoteSchema(schema);
    const { pool, owned } = poolFromOptions(options, 'kubemend-sessions');
    const queue = writeQueueFor(pool, schema);
    let audit: PostgresAuditRecorder;
    try {
      await withClient(pool, (client) =>
        migratePostgres(client, schema, 'sessions', postgresSessionMigrations(quoted)),
      );
      const companions = companionMigrations((name) => `${quoted}.${name}`);
      await withClient(pool, (client) =>
        migratePostgres(client, schema, 'notifications', companions.notifications),
      );
      await withClient(pool, (client) => migratePostgres(client, schema, 'alerts', companions.alerts));
      await withClient(pool, (client) =>
        migratePostgres(
          client,
          schema,
          'mcp',
          mcpSessionMigrations((name) => `${quoted}.${name}`),
        ),
      );
      await withClient(pool, (client) =>
        migratePostgres(client, schema, 'learning', postgresLearningMigrations(quoted)),
      );
      audit = await PostgresAuditRecorder.open({ ...options, pool, queue });
    } catch (error) {
      if (owned) await pool.end().catch(() => undefined);
      if (error instanceof KubemendError) throw error;
      throw new KubemendError(
        'internal',
        `session store (PostgreSQL): could not open the session store: ${describeError(error)}`,
        { cause: error },
      );
    }
    return new PostgresSessionStore(pool, owned, schema, queue, audit, options.clock ?? (() => new Date()));
  }

  protected async read(sql: string, values: readonly unknown[]): Promise<Row[]> {
    this.assertOpen();
    return (await this.pool.query<Row>(sql, [...values])).rows;
  }

  protected write(
    sql: string,
    values: readonly unknown[],
    audit: readonly AuditEntry[],
    after: readonly FollowingStatement[],
  ): Promise<Row[]> {
    this.assertOpen();
    return this.queue.run(async (client) => {
      const { rows } = await client.query<Row>(sql, [...values]);
      if (rows.length > 0) for (const next of after) await client.query(next.sql, [...next.values]);
      if (rows.length > 0 && audit.length > 0) await this.audit.appendInTransaction(client, audit);
      return rows;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.audit.close();
    if (this.ownsPool) await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the session store is closed');
  }
}
