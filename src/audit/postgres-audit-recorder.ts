/**
 * The audit log in PostgreSQL, shared by every replica: an append-only table of hash-chained
 * records plus a one-row chain head (last sequence and hash).
 *
 * An append is part of a transaction of the write queue (`PostgresWriteQueue`, group commit): it
 * takes `pg_advisory_xact_lock` for this schema's log, then — in a separate statement, so its READ
 * COMMITTED snapshot is taken after the lock is held and sees the previous appender's commit — the
 * append reads the head, inserts the record and moves the head. The lock is held until COMMIT, so
 * appenders on any number of connections and replicas run one after another and each links to the
 * record committed just before it: one linear chain, never a fork.
 *
 * Triggers refuse UPDATE, DELETE and TRUNCATE on the records (append-only against accidents); the
 * hash chain is what detects deliberate tampering by someone able to disable them.
 */
import type { Pool, PoolClient } from 'pg';
import { KubemendError } from '../domain/errors.js';
import type { Migration } from '../storage/migrations.js';
import {
  advisoryLockKeys,
  migratePostgres,
  poolFromOptions,
  type PostgresStoreOptions,
  PostgresWriteQueue,
  quoteSchema,
  withClient,
} from '../storage/postgres.js';
import { normalizeLimit, normalizeTimestamp } from '../storage/values.js';
import {
  AUDIT_COLUMNS,
  auditConditions,
  type AuditRowDecoders,
  type AuditStore,
  auditUnavailable,
  ChainVerifier,
  describeEntries,
  recordFromRow,
  recordValues,
  rowsInPages,
  sealRecord,
  toJsonLine,
} from './audit-store.js';
import {
  type AuditEntry,
  type AuditQuery,
  type AuditRecord,
  type ChainVerification,
  GENESIS_HASH,
  type VerifiedPoint,
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

export interface PostgresAuditOptions extends PostgresStoreOptions {
  /** The write queue to append through (the session store's, so changes and records commit together). */
  readonly queue?: PostgresWriteQueue;
}

export class PostgresAuditRecorder implements AuditStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly records: string;
  private readonly head: string;
  private readonly queue: PostgresWriteQueue;
  private readonly clock: () => Date;
  private closed = false;

  private constructor(pool: Pool, ownsPool: boolean, schema: string, options: PostgresAuditOptions) {
    this.pool = pool;
    this.ownsPool = ownsPool;
    const s = quoteSchema(schema);
    this.records = `${s}.audit_records`;
    this.head = `${s}.audit_head`;
    this.queue = options.queue ?? writeQueueFor(pool, schema);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Connects and migrates; fails with `audit-unavailable` if the database cannot be reached. */
  static async open(options: PostgresAuditOptions): Promise<PostgresAuditRecorder> {
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
    return new PostgresAuditRecorder(pool, owned, schema, options);
  }

  async record(entry: AuditEntry): Promise<AuditRecord> {
    const [record] = await this.recordAll([entry]);
    return record!;
  }

  /** Appends in the next group commit of the write queue. */
  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    try {
      this.assertOpen();
      return await this.queue.run((client) => this.appendInTransaction(client, entries));
    } catch (error) {
      throw auditUnavailable(STORE, `append ${describeEntries(entries)}`, error);
    }
  }

  /**
   * Appends `entries` in order on `client`, inside a transaction of the write queue — which holds
   * the chain's advisory lock, so the head read here is the one the previous append committed.
   */
  async appendInTransaction(client: PoolClient, entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    try {
      const { rows } = await client.query<{ sequence: string; hash: string }>(
        `SELECT sequence, hash FROM ${this.head} WHERE id = 1`,
      );
      const head = rows[0];
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
    } catch (error) {
      throw auditUnavailable(STORE, `append ${describeEntries(entries)}`, error);
    }
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const { where, values } = auditConditions(query, (n) => `$${n}`);
    values.push(normalizeLimit(query.limit) ?? null);
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
   * Walks the chain in sequence order — all of it, or (incremental) what follows `from` — a page
   * at a time inside one REPEATABLE READ transaction: the head and every page come from the same
   * snapshot while appends go on.
   */
  async verify(from?: VerifiedPoint): Promise<ChainVerification> {
    try {
      this.assertOpen();
      return await withClient(this.pool, async (client) => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          const verifier = new ChainVerifier(from);
          const { rows: heads } = await client.query<{ sequence: string; hash: string }>(
            `SELECT sequence, hash FROM ${this.head} WHERE id = 1`,
          );
          const after = from?.sequence ?? 0;
          if (after > 0) {
            const { rows } = await client.query<Row>(`SELECT * FROM ${this.records} WHERE sequence = $1`, [
              after,
            ]);
            verifier.anchor(rows[0] === undefined ? undefined : recordFromRow(rows[0], DECODE));
          }
          for await (const row of rowsInPages((start, size) => this.page(client, start, size), after))
            verifier.pushRow(row, DECODE);
          const head = heads[0];
          return verifier.finish(
            head === undefined ? null : { sequence: Number(head.sequence), hash: head.hash },
          );
        } finally {
          await client.query('COMMIT');
        }
      });
    } catch (error) {
      throw auditUnavailable(STORE, 'verify the chain', error);
    }
  }

  async *exportJsonLines(): AsyncIterable<string> {
    try {
      this.assertOpen();
      for await (const row of rowsInPages((after, size) => this.page(this.pool, after, size)))
        yield toJsonLine(recordFromRow(row, DECODE));
    } catch (error) {
      throw auditUnavailable(STORE, 'export records', error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  private async page(on: Pool | PoolClient, after: number, size: number): Promise<Row[]> {
    const { rows } = await on.query<Row>(
      `SELECT * FROM ${this.records} WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
      [after, size],
    );
    return rows;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the audit recorder is closed');
  }
}

/** A write queue on `pool` for `schema`, holding the audit chain's lock. */
export function writeQueueFor(pool: Pool, schema: string): PostgresWriteQueue {
  return new PostgresWriteQueue(pool, advisoryLockKeys(schema, 'audit-append'));
}
