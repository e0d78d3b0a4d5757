/**
 * The audit log in PostgreSQL, shared by every replica: an append-only table of hash-chained
 * records plus a one-row chain head (last sequence and hash).
 *
 * An append is one transaction: take `pg_advisory_xact_lock` for this schema's log, then — in a
 * separate statement, so its READ COMMITTED snapshot is taken after the lock is held and sees the
 * previous appender's commit — read the head, then insert the record and move the head. The lock is
 * held until COMMIT, so appenders on any number of connections and replicas run one after another
 * and each links to the record committed just before it: one linear chain, never a fork.
 *
 * Triggers refuse UPDATE, DELETE and TRUNCATE on the records (append-only against accidents); the
 * hash chain is what detects deliberate tampering by someone able to disable them.
 */
import type { Pool, PoolClient, QueryResult } from 'pg';
import { KubemendError } from '../domain/errors.js';
import type { Migration } from '../storage/migrations.js';
import {
  advisoryLockKeys,
  migratePostgres,
  poolFromOptions,
  type PostgresStoreOptions,
  quoteSchema,
  withClient,
} from '../storage/postgres.js';
import { normalizeLimit, normalizeTimestamp } from '../storage/values.js';
import {
  AUDIT_COLUMNS,
  type AuditRowDecoders,
  type AuditStore,
  auditUnavailable,
  ChainVerifier,
  PAGE_SIZE,
  recordFromRow,
  recordValues,
  sealRecord,
  toJsonLine,
} from './audit-store.js';
import {
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
  type ChainVerification,
  GENESIS_HASH,
} from './recorder.js';

/** Migrations for the schema `s` (already quoted). */
export function postgresAuditMigrations(s: string): readonly Migration[] {
  return [
    {
      version: 1,
      name: 'create audit_records and audit_head',
      sql: `
        CREATE TABLE ${s}.audit_records (
          sequence      bigint         NOT NULL CHECK (sequence >= 1),
          at            timestamptz(3) NOT NULL,
          type          text           NOT NULL,
          actor         text           NOT NULL,
          session_id    text,
          action_id     text,
          target        text,
          before_digest text,
          after_digest  text,
          detail        json,
          previous_hash text           NOT NULL,
          hash          text           NOT NULL,
          CONSTRAINT audit_records_pkey PRIMARY KEY (sequence)
        );
        CREATE INDEX audit_records_session ON ${s}.audit_records (session_id, sequence);
        CREATE INDEX audit_records_at ON ${s}.audit_records (at);
        CREATE TABLE ${s}.audit_head (
          id       smallint NOT NULL CHECK (id = 1),
          sequence bigint   NOT NULL,
          hash     text     NOT NULL,
          CONSTRAINT audit_head_pkey PRIMARY KEY (id)
        );
        INSERT INTO ${s}.audit_head (id, sequence, hash) VALUES (1, 0, '${GENESIS_HASH}');
        CREATE FUNCTION ${s}.audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP;
        END
        $$;
        CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON ${s}.audit_records
          FOR EACH ROW EXECUTE FUNCTION ${s}.audit_records_append_only();
        CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON ${s}.audit_records
          FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_records_append_only();
      `,
    },
  ];
}

const DECODE: AuditRowDecoders = {
  json: (value) => value,
  timestamp: (value) =>
    value instanceof Date ? value.toISOString() : normalizeTimestamp(String(value), 'at'),
};

type Row = Record<string, unknown>;

const STORE = 'PostgreSQL';

export class PostgresAuditRecorder implements AuditStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly records: string;
  private readonly head: string;
  private readonly lockKeys: [number, number];
  private readonly clock: () => Date;
  private closed = false;

  private constructor(pool: Pool, ownsPool: boolean, schema: string, clock: () => Date) {
    this.pool = pool;
    this.ownsPool = ownsPool;
    const s = quoteSchema(schema);
    this.records = `${s}.audit_records`;
    this.head = `${s}.audit_head`;
    this.lockKeys = advisoryLockKeys(schema, 'audit-append');
    this.clock = clock;
  }

  /** Connects and migrates; fails with `audit-unavailable` if the database cannot be reached. */
  static async open(options: PostgresStoreOptions): Promise<PostgresAuditRecorder> {
    const schema = options.schema ?? 'public';
    const quoted = quoteSchema(schema);
    const { pool, owned } = poolFromOptions(options, 'kubemend-audit');
    try {
      await withClient(pool, (client) =>
        migratePostgres(client, schema, 'audit', postgresAuditMigrations(quoted)),
      );
    } catch (error) {
      if (owned) await pool.end().catch(() => undefined);
      // A schema newer than this code stays a configuration error: retrying will not help.
      throw error instanceof KubemendError ? error : auditUnavailable(STORE, 'open the audit log', error);
    }
    return new PostgresAuditRecorder(pool, owned, schema, options.clock ?? (() => new Date()));
  }

  async record(entry: AuditEntry): Promise<AuditRecord> {
    const [record] = await this.append([entry], `append a ${entry.type} record`);
    return record!;
  }

  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    return this.append(entries, `append ${entries.length} records`);
  }

  /** Appends in one transaction under the chain lock, so the chain never forks. */
  private async append(entries: readonly AuditEntry[], what: string): Promise<AuditRecord[]> {
    // One round trip opens the transaction, waits for the lock and reads the head. In a
    // multi-statement query each statement still takes its own snapshot (READ COMMITTED), so the
    // head is read after the lock is held. The keys are integers computed here, safe to inline.
    const [k1, k2] = this.lockKeys;
    const begin =
      `BEGIN; SELECT pg_advisory_xact_lock(${k1}, ${k2}); ` +
      `SELECT sequence, hash FROM ${this.head} WHERE id = 1`;
    try {
      return await this.inTransaction(begin, async (client, begun) => {
        const results = begun as unknown as QueryResult<{ sequence: string; hash: string }>[];
        const head = results.at(-1)?.rows[0];
        if (head === undefined) throw new Error('the chain head row is missing');
        let previous = Number(head.sequence);
        let previousHash = head.hash;
        const records: AuditRecord[] = [];
        for (const entry of entries) {
          const record = sealRecord(entry, previous + 1, this.clock().toISOString(), previousHash);
          const moved = await client.query(
            `WITH appended AS (
               INSERT INTO ${this.records} (${AUDIT_COLUMNS.join(', ')})
               VALUES (${AUDIT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
               RETURNING sequence, hash
             )
             UPDATE ${this.head} SET sequence = appended.sequence, hash = appended.hash
             FROM appended WHERE id = 1 AND ${this.head}.sequence = $${AUDIT_COLUMNS.length + 1}`,
            [...recordValues(record), previous],
          );
          if (moved.rowCount !== 1) throw new Error('the chain head moved during the append');
          records.push(record);
          previous = record.sequence;
          previousHash = record.hash;
        }
        return records;
      });
    } catch (error) {
      throw auditUnavailable(STORE, what, error);
    }
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (query.sessionId !== undefined) {
      values.push(query.sessionId);
      conditions.push(`session_id = $${values.length}`);
    }
    if (query.since !== undefined) {
      values.push(normalizeTimestamp(query.since, 'since'));
      conditions.push(`at >= $${values.length}`);
    }
    values.push(normalizeLimit(query.limit) ?? null);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    try {
      this.assertOpen();
      const { rows } = await this.pool.query<Row>(
        `SELECT * FROM ${this.records} ${where} ORDER BY sequence LIMIT $${values.length}`,
        values,
      );
      return rows.map((row) => recordFromRow(row, DECODE));
    } catch (error) {
      throw auditUnavailable(STORE, 'list records', error);
    }
  }

  /**
   * Walks the whole chain in sequence order, a page at a time, inside one REPEATABLE READ
   * transaction: the head and every page come from the same snapshot while appends go on.
   */
  async verify(): Promise<ChainVerification> {
    try {
      return await this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
        const verifier = new ChainVerifier();
        const { rows: heads } = await client.query<{ sequence: string; hash: string }>(
          `SELECT sequence, hash FROM ${this.head} WHERE id = 1`,
        );
        let after = 0;
        for (;;) {
          const { rows } = await client.query<Row>(
            `SELECT * FROM ${this.records} WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
            [after, PAGE_SIZE],
          );
          for (const row of rows) verifier.push(recordFromRow(row, DECODE));
          const last = rows.at(-1);
          if (last === undefined || rows.length < PAGE_SIZE) break;
          after = Number(last['sequence']);
        }
        const head = heads[0];
        return verifier.finish(
          head === undefined ? null : { sequence: Number(head.sequence), hash: head.hash },
        );
      });
    } catch (error) {
      throw auditUnavailable(STORE, 'verify the chain', error);
    }
  }

  async *exportJsonLines(): AsyncIterable<string> {
    let after = 0;
    for (;;) {
      let rows: Row[];
      try {
        this.assertOpen();
        ({ rows } = await this.pool.query<Row>(
          `SELECT * FROM ${this.records} WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
          [after, PAGE_SIZE],
        ));
      } catch (error) {
        throw auditUnavailable(STORE, 'export records', error);
      }
      for (const row of rows) yield toJsonLine(recordFromRow(row, DECODE));
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_SIZE) return;
      after = Number(last['sequence']);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the audit recorder is closed');
  }

  private async inTransaction<T>(
    begin: string,
    operation: (client: PoolClient, begun: QueryResult) => Promise<T>,
  ): Promise<T> {
    this.assertOpen();
    const client = await this.pool.connect();
    try {
      const begun = await client.query(begin);
      const result = await operation(client, begun);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A connection that failed mid-transaction is not trusted again.
      client.release(true);
      throw error;
    }
  }
}
